//! One path for every received message, whoever handed it to us (SMTP or IMAP):
//! store it whole first, then read, classify, de-duplicate and thread it. Each message
//! is handled on its own with a time budget, and anything that goes wrong with the
//! message itself puts it in quarantine with the reason, so it never holds up the
//! messages behind it and is never lost.

use std::sync::Arc;
use std::time::Duration;

use recourse_domain::{
    Actor, Body, Channel, Demeanor, EmailAddress, MessageKind, Priority, Status, Subject, TeamId,
    Ticket, TicketId,
};
use recourse_store::{
    InboundOutcome, MailState, NewAttachment, NewInboundMail, NewMessage, NewTicket, Store,
    StoreError,
};

use crate::classify::{BounceReport, Class, classify};
use crate::mime::{ParseError, ParsedMail, parse, sha256_hex};
use crate::thread::{subject_token, ticket_in_message_id};
use crate::{MailConfig, now};

/// What the store could not do; the message stays stored and is tried again.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Desk(#[from] recourse_desk::DeskError),
}

/// A message as a receiver hands it over.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// `smtp` or `imap`.
    pub source: &'static str,
    /// `MAIL FROM`; `Some("")` for the null return path.
    pub envelope_from: Option<String>,
    pub envelope_to: Vec<String>,
    pub raw: Vec<u8>,
}

/// The judge's reading of what the customer newly wrote (quotes stripped), in the
/// domain's terms; the same mapping the web API uses for portal messages.
fn demeanor_of(new_text: &str) -> Demeanor {
    recourse_judge::read(new_text).label.into()
}

/// The CPU-bound part of handling a message, done off the async threads.
struct Reading {
    parsed: ParsedMail,
    class: Class,
    new_text: String,
    demeanor: Option<Demeanor>,
}

fn read_message(raw: &[u8], envelope_from: Option<&str>) -> Result<Reading, ParseError> {
    let parsed = parse(raw)?;
    let class = classify(&parsed, envelope_from);
    let new_text = recourse_judge::new_text(&parsed.text);
    let demeanor = (class == Class::Person).then(|| demeanor_of(&new_text));
    Ok(Reading {
        parsed,
        class,
        new_text,
        demeanor,
    })
}

/// The pipeline's work on a message that needs no store: read and classify it, strip
/// quotes, judge it, and fit its subject and text to a ticket. Public for the fuzz
/// targets (`fuzz/`), which feed it arbitrary bytes.
#[doc(hidden)]
pub fn read_offline(
    raw: &[u8],
    envelope_from: Option<&str>,
) -> Result<(ParsedMail, Class, Option<Demeanor>, Subject, Body), ParseError> {
    let r = read_message(raw, envelope_from)?;
    let subject = fit_subject(r.parsed.subject.as_deref());
    let body = fit_body(&r.new_text);
    Ok((r.parsed, r.class, r.demeanor, subject, body))
}

/// Text cut to what a message body may hold, on a character boundary, without NULs.
fn fit_body(text: &str) -> Body {
    let mut text: String = text.replace('\0', "");
    if text.len() > Body::MAX_BYTES {
        let mut cut = Body::MAX_BYTES - 64;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[… the rest is in the original message]");
    }
    Body::parse(&text)
        .unwrap_or_else(|_| Body::parse("(This message has no text.)").expect("valid body"))
}

fn fit_subject(subject: Option<&str>) -> Subject {
    let clean: String = subject
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let clean: String = clean.chars().take(Subject::MAX_CHARS).collect();
    Subject::parse(&clean).unwrap_or_else(|_| Subject::parse("(no subject)").expect("valid"))
}

pub struct Pipeline {
    store: Arc<Store>,
    /// Received mail becomes tickets and messages through the desk's use cases.
    desk: recourse_desk::Desk,
    config: Arc<MailConfig>,
}

