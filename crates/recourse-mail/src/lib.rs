//! The email channel: an SMTP listener and an IMAP poller that hand every message to
//! one pipeline (store whole first, then read, classify, thread or quarantine), and an
//! outbox sender that mails replies through a relay.

pub mod classify;
pub mod imap;
pub mod mime;
pub mod outbound;
pub mod pipeline;
pub mod portal_link;
pub mod smtp;
pub mod thread;
pub mod tls;

use std::time::Duration;

pub use mime::{HtmlBody, InlineImage, html_body};
pub use pipeline::{Incoming, Pipeline, PipelineError};

/// How the desk handles mail; the CLI fills it from `--mail-*` flags.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The domain in our Message-IDs and the SMTP greeting, e.g. `help.example.com`.
    pub domain: String,
    /// The From address of mail we send, e.g. `support@help.example.com`.
    pub from: String,
    /// A display name for `from`.
    pub from_name: String,
    /// Larger messages are refused at `MAIL FROM` (SIZE) and quarantined if they slip by.
    pub max_message_bytes: usize,
    /// A message with a larger attachment is quarantined.
    pub max_attachment_bytes: usize,
    /// At most this many automatic messages go to one address per hour.
    pub automatic_per_hour: i64,
    /// How long reading one message may take before it is quarantined.
    pub process_budget: Duration,
    /// Where customers reach the desk on the web, for the footer of mail we send.
    pub public_url: String,
    /// How long a node's claim on a batch of outgoing mail lasts: a node that dies
    /// mid-send lets another send the rest after that.
    pub claim_lease: Duration,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            domain: "recourse.localhost".into(),
            from: "support@recourse.localhost".into(),
            from_name: "Support".into(),
            max_message_bytes: 25 * 1024 * 1024,
            max_attachment_bytes: 10 * 1024 * 1024,
            automatic_per_hour: 5,
            process_budget: Duration::from_secs(10),
            public_url: "http://127.0.0.1:8080".into(),
            claim_lease: Duration::from_secs(120),
        }
    }
}

/// The wall clock as the domain counts it.
pub(crate) fn now() -> recourse_domain::Millis {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    recourse_domain::Millis(ms)
}
