//! The records the desk keeps, as read back from the store.

use crate::{
    Actor, AgentId, Channel, CustomerId, Demeanor, EmailAddress, EventId, EventKind, Experience,
    InterventionId, InterventionKind, InterventionResult, MessageId, MessageKind, Millis,
    OrganizationId, Outcome, Priority, Role, SlaClocks, Status, TeamId, TicketId,
};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    /// Mail domain whose senders belong to this organization, if any.
    pub domain: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Customer {
    pub id: CustomerId,
    pub email: EmailAddress,
    pub name: Option<String>,
    pub organization_id: Option<OrganizationId>,
    /// After repeated abuse a manager may supervise a customer: their new tickets start
    /// with a manager. They can always still reach the desk.
    pub supervised: bool,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Agent {
    pub id: AgentId,
    pub email: EmailAddress,
    pub name: String,
    pub role: Role,
    pub experience: Experience,
    pub skills: Vec<String>,
    pub team_id: Option<TeamId>,
    /// How many active tickets the agent can carry at once.
    pub capacity: i32,
    pub active: bool,
    /// Present agents receive new work; away agents' tickets are handed on.
    pub present: bool,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ticket {
    pub id: TicketId,
    /// The customer-facing reference, e.g. in mail subjects: `[#1042]`.
    pub number: i64,
    pub subject: String,
    pub need: Option<String>,
    pub status: Status,
    pub priority: Priority,
    pub rung: String,
    pub customer_id: CustomerId,
    pub assignee_id: Option<AgentId>,
    pub team_id: Option<TeamId>,
    pub tags: Vec<String>,
    pub outcome: Option<Outcome>,
    /// Set by a `needs_experience` escalation: routing never gives it to a junior.
    pub needs_experience: bool,
    pub sla: SlaClocks,
    /// When the customer first heard from the desk.
    pub first_response_at: Option<Millis>,
    /// When the ticket last became resolved or closed; cleared on reopening.
    pub ended_at: Option<Millis>,
    /// Transferred more than the desk allows without answering the customer.
    pub ping_pong: bool,
    /// A can't-help without a partial solution waits for a manager.
    pub review_pending: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    pub id: MessageId,
    pub ticket_id: TicketId,
    pub kind: MessageKind,
    pub channel: Channel,
    pub author: Actor,
    pub body: String,
    /// How the customer's message reads (inbound only), from the judge or an agent.
    pub demeanor: Option<Demeanor>,
    /// Abusive: hidden in agent views until someone chooses to reveal it.
    pub masked: bool,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Intervention {
    pub id: InterventionId,
    pub ticket_id: TicketId,
    pub kind: InterventionKind,
    pub description: String,
    pub result: InterventionResult,
    pub agent_id: Option<AgentId>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub id: EventId,
    pub ticket_id: Option<TicketId>,
    pub actor: Actor,
    pub kind: EventKind,
    pub at: Millis,
}
