//! Storage for Recourse: one [`Store`] trait, implemented for SQLite (the embedded
//! default) and PostgreSQL (several nodes, one database). Each backend owns its
//! migrations and uses its own full-text engine (FTS5; tsvector + GIN). The
//! conformance suite in `tests/` runs one story against both.

mod common;
pub mod config;
mod console_sql;
mod decode;
mod input;
mod ladder_sql;
mod mail_input;
mod mail_sql;
mod portal_sql;
mod postgres;
mod recovery_sql;
mod sqlite;
pub mod table;

use std::sync::Arc;

use async_trait::async_trait;
pub use config::DeskConfig;
pub use console_sql::{CannedReply, ConsoleQueue, NewCannedReply};
pub use input::*;
pub use mail_input::*;
pub use portal_sql::{
    NewPortalAttachment, NewPortalSession, PortalAttachment, PortalLinkMail, PortalLinkState,
};
pub use postgres::PgStore;
pub use recourse_domain::TicketChange;
use recourse_domain::{
    Actor, Agent, AgentId, ChangeError, Customer, CustomerId, Demeanor, EmailAddress,
    EscalationReason, Event, Intervention, LadderError, Message, MessageId, Millis, Organization,
    Team, Ticket, TicketId,
};
pub use sqlite::{GroupCommitStats, SqliteStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule was hit (for example, an agent email already in use).
    #[error("{0}")]
    Conflict(String),
    /// A domain rule refused the change (e.g. an illegal status move).
    #[error(transparent)]
    Rule(#[from] ChangeError),
    /// A ladder rule refused the move (already at the top, no handoff message, …).
    #[error(transparent)]
    Ladder(#[from] LadderError),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Everything the desk persists. Implementations must make each method atomic:
/// a ticket change and the events describing it commit together or not at all.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// Cheap round trip for `/readyz`.
    async fn ping(&self) -> Result<()>;

    // --- people ---
    async fn upsert_customer(
        &self,
        email: &EmailAddress,
        name: Option<&str>,
        now: Millis,
    ) -> Result<Customer>;
    async fn get_customer(&self, id: CustomerId) -> Result<Customer>;
    async fn customer_by_email(&self, email: &EmailAddress) -> Result<Option<Customer>>;
    async fn create_organization(
        &self,
        name: &str,
        domain: Option<&str>,
        now: Millis,
    ) -> Result<Organization>;
    async fn create_team(&self, name: &str) -> Result<Team>;
    async fn list_teams(&self) -> Result<Vec<Team>>;
    async fn create_agent(&self, agent: NewAgent) -> Result<Agent>;
    async fn get_agent(&self, id: AgentId) -> Result<Agent>;
    async fn list_agents(&self) -> Result<Vec<Agent>>;
    /// The agent and their password hash, for login.
    async fn agent_credentials(&self, email: &EmailAddress) -> Result<Option<(Agent, String)>>;
    async fn set_agent_password(&self, id: AgentId, password_hash: &str) -> Result<()>;
    /// Changes an agent's role, experience, team, capacity or whether they may sign in,
    /// and records the change. Switching an agent off also marks them away.
    async fn update_agent(
        &self,
        id: AgentId,
        change: AgentChange,
        actor: Actor,
        now: Millis,
    ) -> Result<Agent>;
    /// How many open (not resolved or closed) tickets each agent holds; agents holding
    /// none are left out.
    async fn open_tickets_by_agent(&self) -> Result<Vec<(AgentId, i64)>>;

    // --- credentials ---
    async fn create_api_token(&self, token: NewApiToken) -> Result<ApiToken>;
    async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>>;
    async fn revoke_api_token(&self, id: i64, now: Millis) -> Result<()>;
    /// Every token, newest first (hashes are not returned).
    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>>;
    async fn create_session(&self, session: NewSession) -> Result<()>;
    async fn session_by_hash(&self, id_hash: &str, now: Millis) -> Result<Option<Session>>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;

    // --- tickets ---
    async fn create_ticket(&self, ticket: NewTicket) -> Result<Ticket>;
    async fn get_ticket(&self, id: TicketId) -> Result<Ticket>;
    /// Newest first; `filter.before` is the cursor (an id), and up to `filter.limit` come back.
    async fn list_tickets(&self, filter: &TicketFilter) -> Result<Vec<Ticket>>;
    /// Applies a change through the domain rules under a row lock and records its events.
    async fn update_ticket(
        &self,
        id: TicketId,
        change: TicketChange,
        actor: Actor,
        now: Millis,
    ) -> Result<Ticket>;
    async fn add_message(&self, message: NewMessage) -> Result<(Message, Ticket)>;
    async fn add_intervention(&self, intervention: NewIntervention) -> Result<Intervention>;
    async fn messages(&self, ticket: TicketId) -> Result<Vec<Message>>;
    async fn interventions(&self, ticket: TicketId) -> Result<Vec<Intervention>>;
    async fn events(&self, ticket: TicketId) -> Result<Vec<Event>>;
    /// Full-text search over subjects and message bodies, best match first.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>>;

    // --- desk configuration (see `config::keys`) ---
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Stores a setting (already validated by the caller) and records who changed it.
    async fn put_setting(&self, key: &str, value: &str, actor: Actor, now: Millis) -> Result<()>;
    /// Removes a setting so its default applies again.
    async fn reset_setting(&self, key: &str, actor: Actor, now: Millis) -> Result<()>;
    async fn desk_config(&self) -> Result<DeskConfig>;

    // --- the ladder ---
    /// Everything needed to draft the handoff for escalating `ticket` with `reason`.
    async fn handoff_plan(
        &self,
        ticket: TicketId,
        reason: EscalationReason,
        now: Millis,
    ) -> Result<HandoffPlan>;
    /// Moves the ticket up, sends the customer the handoff, and routes it, atomically.
    async fn escalate(&self, request: EscalationRequest) -> Result<Ticket>;
    async fn move_down(&self, request: Descent) -> Result<Ticket>;
    async fn escalations(&self, ticket: TicketId) -> Result<Vec<EscalationRecord>>;
    /// Marks an agent present or away; going away hands their active tickets on.
    async fn set_presence(
        &self,
        agent: AgentId,
        present: bool,
        actor: Actor,
        now: Millis,
    ) -> Result<(Agent, Vec<TicketId>)>;
    /// Records how an inbound message reads and applies the automatic rules to it.
    async fn set_demeanor(
        &self,
        message: MessageId,
        demeanor: Demeanor,
        actor: Actor,
        now: Millis,
    ) -> Result<Ticket>;
    /// One pass of the SLA sweeper: claims tickets whose next check is due, warns,
    /// records breaches and escalates them. Safe to run on several nodes at once.
    async fn sweep_sla(&self, now: Millis, limit: i64) -> Result<SweepReport>;

    // --- webhooks ---
    /// `events` limits it to those event types; empty sends every event.
    async fn create_webhook(
        &self,
        url: &str,
        secret: &str,
        events: &[String],
        now: Millis,
    ) -> Result<Webhook>;
    async fn list_webhooks(&self) -> Result<Vec<Webhook>>;
    /// Stops deliveries to a webhook; pending ones are marked failed.
    async fn deactivate_webhook(&self, id: i64, now: Millis) -> Result<()>;
    /// Claims due deliveries for `lease_ms`; a node that dies mid-send lets them fall due again.
    async fn claim_deliveries(
        &self,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>>;
    /// Records a delivery's result: `Ok` delivered, `Err(reason)` retried later with
    /// backoff, or given up after the last attempt.
    async fn finish_delivery(
        &self,
        id: i64,
        result: std::result::Result<(), String>,
        now: Millis,
    ) -> Result<()>;
    async fn webhook_deliveries(&self, webhook: i64, limit: i64) -> Result<Vec<DeliveryStatus>>;

    // --- when we can't help ---
    /// Records a can't-help: with a partial solution the customer is told and the ticket
    /// resolves (outcome `explained`); without one it waits in the managers' review queue.
    async fn cant_help(&self, request: CantHelpRequest) -> Result<(Ticket, CantHelpRecord)>;
    async fn review_cant_help(&self, review: CantHelpReview) -> Result<(Ticket, CantHelpRecord)>;
    /// One ticket's can't-help records, or (with `None`) the pending review queue.
    async fn cant_help_records(
        &self,
        ticket: Option<TicketId>,
        limit: i64,
    ) -> Result<Vec<CantHelpRecord>>;
    async fn transfer(&self, request: TransferRequest) -> Result<Ticket>;
    /// Creates (`id: None`) or replaces an alternative provider.
    async fn save_alternative(
        &self,
        id: Option<i64>,
        alternative: NewAlternative,
        now: Millis,
    ) -> Result<recourse_domain::recovery::Alternative>;
    async fn alternatives(&self) -> Result<Vec<recourse_domain::recovery::Alternative>>;
    async fn refer(&self, request: ReferralRequest) -> Result<Ticket>;
    /// The holder of a ticket passes it on, no reason asked (after abuse, P8).
    async fn hand_off(&self, ticket: TicketId, agent: AgentId, now: Millis) -> Result<Ticket>;
    /// A masked message in full, with the look recorded in the history.
    async fn reveal_message(
        &self,
        message: MessageId,
        actor: Actor,
        now: Millis,
    ) -> Result<Message>;
    async fn set_supervised(
        &self,
        customer: CustomerId,
        supervised: bool,
        actor: Actor,
        now: Millis,
    ) -> Result<Customer>;
    /// How many of the customer's messages read as abusive.
    async fn abuse_count(&self, customer: CustomerId) -> Result<i64>;
    /// Opens the satisfaction survey for an ended ticket and posts the invitation;
    /// `false` when it already has one or did not end in a way that asks for one.
    async fn open_survey(
        &self,
        ticket: TicketId,
        token_hash: &str,
        invite: &str,
        now: Millis,
    ) -> Result<bool>;
    async fn survey_by_token(&self, token_hash: &str) -> Result<Option<Survey>>;
    async fn answer_survey(
        &self,
        token_hash: &str,
        answer: recourse_domain::recovery::SurveyAnswer,
        comment: Option<String>,
        now: Millis,
    ) -> Result<Survey>;
    async fn report_summary(&self, query: &ReportQuery) -> Result<ReportSummary>;

    // --- email ---
    /// Adds (or re-points) an address the desk receives mail for.
    async fn save_mailbox(
        &self,
        address: &EmailAddress,
        team: Option<recourse_domain::TeamId>,
        now: Millis,
    ) -> Result<Mailbox>;
    async fn mailboxes(&self) -> Result<Vec<Mailbox>>;
    async fn delete_mailbox(&self, id: i64) -> Result<()>;
    /// Stores a message exactly as received; it is acknowledged only once this returns.
    async fn store_inbound_mail(&self, mail: NewInboundMail) -> Result<i64>;
    /// How far the IMAP poller has read `account` (user@host/folder).
    async fn imap_cursor(&self, account: &str) -> Result<Option<ImapCursor>>;
    /// Stores a message read by IMAP and advances the account's cursor to `at` in one
    /// transaction; `None` (nothing stored) when the cursor was already there.
    async fn store_imap_mail(
        &self,
        mail: NewInboundMail,
        account: &str,
        at: ImapCursor,
    ) -> Result<Option<i64>>;
    /// Starts reading `account` from its first message under a new UIDVALIDITY.
    async fn reset_imap_cursor(&self, account: &str, uidvalidity: i64, now: Millis) -> Result<()>;
    /// Takes a received message for processing for `lease_ms`; `None` when it is done
    /// or another worker holds it. A worker that dies lets the lease run out.
    async fn claim_inbound_mail(
        &self,
        id: i64,
        now: Millis,
        lease_ms: i64,
    ) -> Result<Option<ClaimedMail>>;
    /// Received messages nobody is working on (left by a crash, or handed back).
    async fn due_inbound_mail(&self, now: Millis, limit: i64) -> Result<Vec<i64>>;
    /// Reserves a Message-ID for a received message; `false` when another message
    /// already has it (a second delivery of the same mail).
    async fn claim_message_id(&self, message_id: &str, inbound: i64, now: Millis) -> Result<bool>;
    /// The ticket a reply belongs to, from the Message-IDs it refers to.
    async fn thread_of(&self, message_ids: &[String]) -> Result<Option<TicketId>>;
    async fn ticket_by_number(&self, number: i64) -> Result<Option<Ticket>>;
    /// Records how a received message was handled, with its attachments and any
    /// addresses it reports as bouncing, in one transaction.
    async fn finish_inbound_mail(&self, outcome: InboundOutcome) -> Result<()>;
    /// Hands a quarantined message back to the pipeline.
    async fn requeue_inbound_mail(&self, id: i64) -> Result<()>;
    /// Received messages, newest first; `before` is the id cursor.
    async fn inbound_mail(
        &self,
        state: Option<MailState>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<InboundMailSummary>>;
    async fn inbound_mail_raw(&self, id: i64) -> Result<Vec<u8>>;
    /// Which ticket and message a received mail became (`NotFound` for no such mail).
    async fn inbound_mail_origin(&self, id: i64) -> Result<InboundMailOrigin>;
    /// The received mail behind each of a ticket's messages that came by email.
    async fn message_mail(&self, ticket: TicketId) -> Result<Vec<MessageMail>>;
    async fn attachments(&self, ticket: TicketId) -> Result<Vec<AttachmentInfo>>;
    /// Since when mail to `address` bounces, if it does.
    async fn bouncing_since(&self, address: &str) -> Result<Option<Millis>>;
    /// Claims due outbound mail for `lease_ms`, as `claim_deliveries` does for webhooks.
    async fn claim_outbound_mail(
        &self,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboundMail>>;
    async fn finish_outbound_mail(
        &self,
        id: i64,
        result: OutboundResult,
        now: Millis,
    ) -> Result<()>;
    async fn outbound_mail(&self, ticket: TicketId) -> Result<Vec<OutboundMailStatus>>;
    // --- end email ---

    // --- customer portal ---
    /// Queues a sign-in link for the customer with this email, if there is one and
    /// fewer than `max_recent` were asked for in the last `window_ms`. `false` when
    /// nothing was queued; the caller answers the same either way.
    async fn request_portal_link(
        &self,
        email: &EmailAddress,
        max_recent: i64,
        window_ms: i64,
        now: Millis,
    ) -> Result<bool>;
    /// Claims due sign-in links for `lease_ms`, as `claim_outbound_mail` does.
    async fn claim_portal_links(
        &self,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<PortalLinkMail>>;
    /// Records the hash of the token the sender is about to mail, and its expiry.
    async fn arm_portal_link(&self, id: i64, token_hash: &str, expires_at: Millis) -> Result<()>;
    async fn finish_portal_link(&self, id: i64, result: OutboundResult, now: Millis) -> Result<()>;
    async fn portal_link_state(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<PortalLinkState>>;
    /// Marks the link used and opens the customer's session, once; `None` when the
    /// link is unknown, used or expired.
    async fn use_portal_link(
        &self,
        token_hash: &str,
        session: NewPortalSession,
        now: Millis,
    ) -> Result<Option<CustomerId>>;
    /// The hash of a ticket's survey token, so a signed-in customer can answer it.
    async fn survey_token_hash(&self, ticket: TicketId) -> Result<Option<String>>;
    async fn add_portal_attachments(
        &self,
        ticket: TicketId,
        message: MessageId,
        files: Vec<NewPortalAttachment>,
        now: Millis,
    ) -> Result<()>;
    /// Every attachment of a ticket, uploaded or received by email, oldest first.
    async fn ticket_attachments(&self, ticket: TicketId) -> Result<Vec<PortalAttachment>>;
    async fn attachment_content(&self, id: i64) -> Result<Option<(PortalAttachment, Vec<u8>)>>;
    // --- end customer portal ---

    /// Bulk path for scale runs and benchmarks: `spec.count` open tickets with one
    /// inbound message each, written set-wise (no per-ticket events or routing).
    async fn seed_tickets(&self, spec: &SeedSpec) -> Result<u64>;

    // --- the agent console ---
    /// One of the console's queues, newest first (the breaching-soon queue: most
    /// urgent first).
    async fn console_queue(&self, queue: &ConsoleQueue, limit: i64) -> Result<Vec<Ticket>>;
    /// How many tickets a queue holds, counting no further than `cap`.
    async fn count_console_queue(&self, queue: &ConsoleQueue, cap: i64) -> Result<i64>;
    /// Every canned reply, by title.
    async fn canned_replies(&self) -> Result<Vec<CannedReply>>;
    async fn canned_reply(&self, id: i64) -> Result<CannedReply>;
    /// Creates (`id: None`) or replaces a canned reply; titles are unique.
    async fn save_canned_reply(
        &self,
        id: Option<i64>,
        reply: NewCannedReply,
        now: Millis,
    ) -> Result<CannedReply>;
    async fn delete_canned_reply(&self, id: i64) -> Result<()>;

    // --- whole-database operations (db copy, reports) ---
    async fn count_rows(&self, table: &str) -> Result<i64>;
    async fn export_rows(
        &self,
        table: &table::Table,
        after: i64,
        limit: i64,
    ) -> Result<Vec<table::Row>>;
    /// Writes rows with their ids kept; used by `db copy` into an empty database.
    async fn import_rows(&self, table: &table::Table, rows: &[table::Row]) -> Result<()>;
    /// Brings id sequences and derived indexes up to date after an import.
    async fn finish_import(&self) -> Result<()>;
}

/// Opens the store a URL names: `sqlite://PATH` (or a plain path) or `postgres://…`,
/// running migrations first.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Arc::new(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    }
}

/// Turns free text into terms both engines can match safely: letters and digits only,
/// so that no user input is ever read as query syntax.
pub(crate) fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(16)
        .map(|t| t.to_lowercase())
        .collect()
}
