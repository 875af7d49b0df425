//! Turning stored columns back into domain values, shared by both backends. Each
//! backend reads its rows into these plain parts; the checks live here once.

use recourse_domain::{
    Actor, Agent, AgentId, Channel, Customer, CustomerId, EmailAddress, Event, EventId, EventKind,
    Experience, Intervention, InterventionId, InterventionKind, InterventionResult, Message,
    MessageId, MessageKind, Millis, OrganizationId, Outcome, Priority, Role, Status, TeamId,
    Ticket, TicketId,
};

use crate::{Result, StoreError};

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

pub(crate) struct TicketParts {
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub need: Option<String>,
    pub status: String,
    pub priority: String,
    pub rung: String,
    pub customer_id: i64,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub tags: String,
    pub outcome: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) fn ticket(p: TicketParts) -> Result<Ticket> {
    Ok(Ticket {
        id: TicketId(p.id),
        number: p.number,
        subject: p.subject,
        need: p.need,
        status: Status::parse(&p.status).map_err(|e| corrupt("status", e))?,
        priority: Priority::parse(&p.priority).map_err(|e| corrupt("priority", e))?,
        rung: p.rung,
        customer_id: CustomerId(p.customer_id),
        assignee_id: p.assignee_id.map(AgentId),
        team_id: p.team_id.map(TeamId),
        tags: tags_from_json(&p.tags)?,
        outcome: p
            .outcome
            .as_deref()
            .map(Outcome::parse)
            .transpose()
            .map_err(|e| corrupt("outcome", e))?,
        created_at: Millis(p.created_at),
        updated_at: Millis(p.updated_at),
    })
}

pub(crate) struct AgentParts {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub experience: String,
    pub skills: String,
    pub team_id: Option<i64>,
    pub capacity: i64,
    pub active: bool,
    pub created_at: i64,
}

pub(crate) fn agent(p: AgentParts) -> Result<Agent> {
    Ok(Agent {
        id: AgentId(p.id),
        email: EmailAddress::parse(&p.email).map_err(|e| corrupt("agent email", e))?,
        name: p.name,
        role: Role::parse(&p.role).map_err(|e| corrupt("role", e))?,
        experience: Experience::parse(&p.experience).map_err(|e| corrupt("experience", e))?,
        skills: tags_from_json(&p.skills)?,
        team_id: p.team_id.map(TeamId),
        capacity: i32::try_from(p.capacity).unwrap_or(i32::MAX),
        active: p.active,
        created_at: Millis(p.created_at),
    })
}

pub(crate) fn customer(
    id: i64,
    email: String,
    name: Option<String>,
    org: Option<i64>,
    created_at: i64,
) -> Result<Customer> {
    Ok(Customer {
        id: CustomerId(id),
        email: EmailAddress::parse(&email).map_err(|e| corrupt("customer email", e))?,
        name,
        organization_id: org.map(OrganizationId),
        created_at: Millis(created_at),
    })
}

pub(crate) struct MessageParts {
    pub id: i64,
    pub ticket_id: i64,
    pub kind: String,
    pub channel: String,
    pub author_kind: String,
    pub author_id: Option<i64>,
    pub body: String,
    pub created_at: i64,
}

pub(crate) fn message(p: MessageParts) -> Result<Message> {
    Ok(Message {
        id: MessageId(p.id),
        ticket_id: TicketId(p.ticket_id),
        kind: MessageKind::parse(&p.kind).map_err(|e| corrupt("message kind", e))?,
        channel: Channel::parse(&p.channel).map_err(|e| corrupt("channel", e))?,
        author: Actor::from_parts(&p.author_kind, p.author_id)
            .ok_or_else(|| corrupt("message author", &p.author_kind))?,
        body: p.body,
        created_at: Millis(p.created_at),
    })
}

pub(crate) struct InterventionParts {
    pub id: i64,
    pub ticket_id: i64,
    pub kind: String,
    pub description: String,
    pub result: String,
    pub agent_id: Option<i64>,
    pub created_at: i64,
}

pub(crate) fn intervention(p: InterventionParts) -> Result<Intervention> {
    Ok(Intervention {
        id: InterventionId(p.id),
        ticket_id: TicketId(p.ticket_id),
        kind: InterventionKind::parse(&p.kind).map_err(|e| corrupt("intervention kind", e))?,
        description: p.description,
        result: InterventionResult::parse(&p.result)
            .map_err(|e| corrupt("intervention result", e))?,
        agent_id: p.agent_id.map(AgentId),
        created_at: Millis(p.created_at),
    })
}

pub(crate) fn event(
    id: i64,
    ticket: Option<i64>,
    actor_kind: String,
    actor_id: Option<i64>,
    data: String,
    at: i64,
) -> Result<Event> {
    Ok(Event {
        id: EventId(id),
        ticket_id: ticket.map(TicketId),
        actor: Actor::from_parts(&actor_kind, actor_id)
            .ok_or_else(|| corrupt("event actor", &actor_kind))?,
        kind: serde_json::from_str(&data).map_err(|e| corrupt("event data", e))?,
        at: Millis(at),
    })
}
