//! Turning stored rows back into domain values, once for both backends. The functions
//! are generic over sqlx's `Row`: both schemas use the same column names and types
//! (BIGINT/INTEGER, TEXT, and booleans that SQLite keeps as 0/1).

use crate::db::Row;
use recourse_domain::{
    Actor, Agent, AgentId, Channel, Customer, CustomerId, Demeanor, EmailAddress, Event, EventId,
    EventKind, Experience, Intervention, InterventionId, InterventionKind, InterventionResult,
    Message, MessageId, MessageKind, Millis, OrganizationId, Outcome, Priority, Role, SlaClocks,
    Status, TeamId, Ticket, TicketId,
};

use crate::{ApiToken, Principal, Result, Session, StoreError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn tags_json(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())
}

fn tags_from_json(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).map_err(|e| corrupt("tags", e))
}

pub(crate) fn event_json(kind: &EventKind) -> String {
    // EventKind holds only strings, numbers and enums: serialising cannot fail.
    serde_json::to_string(kind).unwrap_or_default()
}

/// A row either backend returns: columns by name, decodable as the few types we store.
pub(crate) trait StoredRow {
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn flag(&self, col: &str) -> Result<bool>;
}

impl StoredRow for Row {
    fn int(&self, col: &str) -> Result<i64> {
        Ok(self.try_get(col)?)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        Ok(self.try_get(col)?)
    }
    fn text(&self, col: &str) -> Result<String> {
        Ok(self.try_get(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get(col)?)
    }
    fn flag(&self, col: &str) -> Result<bool> {
        Ok(self.try_get(col)?)
    }
}

pub(crate) fn ticket(r: &impl StoredRow) -> Result<Ticket> {
    Ok(Ticket {
        id: TicketId(r.int("id")?),
        number: r.int("number")?,
        subject: r.text("subject")?,
        need: r.opt_text("need")?,
        status: Status::parse(&r.text("status")?).map_err(|e| corrupt("status", e))?,
        priority: Priority::parse(&r.text("priority")?).map_err(|e| corrupt("priority", e))?,
        rung: r.text("rung")?,
        customer_id: CustomerId(r.int("customer_id")?),
        assignee_id: r.opt_int("assignee_id")?.map(AgentId),
        team_id: r.opt_int("team_id")?.map(TeamId),
        tags: tags_from_json(&r.text("tags")?)?,
        outcome: r
            .opt_text("outcome")?
            .as_deref()
            .map(Outcome::parse)
            .transpose()
            .map_err(|e| corrupt("outcome", e))?,
        needs_experience: r.flag("needs_experience")?,
        sla: SlaClocks {
            first_response_due: r.opt_int("first_response_due")?.map(Millis),
            next_update_due: r.opt_int("next_update_due")?.map(Millis),
            resolution_due: r.opt_int("resolution_due")?.map(Millis),
            paused_at: r.opt_int("sla_paused_at")?.map(Millis),
            warned: r.int("sla_warned")? as u8,
            breached: r.int("sla_breached")? as u8,
        },
        first_response_at: r.opt_int("first_response_at")?.map(Millis),
        ended_at: r.opt_int("ended_at")?.map(Millis),
        ping_pong: r.flag("ping_pong")?,
        review_pending: r.flag("review_pending")?,
        created_at: Millis(r.int("created_at")?),
        updated_at: Millis(r.int("updated_at")?),
    })
}

pub(crate) fn agent(r: &impl StoredRow) -> Result<Agent> {
    Ok(Agent {
        id: AgentId(r.int("id")?),
        email: EmailAddress::parse(&r.text("email")?).map_err(|e| corrupt("agent email", e))?,
        name: r.text("name")?,
        role: Role::parse(&r.text("role")?).map_err(|e| corrupt("role", e))?,
        experience: Experience::parse(&r.text("experience")?)
            .map_err(|e| corrupt("experience", e))?,
        skills: tags_from_json(&r.text("skills")?)?,
        team_id: r.opt_int("team_id")?.map(TeamId),
        capacity: i32::try_from(r.int("capacity")?).unwrap_or(i32::MAX),
        active: r.flag("active")?,
        present: r.flag("present")?,
        created_at: Millis(r.int("created_at")?),
    })
}

pub(crate) fn customer(r: &impl StoredRow) -> Result<Customer> {
    Ok(Customer {
        id: CustomerId(r.int("id")?),
        email: EmailAddress::parse(&r.text("email")?).map_err(|e| corrupt("customer email", e))?,
        name: r.opt_text("name")?,
        organization_id: r.opt_int("organization_id")?.map(OrganizationId),
        supervised: r.flag("supervised")?,
        created_at: Millis(r.int("created_at")?),
    })
}

pub(crate) fn message(r: &impl StoredRow) -> Result<Message> {
    let author_kind = r.text("author_kind")?;
    Ok(Message {
        id: MessageId(r.int("id")?),
        ticket_id: TicketId(r.int("ticket_id")?),
        kind: MessageKind::parse(&r.text("kind")?).map_err(|e| corrupt("message kind", e))?,
        channel: Channel::parse(&r.text("channel")?).map_err(|e| corrupt("channel", e))?,
        author: Actor::from_parts(&author_kind, r.opt_int("author_id")?)
            .ok_or_else(|| corrupt("message author", &author_kind))?,
        body: r.text("body")?,
        demeanor: r
            .opt_text("demeanor")?
            .as_deref()
            .map(Demeanor::parse)
            .transpose()
            .map_err(|e| corrupt("demeanor", e))?,
        masked: r.flag("masked")?,
        created_at: Millis(r.int("created_at")?),
    })
}

pub(crate) fn intervention(r: &impl StoredRow) -> Result<Intervention> {
    Ok(Intervention {
        id: InterventionId(r.int("id")?),
        ticket_id: TicketId(r.int("ticket_id")?),
        kind: InterventionKind::parse(&r.text("kind")?)
            .map_err(|e| corrupt("intervention kind", e))?,
        description: r.text("description")?,
        result: InterventionResult::parse(&r.text("result")?)
            .map_err(|e| corrupt("intervention result", e))?,
        agent_id: r.opt_int("agent_id")?.map(AgentId),
        created_at: Millis(r.int("created_at")?),
    })
}

pub(crate) fn event(r: &impl StoredRow) -> Result<Event> {
    let actor_kind = r.text("actor_kind")?;
    Ok(Event {
        id: EventId(r.int("id")?),
        ticket_id: r.opt_int("ticket_id")?.map(TicketId),
        actor: Actor::from_parts(&actor_kind, r.opt_int("actor_id")?)
            .ok_or_else(|| corrupt("event actor", &actor_kind))?,
        kind: serde_json::from_str(&r.text("data")?).map_err(|e| corrupt("event data", e))?,
        at: Millis(r.int("at")?),
    })
}

fn principal(r: &impl StoredRow) -> Result<Principal> {
    let kind = r.text("principal_kind")?;
    Principal::from_parts(&kind, r.int("principal_id")?).ok_or_else(|| corrupt("principal", kind))
}

pub(crate) fn api_token(r: &impl StoredRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.int("id")?,
        principal: principal(r)?,
        name: r.text("name")?,
        scope: r.text("scope")?,
        created_at: Millis(r.int("created_at")?),
        revoked_at: r.opt_int("revoked_at")?.map(Millis),
    })
}

pub(crate) fn session(r: &impl StoredRow) -> Result<Session> {
    Ok(Session {
        principal: principal(r)?,
        csrf_token: r.text("csrf_token")?,
        expires_at: Millis(r.int("expires_at")?),
    })
}
