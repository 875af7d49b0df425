//! The transaction interface the desk's use cases run on: read what a decision needs
//! (with the ticket locked), write what it decided. Rows only: no rule here decides
//! anything, and no text here is read by a customer.
//!
//! Every method is one or two statements on the open transaction. On PostgreSQL they
//! are truly async; on SQLite the transaction is a savepoint in the single writer's
//! batch, so a future SQLite backend can run a whole use case on the writer's own
//! thread without changing a line of the desk.

use recourse_domain::ladder::Candidate;
use recourse_domain::template::Template;
use recourse_domain::{Channel, Demeanor, EscalationReason, MessageKind, Priority};

use crate::config::DeskConfig;
use crate::db::Tx;
use crate::rows::*;
pub use crate::tx_recovery::{CantHelpReviewRow, CantHelpRow};

/// A new ticket's row, decided by the desk (rung, assignee, clocks) before it is written.
#[derive(Debug, Clone)]
pub struct TicketRow<'a> {
    pub subject: &'a str,
    pub need: Option<&'a str>,
    pub priority: Priority,
    pub rung: &'a str,
    pub customer: CustomerId,
    pub tags: &'a [String],
    pub assignee: Option<AgentId>,
    pub sla: recourse_domain::SlaClocks,
    pub demeanor: Option<Demeanor>,
    pub now: Millis,
}

/// A message's row.
#[derive(Debug, Clone, Copy)]
pub struct MessageRow<'a> {
    pub ticket: TicketId,
    pub kind: MessageKind,
    pub channel: Channel,
    pub author: Actor,
    pub body: &'a str,
    pub demeanor: Option<Demeanor>,
    pub now: Millis,
}

/// One step on the ladder as it is recorded (no agent: escalation is blameless).
#[derive(Debug, Clone, Copy)]
pub struct StepRow<'a> {
    pub ticket: TicketId,
    pub up: bool,
    pub from: &'a str,
    pub to: &'a str,
    pub reason: Option<EscalationReason>,
    pub note: Option<&'a str>,
    pub message: Option<MessageId>,
    pub trigger: Option<MessageId>,
    pub at: Millis,
}

impl Tx {
    /// How the desk works now: ladder, SLA policy, calendar, automatic rules.
    pub async fn config(&mut self) -> Result<DeskConfig> {
        load_config(self).await
    }

    /// A customer-facing template (stored text, or the built-in one).
    pub async fn template(&mut self, key: &str) -> Result<Template> {
        load_template(self, key).await
    }

    /// Reads a ticket and locks it until the transaction ends.
    pub async fn lock_ticket(&mut self, id: TicketId) -> Result<Ticket> {
        lock_ticket(self, id).await
    }

    pub async fn agent(&mut self, id: AgentId) -> Result<Agent> {
        agent_in(self, id).await
    }