impl Pipeline {
    pub fn new(store: Arc<Store>, config: Arc<MailConfig>) -> Self {
        Pipeline {
            desk: recourse_desk::Desk::new(store.clone()),
            store,
            config,
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn config(&self) -> &MailConfig {
        &self.config
    }

    /// Stores the raw message; the receiver acknowledges it only after this returns.
    pub async fn receive(&self, incoming: Incoming) -> Result<i64, PipelineError> {
        let sha256 = sha256_hex(&incoming.raw);
        Ok(self
            .store
            .store_inbound_mail(NewInboundMail {
                source: incoming.source.to_owned(),
                envelope_from: incoming.envelope_from,
                envelope_to: incoming.envelope_to,
                raw: incoming.raw,
                sha256,
                now: now(),
            })
            .await?)
    }

    /// Stores and then handles a message; for tests, benchmarks and the IMAP poller.
    pub async fn deliver(
        &self,
        incoming: Incoming,
    ) -> Result<(i64, Option<MailState>), PipelineError> {
        let id = self.receive(incoming).await?;
        Ok((id, self.process(id).await?))
    }

    /// Handles stored messages nobody is working on (left by a crash, or handed back
    /// from quarantine). Returns how many it handled.
    pub async fn process_due(&self) -> Result<usize, PipelineError> {
        let ids = self.store.due_inbound_mail(now(), 100).await?;
        let mut done = 0;
        for id in ids {
            if self.process(id).await?.is_some() {
                done += 1;
            }
        }
        Ok(done)
    }

    /// Quarantines a stored message without reading it, for a receiver that already
    /// knows it cannot be handled (the IMAP poller keeps only an oversize message's
    /// header). `None` when another worker has it.
    pub async fn quarantine_received(
        &self,
        id: i64,
        reason: String,
    ) -> Result<Option<MailState>, PipelineError> {
        let lease = self.config.process_budget.as_millis() as i64;
        if self
            .store
            .claim_inbound_mail(id, now(), lease)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        self.quarantine(InboundOutcome::unread(id, now()), reason)
            .await
    }

    /// Handles one stored message. `None` when another worker has it or it is done.
    pub async fn process(&self, id: i64) -> Result<Option<MailState>, PipelineError> {
        let budget = self.config.process_budget;
        // Reading is cut off at the budget and the writes after it are short, so the
        // lease outlives any live worker; after a crash the message is due again soon.
        let lease = (budget + Duration::from_secs(5)).as_millis() as i64;
        let Some(mail) = self.store.claim_inbound_mail(id, now(), lease).await? else {
            return Ok(None);
        };
        let mut outcome = InboundOutcome::unread(id, now());
        if mail.raw.len() > self.config.max_message_bytes {
            return self
                .quarantine(
                    outcome,
                    format!(
                        "the message is {} bytes, over the limit of {} bytes",
                        mail.raw.len(),
                        self.config.max_message_bytes
                    ),
                )
                .await;
        }
        let envelope_from = mail.envelope_from.clone();
        let raw = mail.raw;
        let work =
            tokio::task::spawn_blocking(move || read_message(&raw, envelope_from.as_deref()));
        let reading = match tokio::time::timeout(budget, work).await {
            Ok(Ok(Ok(r))) => r,
            Ok(Ok(Err(e))) => {
                return self
                    .quarantine(outcome, format!("the message cannot be read: {e}"))
                    .await;
            }
            Ok(Err(e)) => {
                return self
                    .quarantine(outcome, format!("reading the message failed: {e}"))
                    .await;
            }
            Err(_) => {
                return self
                    .quarantine(
                        outcome,
                        format!(
                            "reading the message took longer than {} ms",
                            budget.as_millis()
                        ),
                    )
                    .await;
            }
        };
        let p = &reading.parsed;
        outcome.message_id = Some(
            p.message_id
                .clone()
                .unwrap_or_else(|| format!("sha256-{}@no-message-id.invalid", mail.sha256)),
        );
        outcome.from_address = p.from_address.clone();
        outcome.subject = p.subject.clone();
        outcome.body_text = Some(p.text.clone());
        if let Some(big) = p
            .attachments
            .iter()
            .find(|a| a.content.len() > self.config.max_attachment_bytes)
        {
            let reason = format!(
                "the attachment {} is {} bytes, over the limit of {} bytes",
                big.filename.as_deref().unwrap_or("(unnamed)"),
                big.content.len(),
                self.config.max_attachment_bytes
            );
            return self.quarantine(outcome, reason).await;
        }
        outcome.attachments = p
            .attachments
            .iter()
            .map(|a| NewAttachment {
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                sha256: a.sha256.clone(),
                content: a.content.clone(),
            })
            .collect();
        let message_id = outcome.message_id.clone().unwrap_or_default();
        if !self
            .store
            .claim_message_id(&message_id, id, outcome.now)
            .await?
        {
            outcome.state = MailState::Duplicate;
            outcome.attachments.clear();
            outcome.reason = Some(format!("Message-ID <{message_id}> was already received"));
            self.store.finish_inbound_mail(outcome).await?;
            return Ok(Some(MailState::Duplicate));
        }
        match &reading.class {
            Class::Person => {
                let envelope = (mail.envelope_from.as_deref(), mail.envelope_to.as_slice());
                self.person_wrote(&reading, envelope, outcome).await
            }
            Class::AutoReply { why } => {
                let ticket = self.thread_by_references(&p.references).await?;
                outcome.state = MailState::AutoReply;
                outcome.reason = Some(format!("automatic message ({why}); not answered"));
                if let Some(t) = ticket {
                    let note = format!(
                        "An automatic reply arrived from {} ({why}): {}",
                        p.from_address.as_deref().unwrap_or("an unknown sender"),
                        p.subject.as_deref().unwrap_or("(no subject)")
                    );
                    self.note(t, &note, &mut outcome).await?;
                }
                self.store.finish_inbound_mail(outcome).await?;
                Ok(Some(MailState::AutoReply))
            }
            Class::Bounce(report) => self.bounce(report, outcome).await,
        }
    }

    async fn quarantine(
        &self,
        mut outcome: InboundOutcome,
        reason: String,
    ) -> Result<Option<MailState>, PipelineError> {
        tracing::warn!(inbound = outcome.id, %reason, "mail quarantined");
        outcome.state = MailState::Quarantined;
        outcome.reason = Some(reason);
        outcome.attachments.clear();
        outcome.ticket_id = None;
        self.store.finish_inbound_mail(outcome).await?;
        Ok(Some(MailState::Quarantined))
    }

    /// A system note on the ticket, so agents see what arrived; a closed ticket takes
    /// no notes, and the record stays on the received message alone.
    async fn note(
        &self,
        ticket: TicketId,
        text: &str,
        outcome: &mut InboundOutcome,
    ) -> Result<(), PipelineError> {
        outcome.ticket_id = Some(ticket);
        match self
            .desk
            .add_message(NewMessage {
                ticket_id: ticket,
                kind: MessageKind::Note,
                channel: Channel::Email,
                author: Actor::System,
                body: fit_body(text),
                status: None,
                demeanor: None,
                now: outcome.now,
            })
            .await
        {
            Ok((m, _)) => {
                outcome.message_ref = Some(m.id);
                Ok(())
            }
            Err(recourse_desk::DeskError::Store(StoreError::Rule(_))) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The ticket a message refers to through its References/In-Reply-To.
    async fn thread_by_references(
        &self,
        references: &[String],
    ) -> Result<Option<TicketId>, PipelineError> {
        if references.is_empty() {
            return Ok(None);
        }
        if let Some(t) = self.store.thread_of(references).await? {
            return Ok(Some(t));
        }
        // Our own IDs name their ticket even if the sent record was lost with a node.
        for r in references.iter().rev() {
            if let Some(n) = ticket_in_message_id(r, &self.config.domain)
                && let Some(t) = self.store.ticket_by_number(n).await?
            {
                return Ok(Some(t.id));
            }
        }
        Ok(None)
    }

    async fn bounce(
        &self,
        report: &BounceReport,
        mut outcome: InboundOutcome,
    ) -> Result<Option<MailState>, PipelineError> {
        outcome.state = MailState::Bounce;
        outcome.bouncing = report
            .failed
            .iter()
            .map(|a| (a.clone(), report.reason.clone()))
            .collect();
        let failed = if report.failed.is_empty() {
            "an unnamed address".to_owned()
        } else {
            report.failed.join(", ")
        };
        outcome.reason = Some(format!("delivery report: {failed}: {}", report.reason));
        if let Some(t) = self.thread_by_references(&report.original_ids).await? {
            let note = format!(
                "Our mail to {failed} could not be delivered: {}",
                report.reason
            );
            self.note(t, &note, &mut outcome).await?;
        }
        self.store.finish_inbound_mail(outcome).await?;
        Ok(Some(MailState::Bounce))
    }

    async fn person_wrote(
        &self,
        reading: &Reading,
        (envelope_from, envelope_to): (Option<&str>, &[String]),
        mut outcome: InboundOutcome,
    ) -> Result<Option<MailState>, PipelineError> {
        let p = &reading.parsed;
        // Without a From header, the envelope sender is who we answer.
        let sender = p
            .from_address
            .clone()
            .or_else(|| envelope_from.filter(|a| !a.is_empty()).map(str::to_owned));
        let Some(address) = sender.and_then(|a| EmailAddress::parse(&a).ok()) else {
            return self
                .quarantine(
                    outcome,
                    "the message has no sender address we can answer".into(),
                )
                .await;
        };
        outcome.from_address = Some(address.as_str().to_owned());
        let text = if reading.new_text.trim().is_empty() {
            &p.text
        } else {
            &reading.new_text
        };
        let body = if text.trim().is_empty() {
            fit_body("(This message has no text; see its attachments.)")
        } else {
            fit_body(text)
        };
        let now = outcome.now;
        let name: Option<String> = p
            .from_name
            .as_ref()
            .map(|n| n.chars().filter(|c| !c.is_control()).collect());
        let customer = self
            .store
            .upsert_customer(&address, name.as_deref(), now)
            .await?;
        let mut ticket = self.thread_by_references(&p.references).await?;
        if ticket.is_none()
            && let Some(n) = p.subject.as_deref().and_then(subject_token)
            && let Some(t) = self.store.ticket_by_number(n).await?
            // A token is easy to guess: it threads only the ticket's own customer's mail.
            && t.customer_id == customer.id
        {
            ticket = Some(t.id);
        }
        let open: Option<Ticket> = match ticket {
            Some(t) => Some(self.store.get_ticket(t).await?).filter(|t| t.status != Status::Closed),
            None => None,
        };
        let actor = Actor::Customer(customer.id);
        if let Some(t) = open {
            let added = self
                .desk
                .add_message(NewMessage {
                    ticket_id: t.id,
                    kind: MessageKind::Inbound,
                    channel: Channel::Email,
                    author: actor,
                    body: body.clone(),
                    status: None,
                    demeanor: reading.demeanor,
                    now,
                })
                .await;
            match added {
                Ok((m, _)) => {
                    outcome.state = MailState::Threaded;
                    outcome.ticket_id = Some(t.id);
                    outcome.message_ref = Some(m.id);
                    self.store.finish_inbound_mail(outcome).await?;
                    return Ok(Some(MailState::Threaded));
                }
                // Closed in the meantime: the mail opens a new ticket below.
                Err(recourse_desk::DeskError::Store(StoreError::Rule(_))) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let created = self
            .desk
            .open_ticket(NewTicket {
                customer: customer.id.into(),
                subject: fit_subject(p.subject.as_deref()),
                body,
                need: None,
                priority: Priority::Normal,
                tags: Vec::new(),
                channel: Channel::Email,
                demeanor: reading.demeanor,
                actor,
                now,
            })
            .await?;
        outcome.team_id = self.team_for(envelope_to).await?;
        outcome.state = MailState::Ticket;
        outcome.ticket_id = Some(created.id);
        outcome.message_ref = self.store.messages(created.id).await?.first().map(|m| m.id);
        self.store.finish_inbound_mail(outcome).await?;
        Ok(Some(MailState::Ticket))
    }

    /// The team of the first configured mailbox the message was addressed to.
    async fn team_for(&self, envelope_to: &[String]) -> Result<Option<TeamId>, PipelineError> {
        if envelope_to.is_empty() {
            return Ok(None);
        }
        let boxes = self.store.mailboxes().await?;
        Ok(envelope_to.iter().find_map(|to| {
            boxes
                .iter()
                .find(|b| b.address.eq_ignore_ascii_case(to))
                .and_then(|b| b.team_id)
        }))
    }
}

/// Runs the pipeline over messages that are stored but not handled: at start (what a
/// crash left) and every `every` after (quarantined messages handed back by an admin).
pub async fn run_recovery(pipeline: Arc<Pipeline>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            match pipeline.process_due().await {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "handling stored mail failed; retrying next tick");
                    break;
                }
            }
        }
    }
}
