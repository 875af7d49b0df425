//! A plain description of each table, used by `db copy` to move rows between
//! backends without a per-table reader and writer for every pair.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Int,
    Text,
    Bool,
    /// Raw bytes (a received email and its attachments, kept exactly as they came).
    Bytes,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

pub type Row = Vec<Cell>;

#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// The first column is always the integer primary key `id`.
    pub columns: &'static [(&'static str, Col)],
}

impl Table {
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

use Col::*;

/// Copy order respects foreign keys. Sessions are not copied (people sign in again);
/// `ticket_tags` and search indexes are derived and rebuilt by `finish_import`; the
/// report's daily counts (`report_days`) follow the copied tickets by trigger.
pub const TABLES: &[Table] = &[
    Table {
        name: "organizations",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("domain", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "customers",
        columns: &[
            ("id", Int),
            ("email", Text),
            ("name", Text),
            ("organization_id", Int),
            ("created_at", Int),
            ("supervised", Bool),
        ],
    },
    Table {
        name: "teams",
        columns: &[("id", Int), ("name", Text)],
    },
    Table {
        name: "agents",
        columns: &[
            ("id", Int),
            ("email", Text),
            ("name", Text),
            ("role", Text),
            ("experience", Text),
            ("skills", Text),
            ("team_id", Int),
            ("capacity", Int),
            ("active", Bool),
            ("password_hash", Text),
            ("created_at", Int),
            ("present", Bool),
            ("last_assigned_at", Int),
        ],
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("id", Int),
            ("token_hash", Text),
            ("name", Text),
            ("principal_kind", Text),
            ("principal_id", Int),
            ("scope", Text),
            ("created_at", Int),
            ("revoked_at", Int),
        ],
    },
    Table {
        name: "tickets",
        columns: &[
            ("id", Int),
            ("number", Int),
            ("subject", Text),
            ("need", Text),
            ("status", Text),
            ("priority", Text),
            ("rung", Text),
            ("customer_id", Int),
            ("assignee_id", Int),
            ("team_id", Int),
            ("tags", Text),
            ("outcome", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("needs_experience", Bool),
            ("first_response_due", Int),
            ("next_update_due", Int),
            ("resolution_due", Int),
            ("sla_paused_at", Int),
            ("sla_warned", Int),
            ("sla_breached", Int),
            ("sla_next_at", Int),
            ("first_response_at", Int),
            ("ended_at", Int),
            ("first_demeanor", Text),
            ("last_demeanor", Text),
            ("transfers", Int),
            ("transfers_since_reply", Int),
            ("ping_pong", Bool),
            ("review_pending", Bool),
        ],
    },
    Table {
        name: "messages",
        columns: &[
            ("id", Int),
            ("ticket_id", Int),
            ("kind", Text),
            ("channel", Text),
            ("author_kind", Text),
            ("author_id", Int),
            ("body", Text),
            ("created_at", Int),
            ("demeanor", Text),
            ("masked", Bool),
        ],
    },
    Table {
        name: "interventions",
        columns: &[
            ("id", Int),
            ("ticket_id", Int),
            ("kind", Text),
            ("description", Text),
            ("result", Text),
            ("agent_id", Int),
            ("created_at", Int),
        ],
    },
    // Before `webhooks`: while events are copied there is no webhook yet, so the outbox
    // trigger queues nothing and `webhook_deliveries` arrives as it was.
    Table {
        name: "events",
        columns: &[
            ("id", Int),
            ("ticket_id", Int),
            ("actor_kind", Text),
            ("actor_id", Int),
            ("kind", Text),
            ("data", Text),
            ("at", Int),
        ],
    },
    Table {
        name: "settings",
        columns: &[
            ("id", Int),
            ("key", Text),
            ("value", Text),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "escalations",
        columns: &[
            ("id", Int),
            ("ticket_id", Int),
            ("direction", Text),
            ("from_rung", Text),
            ("to_rung", Text),
            ("reason", Text),
            ("note", Text),
            ("message_id", Int),
            ("trigger_message_id", Int),
            ("at", Int),
        ],
    },
    Table {
        name: "alternatives",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("serves", Text),
            ("contact", Text),
            ("notes", Text),
            ("active", Bool),
            ("created_at", Int),
        ],
    },
    Table {
        name: "cant_help",
        columns: &[
            ("id", Int),
            ("ticket_id", Int),
            ("reason", Text),
            ("explanation", Text),
            ("partial_solution", Text),
            ("justification", Text),
            ("third_party_who", Text),
            ("third_party_why", Text),
            ("third_party_how", Text),
            ("handoff_summary", Text),
            ("state", Text),
            ("review_note", Text),
            ("message_id", Int),
            ("created_at", Int),
            ("reviewed_at", Int),
        ],
    },
    Table {
        name: "referrals",
        columns: &[
            ("id", Int),
            ("ticket_id", Int),
            ("customer_id", Int),
            ("alternative_id", Int),
            ("message_id", Int),
            ("at", Int),
        ],
    },
    Table {
        name: "surveys",
        columns: &[
            ("id", Int),
            ("ticket_id", Int),
            ("token_hash", Text),
            ("created_at", Int),
            ("answered_at", Int),
            ("product", Int),
            ("pleasantness", Int),
            ("competence", Int),
            ("recommend", Int),
            ("comment", Text),
        ],
    },
    Table {
        name: "webhooks",
        columns: &[
            ("id", Int),
            ("url", Text),
            ("secret", Text),
            ("active", Bool),
            ("events", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "webhook_deliveries",
        columns: &[
            ("id", Int),
            ("webhook_id", Int),
            ("event_id", Int),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("delivered_at", Int),
            ("failed_at", Int),
            ("last_error", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "mailboxes",
        columns: &[
            ("id", Int),
            ("address", Text),
            ("team_id", Int),
            ("created_at", Int),
        ],
    },
    Table {
        name: "inbound_mail",
        columns: &[
            ("id", Int),
            ("source", Text),
            ("envelope_from", Text),
            ("envelope_to", Text),
            ("raw", Bytes),
            ("size", Int),
            ("sha256", Text),
            ("state", Text),
            ("lease_until", Int),
            ("message_id", Text),
            ("from_address", Text),
            ("subject", Text),
            ("body_text", Text),
            ("ticket_id", Int),
            ("message_ref", Int),
            ("reason", Text),
            ("received_at", Int),
            ("processed_at", Int),
        ],
    },
    Table {
        name: "mail_message_ids",
        columns: &[
            ("id", Int),
            ("message_id", Text),
            ("ticket_id", Int),
            ("inbound_id", Int),
            ("created_at", Int),
        ],
    },
    Table {
        name: "mail_attachments",
        columns: &[
            ("id", Int),
            ("inbound_id", Int),
            ("ticket_id", Int),
            ("filename", Text),
            ("content_type", Text),
            ("size", Int),
            ("sha256", Text),
            ("content", Bytes),
            ("created_at", Int),
            ("message_ref", Int),
        ],
    },
    Table {
        name: "portal_links",
        columns: &[
            ("id", Int),
            ("customer_id", Int),
            ("to_address", Text),
            ("token_hash", Text),
            ("state", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("last_error", Text),
            ("expires_at", Int),
            ("used_at", Int),
            ("sent_at", Int),
            ("created_at", Int),
        ],
    },
    Table {
        name: "mail_addresses",
        columns: &[
            ("id", Int),
            ("address", Text),
            ("bouncing_since", Int),
            ("bounce_reason", Text),
            ("bounce_count", Int),
        ],
    },
    Table {
        name: "imap_cursors",
        columns: &[
            ("id", Int),
            ("account", Text),
            ("uidvalidity", Int),
            ("last_uid", Int),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "canned_replies",
        columns: &[
            ("id", Int),
            ("title", Text),
            ("body", Text),
            ("created_by", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "practice_scenarios",
        columns: &[
            ("id", Int),
            ("slug", Text),
            ("kind", Text),
            ("subject", Text),
            ("topic", Text),
            ("customer_message", Text),
            ("need", Text),
            ("good_answer", Text),
            ("example_answer", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "practice_attempts",
        columns: &[
            ("id", Int),
            ("agent_id", Int),
            ("scenario_id", Int),
            ("reply", Text),
            ("score", Int),
            ("flags", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "outbound_mail",
        columns: &[
            ("id", Int),
            ("ticket_id", Int),
            ("message_ref", Int),
            ("to_address", Text),
            ("automatic", Bool),
            ("state", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("message_id", Text),
            ("last_error", Text),
            ("sent_at", Int),
            ("created_at", Int),
        ],
    },
];

pub fn by_name(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}
