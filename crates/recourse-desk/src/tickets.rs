//! Opening a ticket, adding to its conversation, changing it.

use recourse_domain::ladder::choose_assignee;
use recourse_domain::sla::SlaEvent;
use recourse_domain::{
    Actor, EventKind, Message, MessageKind, Millis, SlaClocks, Status, Ticket, TicketChange,
    TicketId, apply_change, message_change,
};
use recourse_store::tx::{MessageRow, TicketRow};
use recourse_store::{DeskConfig, NewMessage, NewTicket};

use crate::rules::{Counts, apply_rules};
use crate::{Desk, Result};

impl Desk {
    /// Opens a ticket from a customer's first message. It starts on the first rung (a
    /// supervised customer's on the top rung: they are never turned away), its clocks
    /// start, and it goes to whoever on its rung is free; with nobody free it waits in
    /// the rung's queue. A first message that already reads badly runs the rules.
    pub async fn open_ticket(&self, t: NewTicket) -> Result<Ticket> {
        let tags: Vec<String> = t.tags.iter().map(|x| x.as_str().to_owned()).collect();
        // Read before the writer is taken, so the writer (which every write waits for)
        // is held for one statement less; a change committed in between applies from
        // the next ticket on.
        let cfg = self.store.desk_config().await?;
        let mut tx = self.store.begin().await?;
        let (customer, supervised) = tx.ticket_customer(&t.customer, t.now).await?;
        let rung = if supervised {
            cfg.ladder.top()
        } else {
            cfg.ladder.first()
        }
        .clone();
        let sla = SlaClocks::default().advance(
            &cfg.sla,
            &cfg.calendar,
            t.priority,
            Status::New,
            Status::New,
            SlaEvent::Created,
            t.now,
        );
        let pool = tx.candidates().await?;
        let assignee = choose_assignee(&rung, &tags, false, None, &pool);
        let ticket = tx
            .insert_ticket(
                TicketRow {
                    subject: t.subject.as_str(),
                    need: t.need.as_ref().map(|n| n.as_str()),
                    priority: t.priority,
                    rung: &rung.name,
                    customer,
                    tags: &tags,
                    assignee,
                    sla,
                    demeanor: t.demeanor,
                    now: t.now,
                },
                &cfg,
            )
            .await?;
        let message_id = tx
            .insert_message_row(MessageRow {
                ticket: ticket.id,
                kind: MessageKind::Inbound,
                channel: t.channel,
                author: t.actor,
                body: t.body.as_str(),
                demeanor: t.demeanor,
                now: t.now,
            })
            .await?;
        let created = EventKind::TicketCreated {
            subject: ticket.subject.clone(),
            priority: ticket.priority,
            rung: ticket.rung.clone(),
        };
        let added = EventKind::MessageAdded {
            message_id,
            kind: MessageKind::Inbound,
        };
        let routed = assignee.map(|to| EventKind::AssigneeChanged {
            from: None,
            to: Some(to),
        });
        let mut events = vec![(t.actor, &created), (t.actor, &added)];
        if let Some(routed) = &routed {
            events.push((Actor::System, routed));
        }
        tx.append_events(Some(ticket.id), &events, t.now).await?;
        tx.note_assigned(assignee, t.now).await?;
        let ticket = match t.demeanor {
            Some(reading) => {
                apply_rules(
                    &mut tx,
                    &cfg,
                    ticket,
                    message_id,
                    Some(reading),
                    Some(Counts::FIRST_MESSAGE),
                    t.now,
                )
                .await?
            }
            None => ticket,
        };
        tx.commit().await?;
        Ok(ticket)
    }

    /// Adds a message: a customer's (which may run the rules), a reply (mailed to the
    /// customer) or an internal note, with the status move it implies.
    pub async fn add_message(&self, m: NewMessage) -> Result<(Message, Ticket)> {
        // Read before the writer is taken, as for a new ticket.
        let cfg = self.store.desk_config().await?;
        let mut tx = self.store.begin().await?;
        let before = tx.lock_ticket(m.ticket_id).await?;
        let change = message_change(&before, m.kind, m.status)?;
        let (mut after, changes) = apply_change(&before, &change, m.now)?;
        after.updated_at = m.now;
        let sla_event = match m.kind {
            MessageKind::Inbound => SlaEvent::CustomerWrote,
            MessageKind::Reply => SlaEvent::AgentReplied,
            MessageKind::Note => SlaEvent::Changed,
        };
        advance_sla(&cfg, &before, &mut after, sla_event, m.now);
        note_response(&mut after, m.kind, m.now);
        let demeanor = m.demeanor.filter(|_| m.kind == MessageKind::Inbound);
        let id = tx
            .insert_message(MessageRow {
                ticket: m.ticket_id,
                kind: m.kind,
                channel: m.channel,
                author: m.author,
                body: m.body.as_str(),
                demeanor,
                now: m.now,
            })
            .await?;
        // The message's event first, then what it changed: one statement.
        let added = EventKind::MessageAdded {
            message_id: id,
            kind: m.kind,
        };
        let events: Vec<EventKind> = std::iter::once(added).chain(changes).collect();
        tx.save_ticket(&cfg, &before, &after, &events, m.author, m.now)
            .await?;
        if m.kind == MessageKind::Inbound {
            after = apply_rules(&mut tx, &cfg, after, id, demeanor, None, m.now).await?;
        }
        tx.commit().await?;
        let message = Message {
            id,
            ticket_id: m.ticket_id,
            kind: m.kind,
            channel: m.channel,
            author: m.author,
            body: m.body.into_inner(),
            demeanor,
            masked: demeanor == Some(recourse_domain::Demeanor::Abusive),
            created_at: m.now,
        };
        Ok((message, after))
    }

    /// Changes status, priority, need, assignee, tags or outcome through the domain's
    /// rules, with the ticket locked.
    pub async fn change_ticket(
        &self,
        id: TicketId,
        change: TicketChange,
        actor: Actor,
        now: Millis,
    ) -> Result<Ticket> {
        let mut tx = self.store.begin().await?;
        let cfg = tx.config().await?;
        let before = tx.lock_ticket(id).await?;
        let (mut after, events) = apply_change(&before, &change, now)?;
        advance_sla(&cfg, &before, &mut after, SlaEvent::Changed, now);
        tx.save_ticket(&cfg, &before, &after, &events, actor, now)
            .await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// Moves the ticket's SLA clocks on for what just happened.
pub(crate) fn advance_sla(
    cfg: &DeskConfig,
    before: &Ticket,
    after: &mut Ticket,
    event: SlaEvent,
    now: Millis,
) {
    after.sla = after.sla.advance(
        &cfg.sla,
        &cfg.calendar,
        after.priority,
        before.status,
        after.status,
        event,
        now,
    );
}

/// The first message to the customer is the first response.
pub(crate) fn note_response(after: &mut Ticket, kind: MessageKind, now: Millis) {
    if kind == MessageKind::Reply && after.first_response_at.is_none() {
        after.first_response_at = Some(now);
    }
}