    pub async fn customer(&mut self, id: CustomerId) -> Result<Customer> {
        let row = db::query(
            "SELECT id, email, name, organization_id, supervised, created_at FROM customers WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(&mut *self)
        .await?
        .ok_or(StoreError::NotFound("customer"))?;
        decode::customer(&row)
    }

    /// The customer a new ticket is for (found or added by address), and whether a
    /// manager supervises them.
    pub async fn ticket_customer(
        &mut self,
        who: &crate::TicketFor,
        now: Millis,
    ) -> Result<(CustomerId, bool)> {
        ticket_customer(self, who, now).await
    }

    pub async fn interventions(&mut self, ticket: TicketId) -> Result<Vec<Intervention>> {
        let rows = db::query(
            "SELECT id, ticket_id, kind, description, result, agent_id, created_at FROM interventions WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(ticket.0)
        .fetch_all(&mut *self)
        .await?;
        rows.iter().map(decode::intervention).collect()
    }

    /// Present agents with their current load, for routing.
    pub async fn candidates(&mut self) -> Result<Vec<Candidate>> {
        candidates(self).await
    }

    /// Writes a new ticket and its tags; returns it as stored (with its number).
    pub async fn insert_ticket(&mut self, t: TicketRow<'_>, cfg: &DeskConfig) -> Result<Ticket> {
        let row = db::query(format!(
            "INSERT INTO tickets (number, subject, need, status, priority, rung, customer_id, tags, created_at, updated_at,
                                  assignee_id, first_response_due, resolution_due, sla_next_at, first_demeanor, last_demeanor)
             VALUES ({}, $1, $2, 'new', $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $12) RETURNING {TICKET_COLS}",
            self.backend().next_ticket_number()
        ))
        .bind(t.subject)
        .bind(t.need)
        .bind(t.priority.as_str())
        .bind(t.rung)
        .bind(t.customer.0)
        .bind(decode::tags_json(t.tags))
        .bind(t.now.0)
        .bind(t.assignee.map(|a| a.0))
        .bind(t.sla.first_response_due.map(|m| m.0))
        .bind(t.sla.resolution_due.map(|m| m.0))
        .bind(t.sla.next_check(&cfg.sla).map(|m| m.0))
        .bind(t.demeanor.map(|d| d.as_str()))
        .fetch_one(&mut *self)
        .await
        .map_err(|e| map_unique(e, "that ticket"))?;
        let ticket = decode::ticket(&row)?;
        insert_tags(self, ticket.id, t.tags).await?;
        Ok(ticket)
    }

    /// Writes a message. A customer's reading is kept on the ticket too; a reply is
    /// queued for mailing in the same transaction (so a committed reply is never left
    /// unsent) and ends any run of silent transfers.
    pub async fn insert_message(&mut self, m: MessageRow<'_>) -> Result<MessageId> {
        insert_message(
            self, m.ticket, m.kind, m.channel, m.author, m.body, m.demeanor, m.now,
        )
        .await
    }

    /// Only the message row: for a new ticket, whose row already carries the reading.
    pub async fn insert_message_row(&mut self, m: MessageRow<'_>) -> Result<MessageId> {
        insert_message_row(
            self, m.ticket, m.kind, m.channel, m.author, m.body, m.demeanor, m.now,
        )
        .await
    }

    /// Writes a ticket's new state and its events (one actor for all); an assignee that
    /// does not exist is `NotFound("assignee")`.
    pub async fn save_ticket(
        &mut self,
        cfg: &DeskConfig,
        before: &Ticket,
        after: &Ticket,
        events: &[EventKind],
        actor: Actor,
        now: Millis,
    ) -> Result<()> {
        // The only reference a change can break is the assignee.
        save_ticket(self, cfg, before, after, events, actor, now)
            .await
            .map_err(fk_as_assignee)
    }

    /// Appends events, each with its own actor, in one statement.
    pub async fn append_events(
        &mut self,
        ticket: Option<TicketId>,
        events: &[(Actor, &EventKind)],
        now: Millis,
    ) -> Result<()> {
        insert_events(self, ticket, events, now).await
    }

    /// Remembers when an agent last received a ticket (round-robin among equals).
    pub async fn note_assigned(&mut self, agent: Option<AgentId>, now: Millis) -> Result<()> {
        note_assigned(self, agent, now).await
    }

    pub async fn record_step(&mut self, s: StepRow<'_>) -> Result<()> {
        db::query(
            "INSERT INTO escalations (ticket_id, direction, from_rung, to_rung, reason, note, message_id, trigger_message_id, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(s.ticket.0)
        .bind(if s.up { "up" } else { "down" })
        .bind(s.from)
        .bind(s.to)
        .bind(s.reason.map(|r| r.as_str()))
        .bind(s.note)
        .bind(s.message.map(|m| m.0))
        .bind(s.trigger.map(|m| m.0))
        .bind(s.at.0)
        .execute(&mut *self)
        .await?;
        Ok(())
    }

    /// Customer messages since the desk last replied.
    pub async fn unanswered(&mut self, ticket: TicketId) -> Result<i64> {
        db::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE ticket_id = $1 AND kind = 'inbound'
               AND id > COALESCE((SELECT MAX(id) FROM messages WHERE ticket_id = $1 AND kind = 'reply'), 0)",
        )
        .bind(ticket.0)
        .fetch_one(&mut *self)
        .await
    }

    pub async fn intervention_count(&mut self, ticket: TicketId) -> Result<i64> {
        db::query_scalar("SELECT COUNT(*) FROM interventions WHERE ticket_id = $1")
            .bind(ticket.0)
            .fetch_one(&mut *self)
            .await
    }

    /// Whether a message has already moved its ticket up the ladder.
    pub async fn moved_by(&mut self, trigger: MessageId) -> Result<bool> {
        let n: i64 =
            db::query_scalar("SELECT COUNT(*) FROM escalations WHERE trigger_message_id = $1")
                .bind(trigger.0)
                .fetch_one(&mut *self)
                .await?;
        Ok(n > 0)
    }

    /// Claims the ticket whose SLA check is due soonest (another node's claim is
    /// skipped on PostgreSQL; SQLite's single writer serialises).
    pub async fn claim_due_sla(&mut self, now: Millis) -> Result<Option<TicketId>> {
        let id: Option<i64> = db::query_scalar(format!(
            "SELECT id FROM tickets WHERE sla_next_at <= $1 ORDER BY sla_next_at LIMIT 1{}",
            self.backend().claim_lock()
        ))
        .bind(now.0)
        .fetch_optional(&mut *self)
        .await?;
        Ok(id.map(TicketId))
    }

    /// When the sweeper should look at a ticket next.
    pub async fn set_sla_next(&mut self, ticket: TicketId, at: Option<Millis>) -> Result<()> {
        db::query("UPDATE tickets SET sla_next_at = $1 WHERE id = $2")
            .bind(at.map(|m| m.0))
            .bind(ticket.0)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    /// Marks an agent present or away; `false` when there is no such agent.
    pub async fn set_present(&mut self, agent: AgentId, present: bool) -> Result<bool> {
        let done = db::query("UPDATE agents SET present = $1 WHERE id = $2")
            .bind(present)
            .bind(agent.0)
            .execute(&mut *self)
            .await?;
        Ok(done > 0)
    }

    /// The tickets an agent holds that still need work, oldest first.
    pub async fn active_tickets_of(&mut self, agent: AgentId) -> Result<Vec<TicketId>> {
        let ids: Vec<i64> = db::query_scalar(
            "SELECT id FROM tickets WHERE assignee_id = $1 AND status IN ('new', 'open', 'pending_customer') ORDER BY id",
        )
        .bind(agent.0)
        .fetch_all(&mut *self)
        .await?;
        Ok(ids.into_iter().map(TicketId).collect())
    }

    /// The ticket a message belongs to and whether the customer wrote it.
    pub async fn message_origin(&mut self, message: MessageId) -> Result<(TicketId, MessageKind)> {
        let row: Option<(i64, String)> =
            db::query_as("SELECT ticket_id, kind FROM messages WHERE id = $1")
                .bind(message.0)
                .fetch_optional(&mut *self)
                .await?;
        let (ticket, kind) = row.ok_or(StoreError::NotFound("message"))?;
        let kind = MessageKind::parse(&kind).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok((TicketId(ticket), kind))
    }

    /// Stores a reading on a customer's message (abusive ones are masked for agents),
    /// and on the ticket where it is the customer's first or latest word. Returns
    /// whether it is the latest.
    pub async fn set_message_demeanor(
        &mut self,
        ticket: TicketId,
        message: MessageId,
        demeanor: Demeanor,
    ) -> Result<bool> {
        db::query("UPDATE messages SET demeanor = $1, masked = $2 WHERE id = $3")
            .bind(demeanor.as_str())
            .bind(demeanor == Demeanor::Abusive)
            .bind(message.0)
            .execute(&mut *self)
            .await?;
        let (first, last): (i64, i64) = db::query_as(
            "SELECT MIN(id), MAX(id) FROM messages WHERE ticket_id = $1 AND kind = 'inbound'",
        )
        .bind(ticket.0)
        .fetch_one(&mut *self)
        .await?;
        if message.0 == first {
            db::query("UPDATE tickets SET first_demeanor = $1 WHERE id = $2")
                .bind(demeanor.as_str())
                .bind(ticket.0)
                .execute(&mut *self)
                .await?;
        }
        if message.0 == last {
            db::query("UPDATE tickets SET last_demeanor = $1 WHERE id = $2")
                .bind(demeanor.as_str())
                .bind(ticket.0)
                .execute(&mut *self)
                .await?;
        }
        Ok(message.0 == last)
    }
}
