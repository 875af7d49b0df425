//! What callers hand the store, and the small records only the store deals in.

use recourse_domain::{
    Actor, AgentId, Body, Channel, CustomerId, EmailAddress, Experience, InterventionKind,
    InterventionResult, MessageKind, Millis, Need, PersonName, Priority, Role, Status, Subject,
    Tag, TeamId, Ticket, TicketId,
};

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub email: EmailAddress,
    pub name: PersonName,
    pub role: Role,
    pub experience: Experience,
    pub skills: Vec<Tag>,
    pub team_id: Option<TeamId>,
    pub capacity: i32,
    pub password_hash: String,
    pub now: Millis,
}

/// Whose credential a token or session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Agent(AgentId),
    Customer(CustomerId),
}

impl Principal {
    pub fn parts(self) -> (&'static str, i64) {
        match self {
            Principal::Agent(a) => ("agent", a.0),
            Principal::Customer(c) => ("customer", c.0),
        }
    }

    pub fn from_parts(kind: &str, id: i64) -> Option<Principal> {
        match kind {
            "agent" => Some(Principal::Agent(AgentId(id))),
            "customer" => Some(Principal::Customer(CustomerId(id))),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub principal: Principal,
    pub name: String,
    /// SHA-256 of the secret, hex. The secret itself is never stored.
    pub token_hash: String,
    /// `full` or `read`.
    pub scope: String,
    pub now: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub principal: Principal,
    pub name: String,
    pub scope: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the cookie value, hex.
    pub id_hash: String,
    pub principal: Principal,
    pub csrf_token: String,
    pub now: Millis,
    pub expires_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub principal: Principal,
    pub csrf_token: String,
    pub expires_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewTicket {
    pub customer_id: CustomerId,
    pub subject: Subject,
    pub body: Body,
    pub need: Option<Need>,
    pub priority: Priority,
    pub tags: Vec<Tag>,
    pub channel: Channel,
    pub rung: String,
    pub actor: Actor,
    pub now: Millis,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub ticket_id: TicketId,
    pub kind: MessageKind,
    pub channel: Channel,
    pub author: Actor,
    pub body: Body,
    /// An explicit status to move to with this message (e.g. reply and set pending).
    pub status: Option<Status>,
    pub now: Millis,
}

#[derive(Debug, Clone)]
pub struct NewIntervention {
    pub ticket_id: TicketId,
    pub kind: InterventionKind,
    pub description: Body,
    pub result: InterventionResult,
    pub agent_id: Option<AgentId>,
    pub now: Millis,
}

/// Assignee filter: anyone, nobody, or one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssigneeFilter {
    #[default]
    Any,
    Unassigned,
    Agent(AgentId),
}

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<Status>,
    pub rung: Option<String>,
    pub assignee: AssigneeFilter,
    pub tag: Option<String>,
    pub customer: Option<CustomerId>,
    /// Cursor: only tickets with a smaller id.
    pub before: Option<TicketId>,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub text: String,
    /// Scope the search to one customer's tickets (and hide internal notes).
    pub customer: Option<CustomerId>,
    pub filter: TicketFilter,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    pub ticket: Ticket,
    /// Higher is better; only comparable within one result list.
    pub score: f64,
}
