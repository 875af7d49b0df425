//! Request and response bodies of the API, with their OpenAPI schemas.

use recourse_domain::{Event, Intervention, Message, Ticket};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::extract::double_option;
use crate::rfc3339;

/// OpenAPI schemas for the domain's word enums: a string restricted to the words.
pub mod words {
    use super::*;

    fn words(list: &[&str]) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(list.iter().copied()))
            .build()
    }

    /// One schema function per word enum, as utoipa's `schema_with` wants.
    macro_rules! word_schemas {
        ($($name:ident => $ty:ident),+ $(,)?) => {
            $(pub fn $name() -> Object {
                words(recourse_domain::$ty::WORDS)
            })+
        };
    }

    word_schemas!(
        status => Status,
        priority => Priority,
        outcome => Outcome,
        message_kind => MessageKind,
        channel => Channel,
        intervention_kind => InterventionKind,
        intervention_result => InterventionResult,
        role => Role,
        experience => Experience,
        escalation_reason => EscalationReason,
        demeanor => Demeanor,
        cant_help_reason => CantHelpReason,
    );
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub email: String,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    /// Required when an agent opens the ticket; a customer opens tickets for themselves.
    pub customer: Option<CustomerInput>,
    pub subject: String,
    /// The customer's first message.
    pub body: String,
    /// What the customer needs, if already known.
    pub need: Option<String>,
    #[schema(schema_with = words::priority)]
    pub priority: Option<recourse_domain::Priority>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTicket {
    #[schema(schema_with = words::status)]
    pub status: Option<recourse_domain::Status>,
    #[schema(schema_with = words::priority)]
    pub priority: Option<recourse_domain::Priority>,
    /// `null` or blank clears the need.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub need: Option<Option<String>>,
    /// `null` unassigns.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    pub tags: Option<Vec<String>>,
    /// Needed when closing a ticket that is not resolved.
    #[schema(schema_with = words::outcome)]
    pub outcome: Option<recourse_domain::Outcome>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// `reply` (to the customer) or `note` (internal). Customers omit it.
    #[schema(schema_with = words::message_kind)]
    pub kind: Option<recourse_domain::MessageKind>,
    pub body: String,
    /// Optionally move the ticket with this message, e.g. reply and wait on the customer.
    #[schema(schema_with = words::status)]
    pub status: Option<recourse_domain::Status>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostIntervention {
    #[schema(schema_with = words::intervention_kind)]
    pub kind: recourse_domain::InterventionKind,
    pub description: String,
    /// Defaults to `pending`.
    #[schema(schema_with = words::intervention_result)]
    pub result: Option<recourse_domain::InterventionResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    pub id: i64,
    /// The reference customers see, e.g. `#1042`.
    pub number: i64,
    pub subject: String,
    pub need: Option<String>,
    #[schema(schema_with = words::status)]
    pub status: recourse_domain::Status,
    #[schema(schema_with = words::priority)]
    pub priority: recourse_domain::Priority,
    pub rung: String,
    pub customer_id: i64,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub tags: Vec<String>,
    #[schema(schema_with = words::outcome)]
    pub outcome: Option<recourse_domain::Outcome>,
    /// Set by a `needs_experience` escalation: never routed to a junior.
    pub needs_experience: bool,
    pub sla: SlaView,
    /// Passed on too often without an answer to the customer.
    pub ping_pong: bool,
    /// A can't-help that offered nothing waits for a manager.
    pub review_pending: bool,
    pub first_response_at: Option<String>,
    /// When it was last resolved or closed.
    pub ended_at: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

/// The ticket's SLA deadlines (RFC 3339, UTC); `null` when nothing is owed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaView {
    pub first_response_due: Option<String>,
    pub next_update_due: Option<String>,
    pub resolution_due: Option<String>,
    /// Set while the ticket waits on the customer: the clocks are stopped.
    pub paused_since: Option<String>,
    /// Clocks whose deadline passed: `first_response`, `next_update`, `resolution`.
    pub breached: Vec<String>,
}

impl From<recourse_domain::SlaClocks> for SlaView {
    fn from(s: recourse_domain::SlaClocks) -> Self {
        SlaView {
            first_response_due: s.first_response_due.map(rfc3339),
            next_update_due: s.next_update_due.map(rfc3339),
            resolution_due: s.resolution_due.map(rfc3339),
            paused_since: s.paused_at.map(rfc3339),
            breached: recourse_domain::SlaClock::ALL
                .iter()
                .filter(|c| s.breached & c.bit() != 0)
                .map(|c| c.as_str().to_owned())
                .collect(),
        }
    }
}

impl From<Ticket> for TicketView {
    fn from(t: Ticket) -> Self {
        TicketView {
            id: t.id.0,
            number: t.number,
            subject: t.subject,
            need: t.need,
            status: t.status,
            priority: t.priority,
            rung: t.rung,
            customer_id: t.customer_id.0,
            assignee_id: t.assignee_id.map(|a| a.0),
            team_id: t.team_id.map(|t| t.0),
            tags: t.tags,
            outcome: t.outcome,
            needs_experience: t.needs_experience,
            sla: t.sla.into(),
            ping_pong: t.ping_pong,
            review_pending: t.review_pending,
            first_response_at: t.first_response_at.map(rfc3339),
            ended_at: t.ended_at.map(rfc3339),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActorView {
    /// `agent`, `customer` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<i64>,
}

impl From<recourse_domain::Actor> for ActorView {
    fn from(a: recourse_domain::Actor) -> Self {
        ActorView {
            kind: a.kind().to_owned(),
            id: a.id(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    #[schema(schema_with = words::message_kind)]
    pub kind: recourse_domain::MessageKind,
    #[schema(schema_with = words::channel)]
    pub channel: recourse_domain::Channel,
    pub author: ActorView,
    /// Exactly as written; escape it before putting it in HTML.
    pub body: String,
    /// How a customer's message reads (agents only).
    #[schema(schema_with = words::demeanor)]
    pub demeanor: Option<recourse_domain::Demeanor>,
    /// The message reads as abusive: its body is withheld from agents until one
    /// reveals it (`POST …/messages/{id}/reveal`).
    pub masked: bool,
    pub created_at: String,
}

impl MessageView {
    pub fn for_agent(m: Message) -> Self {
        let masked = m.masked;
        let mut v: MessageView = m.into();
        if masked {
            v.body = String::new();
        }
        v
    }

    /// The customer's own view: never masked, no readings.
    pub fn for_customer(m: Message) -> Self {
        let mut v: MessageView = m.into();
        v.masked = false;
        v.demeanor = None;
        v
    }
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        MessageView {
            id: m.id.0,
            kind: m.kind,
            channel: m.channel,
            author: m.author.into(),
            body: m.body,
            demeanor: m.demeanor,
            masked: m.masked,
            created_at: rfc3339(m.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InterventionView {
    pub id: i64,
    #[schema(schema_with = words::intervention_kind)]
    pub kind: recourse_domain::InterventionKind,
    pub description: String,
    #[schema(schema_with = words::intervention_result)]
    pub result: recourse_domain::InterventionResult,
    pub agent_id: Option<i64>,
    pub created_at: String,
}

impl From<Intervention> for InterventionView {
    fn from(i: Intervention) -> Self {
        InterventionView {
            id: i.id.0,
            kind: i.kind,
            description: i.description,
            result: i.result,
            agent_id: i.agent_id.map(|a| a.0),
            created_at: rfc3339(i.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    pub at: String,
    pub actor: ActorView,
    /// What happened, e.g. `status_changed`; the other fields depend on it.
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        let mut data = serde_json::to_value(&e.kind).unwrap_or_default();
        if let Some(obj) = data.as_object_mut() {
            obj.remove("type");
        }
        EventView {
            id: e.id.0,
            at: rfc3339(e.at),
            actor: e.actor.into(),
            kind: e.kind.name().to_owned(),
            data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DemeanorPoint {
    pub message_id: i64,
    #[schema(schema_with = words::demeanor)]
    pub demeanor: recourse_domain::Demeanor,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketView,
    pub messages: Vec<MessageView>,
    /// What was done for the customer. Agents only; empty for customers.
    pub interventions: Vec<InterventionView>,
    /// How each of the customer's messages read, oldest first. Agents only.
    pub demeanor_trajectory: Vec<DemeanorPoint>,
    /// Every change, oldest first, read from the append-only event log.
    pub history: Vec<EventView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPage {
    pub tickets: Vec<TicketView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitView {
    pub ticket: TicketView,
    /// Relevance; higher is better, comparable only within one response.
    pub score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub hits: Vec<SearchHitView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageCreated {
    pub message: MessageView,
    pub ticket: TicketView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[schema(schema_with = words::role)]
    pub role: recourse_domain::Role,
    #[schema(schema_with = words::experience)]
    pub experience: recourse_domain::Experience,
    pub skills: Vec<String>,
    pub team_id: Option<i64>,
    pub capacity: i32,
    pub active: bool,
    /// Away agents get no new work.
    pub present: bool,
}

impl From<recourse_domain::Agent> for AgentView {
    fn from(a: recourse_domain::Agent) -> Self {
        AgentView {
            id: a.id.0,
            email: a.email.into_inner(),
            name: a.name,
            role: a.role,
            experience: a.experience,
            skills: a.skills,
            team_id: a.team_id.map(|t| t.0),
            capacity: a.capacity,
            active: a.active,
            present: a.present,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    pub email: String,
    pub name: String,
    #[schema(schema_with = words::role)]
    pub role: recourse_domain::Role,
    #[schema(schema_with = words::experience)]
    pub experience: recourse_domain::Experience,
    #[serde(default)]
    pub skills: Vec<String>,
    pub team_id: Option<i64>,
    pub capacity: Option<i32>,
    /// At least 12 characters.
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResult {
    pub agent: AgentView,
    /// Send back as `X-CSRF-Token` on every write made with the session cookie.
    pub csrf_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    /// `full` (default) or `read`.
    pub scope: Option<String>,
    /// Admins only: make the token for this agent instead of the caller.
    pub agent_id: Option<i64>,
    /// Admins only: make the token for this customer (for a customer's own integration).
    pub customer_id: Option<i64>,
}

/// A token as listed: never the secret or its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub scope: String,
    /// `agent` or `customer`.
    pub principal_kind: String,
    pub principal_id: i64,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl From<recourse_desk::ApiToken> for TokenView {
    fn from(t: recourse_desk::ApiToken) -> Self {
        let (kind, id) = t.principal.parts();
        TokenView {
            id: t.id,
            name: t.name,
            scope: t.scope,
            principal_kind: kind.to_owned(),
            principal_id: id,
            created_at: crate::rfc3339(t.created_at),
            revoked_at: t.revoked_at.map(crate::rfc3339),
        }
    }
}

/// An admin's change to an agent; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgent {
    #[schema(schema_with = words::role)]
    pub role: Option<recourse_domain::Role>,
    #[schema(schema_with = words::experience)]
    pub experience: Option<recourse_domain::Experience>,
    /// `null` takes the agent out of their team.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
    pub capacity: Option<i32>,
    /// `false` switches the account off: no sign-in, no tokens, open tickets handed on.
    pub active: Option<bool>,
    /// A new password (at least 12 characters), e.g. for an agent added without one.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    pub id: i64,
    pub name: String,
}

impl From<recourse_domain::Team> for TeamView {
    fn from(t: recourse_domain::Team) -> Self {
        TeamView {
            id: t.id.0,
            name: t.name,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    pub id: i64,
    pub name: String,
    pub scope: String,
    /// Shown once; only its hash is stored.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `agent` or `customer`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    #[schema(schema_with = words::role)]
    pub role: Option<recourse_domain::Role>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}
