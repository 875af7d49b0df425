//! What the email channel hands the store, and the records it gets back.

use recourse_domain::{MessageId, Millis, TeamId, TicketId};
use serde::Serialize;

/// An address the desk receives mail for, and the team its new tickets go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub id: i64,
    pub address: String,
    pub team_id: Option<TeamId>,
    pub created_at: Millis,
}

/// A message exactly as it arrived, before anything is read from it.
#[derive(Debug, Clone)]
pub struct NewInboundMail {
    /// `smtp` or `imap`: who handed it to us.
    pub source: String,
    /// The SMTP envelope sender (`MAIL FROM`); empty for a null return path.
    pub envelope_from: Option<String>,
    pub envelope_to: Vec<String>,
    pub raw: Vec<u8>,
    /// Hex SHA-256 of `raw`.
    pub sha256: String,
    pub now: Millis,
}

/// Where reading an IMAP folder has got to: UIDs are only comparable under one
/// UIDVALIDITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImapCursor {
    pub uidvalidity: i64,
    pub last_uid: i64,
}

/// What became of a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    /// Stored, not yet handled (or handed back for re-processing).
    Received,
    /// Opened a new ticket.
    Ticket,
    /// Added to an existing ticket's conversation.
    Threaded,
    /// An automatic message (out of office, list mail, feedback report): recorded, never answered.
    AutoReply,
    /// A delivery-status report about mail we sent.
    Bounce,
    /// The same Message-ID was already handled.
    Duplicate,
    /// Kept whole with a reason for an admin to look at.
    Quarantined,
}

impl MailState {
    pub fn as_str(self) -> &'static str {
        match self {
            MailState::Received => "received",
            MailState::Ticket => "ticket",
            MailState::Threaded => "threaded",
            MailState::AutoReply => "auto_reply",
            MailState::Bounce => "bounce",
            MailState::Duplicate => "duplicate",
            MailState::Quarantined => "quarantined",
        }
    }

    pub fn parse(s: &str) -> Option<MailState> {
        Some(match s {
            "received" => MailState::Received,
            "ticket" => MailState::Ticket,
            "threaded" => MailState::Threaded,
            "auto_reply" => MailState::AutoReply,
            "bounce" => MailState::Bounce,
            "duplicate" => MailState::Duplicate,
            "quarantined" => MailState::Quarantined,
            _ => return None,
        })
    }
}

/// A received message claimed for processing.
#[derive(Debug, Clone)]
pub struct ClaimedMail {
    pub id: i64,
    pub envelope_from: Option<String>,
    pub envelope_to: Vec<String>,
    pub raw: Vec<u8>,
    pub sha256: String,
}

/// A received message as the admin's list shows it (without the raw bytes).
#[derive(Debug, Clone, Serialize)]
pub struct InboundMailSummary {
    pub id: i64,
    pub source: String,
    pub envelope_from: Option<String>,
    pub size: i64,
    pub state: MailState,
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub subject: Option<String>,
    pub ticket_id: Option<TicketId>,
    pub message_ref: Option<MessageId>,
    pub reason: Option<String>,
    pub received_at: Millis,
    pub processed_at: Option<Millis>,
}

/// The received mail a ticket's message was made from, for showing it as it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageMail {
    pub message: MessageId,
    pub inbound_id: i64,
    /// The raw message names a `text/html` part. Found by a byte search, so it can be
    /// wrong for odd mail (upper-case types, the words in a plain body); whoever shows
    /// the HTML parses the message and copes with there being none.
    pub has_html: bool,
}

/// Which ticket and message a received mail became, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InboundMailOrigin {
    pub ticket_id: Option<TicketId>,
    pub message_ref: Option<MessageId>,
}

/// An attachment to keep, with what we know about it.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub sha256: String,
    pub content: Vec<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentInfo {
    pub id: i64,
    /// `None` for a file uploaded in the customer portal.
    pub inbound_id: Option<i64>,
    pub filename: Option<String>,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// How one received message was handled, written in one transaction.
#[derive(Debug, Clone)]
pub struct InboundOutcome {
    pub id: i64,
    pub state: MailState,
    /// The normalised Message-ID (angle brackets stripped), if it had one.
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub subject: Option<String>,
    /// The whole decoded body text (HTML converted), quoted history included.
    pub body_text: Option<String>,
    pub ticket_id: Option<TicketId>,
    pub message_ref: Option<MessageId>,
    /// Why it was quarantined, or a note on how it was classified.
    pub reason: Option<String>,
    pub attachments: Vec<NewAttachment>,
    /// Addresses a bounce reported as failing, with the reason given.
    pub bouncing: Vec<(String, String)>,
    /// The team a new ticket goes to (from the mailbox it was sent to).
    pub team_id: Option<TeamId>,
    pub now: Millis,
}

impl InboundOutcome {
    /// The outcome of a message nothing has been learnt from yet: quarantined unless
    /// reading it decides otherwise.
    pub fn unread(id: i64, now: Millis) -> Self {
        InboundOutcome {
            id,
            state: MailState::Quarantined,
            message_id: None,
            from_address: None,
            subject: None,
            body_text: None,
            ticket_id: None,
            message_ref: None,
            reason: None,
            attachments: Vec::new(),
            bouncing: Vec::new(),
            team_id: None,
            now,
        }
    }
}

/// A reply waiting in the outbox, with everything needed to render it.
#[derive(Debug, Clone)]
pub struct OutboundMail {
    pub id: i64,
    pub ticket_id: TicketId,
    pub ticket_number: i64,
    pub subject: String,
    pub message_ref: MessageId,
    pub body: String,
    pub to_address: String,
    pub to_name: Option<String>,
    /// Written by the desk itself (escalation handoff, survey link), not by an agent.
    pub automatic: bool,
    /// This attempt's number, from 1.
    pub attempt: i64,
    /// Message-IDs already in this ticket's thread, oldest first (the last is the newest).
    pub thread: Vec<String>,
    /// The newest Message-ID the customer sent on this ticket, for In-Reply-To.
    pub last_inbound: Option<String>,
    pub bouncing: bool,
    /// Automatic messages sent to this address in the past hour.
    pub automatic_last_hour: i64,
}

/// What happened to one outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundResult {
    /// Handed to the relay under this Message-ID (without angle brackets).
    Sent(String),
    /// Retried later with backoff, or given up after the last attempt.
    Failed(String),
    /// Deliberately not sent (bouncing address, automatic-mail limit).
    Suppressed(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboundMailStatus {
    pub id: i64,
    pub message_ref: MessageId,
    pub to_address: String,
    pub automatic: bool,
    /// queued, sent, failed or suppressed.
    pub state: String,
    pub attempts: i64,
    pub message_id: Option<String>,
    pub last_error: Option<String>,
    pub sent_at: Option<Millis>,
}
