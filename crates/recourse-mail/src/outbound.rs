//! Mailing replies: the outbox rows `insert_message` queues with every reply are claimed
//! here, rendered (plain text and HTML, our Message-ID, In-Reply-To and References, the
//! ticket token in the subject, `Auto-Submitted` on the desk's own messages) and handed
//! to the relay by SMTP, with retries and backoff recorded in the store.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use recourse_store::{OutboundMail, OutboundResult, Store};

use crate::thread::{our_message_id, outbound_subject};
use crate::{MailConfig, now};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("`{0}` is not an address we can send to")]
    Address(String),
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
}

/// `Auto-Submitted: auto-replied` (RFC 3834), so other desks' responders stay quiet.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-replied".into())
    }
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The body as HTML: escaped, paragraphs at blank lines, line breaks kept.
fn html_body(text: &str, footer: &str) -> String {
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape_html(p.trim()).replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><body>\n{}\n<p style=\"color:#666;font-size:small\">{}</p>\n</body></html>\n",
        paragraphs.join("\n"),
        escape_html(footer)
    )
}

/// The desk as sender and the customer as recipient, for every mail the desk sends.
pub(crate) fn addresses(
    config: &MailConfig,
    to_name: Option<&str>,
    to_address: &str,
) -> Result<(Mailbox, Mailbox), RenderError> {
    let from = Mailbox::new(
        Some(config.from_name.clone()),
        config
            .from
            .parse()
            .map_err(|_| RenderError::Address(config.from.clone()))?,
    );
    let to = Mailbox::new(
        to_name.map(str::to_owned),
        to_address
            .parse()
            .map_err(|_| RenderError::Address(to_address.to_owned()))?,
    );
    Ok((from, to))
}

/// The rendered mail and the Message-ID it carries (without angle brackets).
pub fn render(mail: &OutboundMail, config: &MailConfig) -> Result<(Message, String), RenderError> {
    let message_id = our_message_id(
        mail.ticket_number,
        mail.message_ref.0,
        mail.id,
        &config.domain,
    );
    let (from, to) = addresses(config, mail.to_name.as_deref(), &mail.to_address)?;
    let footer = format!(
        "To add to this conversation, reply to this email and keep [#{}] in the subject.",
        mail.ticket_number
    );
    let text = format!("{}\n\n-- \n{footer}\n", mail.body.trim_end());
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(outbound_subject(&mail.subject, mail.ticket_number))
        .message_id(Some(format!("<{message_id}>")));
    let in_reply_to = mail
        .last_inbound
        .clone()
        .or_else(|| mail.thread.last().cloned());
    if let Some(parent) = in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    if !mail.thread.is_empty() {
        let refs: Vec<String> = mail.thread.iter().map(|r| format!("<{r}>")).collect();
        builder = builder.references(refs.join(" "));
    }
    if mail.automatic {
        builder = builder.header(AutoSubmitted);
    }
    let message = builder.multipart(MultiPart::alternative_plain_html(
        text,
        html_body(&mail.body, &footer),
    ))?;
    Ok((message, message_id))
}

/// Where mail goes out: a relay reached by plain SMTP (a local MTA or a smarthost).
#[derive(Debug, Clone)]
pub struct Relay {
    pub host: String,
    pub port: u16,
}

impl Relay {
    /// `host:port`, e.g. `127.0.0.1:25`.
    pub fn parse(s: &str) -> Option<Relay> {
        let (host, port) = s.rsplit_once(':')?;
        Some(Relay {
            host: host.trim_matches(['[', ']']).to_owned(),
            port: port.parse().ok()?,
        })
    }

    pub fn transport(&self, config: &MailConfig) -> AsyncSmtpTransport<Tokio1Executor> {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .hello_name(lettre::transport::smtp::extension::ClientId::Domain(
                config.domain.clone(),
            ))
            .timeout(Some(Duration::from_secs(30)))
            .build()
    }
}

/// Decides, sends and records one outbox row.
async fn send_one(
    store: &Store,
    config: &MailConfig,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    mail: &OutboundMail,
) {
    let result = if mail.bouncing {
        OutboundResult::Suppressed(format!("mail to {} bounces", mail.to_address))
    } else if mail.automatic && mail.automatic_last_hour >= config.automatic_per_hour {
        OutboundResult::Suppressed(format!(
            "already {} automatic messages to {} in the past hour",
            mail.automatic_last_hour, mail.to_address
        ))
    } else {
        match render(mail, config) {
            Err(e) => OutboundResult::Suppressed(e.to_string()),
            Ok((message, id)) => match transport.send(message).await {
                Ok(_) => OutboundResult::Sent(id),
                Err(e) => OutboundResult::Failed(format!("the relay refused or failed: {e}")),
            },
        }
    };
    match &result {
        OutboundResult::Sent(id) => {
            tracing::debug!(outbox = mail.id, message_id = %id, "mail sent")
        }
        OutboundResult::Failed(reason) => {
            tracing::info!(outbox = mail.id, attempt = mail.attempt, %reason, "mail not sent; will retry")
        }
        OutboundResult::Suppressed(reason) => {
            tracing::info!(outbox = mail.id, %reason, "mail held back")
        }
    }
    if let Err(e) = store.finish_outbound_mail(mail.id, result, now()).await {
        tracing::warn!(error = %e, "recording an outbound mail failed");
    }
}

/// One round: claim what is due, send it, record each result. Returns how many.
pub async fn send_due(
    store: &Store,
    config: &MailConfig,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
) -> usize {
    let lease = config.claim_lease.as_millis() as i64;
    let claimed = match store.claim_outbound_mail(now(), lease, 20).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "claiming outbound mail failed");
            return 0;
        }
    };
    for mail in &claimed {
        send_one(store, config, transport, mail).await;
    }
    claimed.len()
}

pub async fn run_sender(store: Arc<Store>, config: Arc<MailConfig>, relay: Relay, every: Duration) {
    let transport = relay.transport(&config);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Sign-in links first, and again between rounds of replies: someone is waiting
        // for each one, and it expires.
        loop {
            while crate::portal_link::send_due(store.as_ref(), &config, &transport).await > 0 {}
            if send_due(store.as_ref(), &config, &transport).await == 0 {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recourse_domain::{MessageId, TicketId};

    #[test]
    fn renders_threading_headers_and_both_bodies() {
        let mail = OutboundMail {
            id: 5,
            ticket_id: TicketId(1),
            ticket_number: 1042,
            subject: "Lamp <broken>".into(),
            message_ref: MessageId(77),
            body: "Hello Pat,\n\nA new lamp is on its way.".into(),
            to_address: "pat@example.com".into(),
            to_name: Some("Pat".into()),
            automatic: true,
            attempt: 1,
            thread: vec!["a@x".into(), "b@x".into()],
            last_inbound: Some("b@x".into()),
            bouncing: false,
            automatic_last_hour: 0,
        };
        let (message, id) = render(&mail, &MailConfig::default()).unwrap();
        assert_eq!(id, "ticket-1042.msg-77.o5@recourse.localhost");
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(text.contains("Message-ID: <ticket-1042.msg-77.o5@recourse.localhost>"));
        assert!(text.contains("In-Reply-To: <b@x>"));
        assert!(text.contains("References: <a@x> <b@x>"));
        assert!(text.contains("Auto-Submitted: auto-replied"));
        assert!(text.contains("Subject: Re: Lamp <broken> [#1042]"));
        assert!(text.contains("text/plain") && text.contains("text/html"));
    }
}
