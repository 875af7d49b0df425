//! What callers hand the store, and the small records only the store deals in.

use recourse_domain::template::Template;
use recourse_domain::{
    Actor, Agent, AgentId, Body, Calendar, Channel, Customer, CustomerId, Demeanor, EmailAddress,
    EscalationReason, Event, Experience, Intervention, InterventionKind, InterventionResult,
    MessageId, MessageKind, Millis, Need, PersonName, Priority, Role, Rung, Status, Subject, Tag,
    TeamId, Ticket, TicketId,
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

/// An admin's change to an agent; `None` leaves that field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgentChange {
    pub role: Option<Role>,
    pub experience: Option<Experience>,
    /// `Some(None)` takes the agent out of their team.
    pub team_id: Option<Option<TeamId>>,
    pub capacity: Option<i32>,
    /// `false` stops the agent signing in and using their tokens; history stays theirs.
    pub active: Option<bool>,
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

/// Whom a new ticket is for: a known customer, or an address that is found or added in
/// the ticket's own transaction (one write, one durable commit, instead of two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketFor {
    Customer(CustomerId),
    /// A name given here fills in a missing one but never overwrites what we know.
    Address {
        email: EmailAddress,
        name: Option<PersonName>,
    },
}

impl From<CustomerId> for TicketFor {
    fn from(id: CustomerId) -> Self {
        TicketFor::Customer(id)
    }
}

#[derive(Debug, Clone)]
pub struct NewTicket {
    pub customer: TicketFor,
    pub subject: Subject,
    pub body: Body,
    pub need: Option<Need>,
    pub priority: Priority,
    pub tags: Vec<Tag>,
    pub channel: Channel,
    /// How the first message reads, if the judge has read it.
    pub demeanor: Option<Demeanor>,
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
    /// How an inbound message reads, if the judge has read it.
    pub demeanor: Option<Demeanor>,
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

/// What managers are shown in their queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketFlag {
    /// Transferred too often without an answer to the customer.
    PingPong,
    /// A can't-help without a partial solution, waiting for a manager.
    ReviewPending,
}

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<Status>,
    pub rung: Option<String>,
    pub assignee: AssigneeFilter,
    pub tag: Option<String>,
    pub customer: Option<CustomerId>,
    /// Only tickets flagged for managers.
    pub flag: Option<TicketFlag>,
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

/// A move up the ladder. `message` is what the customer is sent; `None` sends the
/// drafted handoff. `assignee` names who takes it (the draft's choice); `None` routes.
#[derive(Debug, Clone)]
pub struct EscalationRequest {
    pub ticket_id: TicketId,
    pub reason: EscalationReason,
    pub note: Option<String>,
    pub message: Option<Body>,
    pub assignee: Option<AgentId>,
    pub channel: Channel,
    pub actor: Actor,
    pub now: Millis,
}

/// A manager moving a case one rung back down.
#[derive(Debug, Clone)]
pub struct Descent {
    pub ticket_id: TicketId,
    pub note: String,
    pub actor: Actor,
    pub now: Millis,
}

/// What a handoff draft needs, gathered in one read.
#[derive(Debug, Clone)]
pub struct HandoffPlan {
    pub ticket: Ticket,
    pub customer: Customer,
    pub interventions: Vec<Intervention>,
    pub to: Rung,
    /// Who routing would give the case to now, if anyone is free.
    pub assignee: Option<Agent>,
    pub reply_by: Millis,
    pub calendar: Calendar,
    pub template: Template,
}

impl HandoffPlan {
    /// The customer-facing handoff text, signed by `agent_name` (or the team).
    pub fn draft(&self, agent_name: Option<&str>) -> String {
        let reply_by = self.calendar.describe(self.reply_by);
        recourse_domain::template::draft_handoff(
            &self.template,
            &recourse_domain::template::HandoffFacts {
                customer_name: self.customer.name.as_deref(),
                ticket_number: self.ticket.number,
                subject: &self.ticket.subject,
                interventions: &self.interventions,
                next_person: self.assignee.as_ref().map(|a| a.name.as_str()),
                next_rung_title: &self.to.title,
                reply_by: &reply_by,
                agent_name,
            },
        )
    }
}

/// One step on the ladder as recorded (no agent: escalation is blameless).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationRecord {
    pub id: i64,
    pub ticket_id: TicketId,
    pub up: bool,
    pub from_rung: String,
    pub to_rung: String,
    pub reason: Option<EscalationReason>,
    pub note: Option<String>,
    pub message_id: Option<MessageId>,
    pub at: Millis,
}

/// What `seed_tickets` writes.
#[derive(Debug, Clone)]
pub struct SeedSpec {
    pub count: i64,
    /// Whom the tickets are for, unless `tickets_per_customer` is set.
    pub customer_id: CustomerId,
    /// When above zero, new customers are added (`seeded-…@example.com`), one for each
    /// this many tickets, and the tickets spread over them.
    pub tickets_per_customer: i64,
    pub created_at: Millis,
    /// The first `due` tickets have an SLA check due at `created_at`; the rest are due
    /// far in the future, so a sweeper must find the few among the many.
    pub due: i64,
    pub rung: String,
    /// Seed ended tickets instead (closed over the day after `created_at`, with a
    /// spread of outcomes, readings, transfers and breaches) for report benchmarks.
    pub ended: bool,
    /// Messages per ticket (the customer's, a minute apart).
    pub messages: i64,
}

/// What one sweeper pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    pub examined: u32,
    pub warned: u32,
    pub breached: u32,
    pub escalated: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub active: bool,
    /// The event types it receives; empty means all of them.
    pub events: Vec<String>,
    pub created_at: Millis,
}

/// A claimed webhook delivery: the event to send, where, and the signing secret.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    /// Attempts so far, this one included.
    pub attempt: i64,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    pub id: i64,
    pub event_id: i64,
    pub attempts: i64,
    pub delivered_at: Option<Millis>,
    pub failed_at: Option<Millis>,
    pub last_error: Option<String>,
}

/// A checked can't-help to record (and send, unless it waits for review).
#[derive(Debug, Clone)]
pub struct CantHelpRequest {
    pub ticket_id: TicketId,
    pub cant_help: recourse_domain::recovery::CantHelp,
    pub channel: Channel,
    pub actor: Actor,
    pub now: Millis,
}

/// A manager's decision on a can't-help that offered nothing.
#[derive(Debug, Clone)]
pub struct CantHelpReview {
    pub ticket_id: TicketId,
    /// Approve: the customer is sent the explanation and the ticket resolves.
    /// Return: it goes back to the agent with the note, and nothing is sent.
    pub approve: bool,
    pub note: Option<String>,
    /// Something the manager found that the desk can still do after all.
    pub partial_solution: Option<String>,
    pub channel: Channel,
    pub actor: Actor,
    pub now: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CantHelpRecord {
    pub id: i64,
    pub ticket_id: TicketId,
    pub reason: recourse_domain::CantHelpReason,
    pub explanation: String,
    pub partial_solution: Option<String>,
    pub justification: Option<String>,
    pub third_party: Option<recourse_domain::recovery::ThirdParty>,
    pub handoff_summary: Option<String>,
    /// `sent`, `pending_review`, `approved` or `returned`.
    pub state: String,
    pub review_note: Option<String>,
    pub message_id: Option<MessageId>,
    pub created_at: Millis,
    pub reviewed_at: Option<Millis>,
}

/// Passing a case to someone else: always with a line to the customer.
#[derive(Debug, Clone)]
pub struct TransferRequest {
    pub ticket_id: TicketId,
    pub to_agent: Option<AgentId>,
    pub to_team: Option<TeamId>,
    pub to_rung: Option<String>,
    pub customer_message: String,
    pub channel: Channel,
    pub actor: Actor,
    pub now: Millis,
}

#[derive(Debug, Clone)]
pub struct NewAlternative {
    pub name: String,
    pub serves: Vec<Tag>,
    pub contact: String,
    pub notes: String,
    pub active: bool,
}

/// A manager's referral close.
#[derive(Debug, Clone)]
pub struct ReferralRequest {
    pub ticket_id: TicketId,
    pub alternative_id: i64,
    /// Why the desk cannot serve this itself, in a sentence for the customer.
    pub reason: String,
    /// What the customer is sent; `None` renders the referral template.
    pub message: Option<String>,
    pub agent_name: Option<String>,
    pub channel: Channel,
    pub actor: Actor,
    pub now: Millis,
}

/// A satisfaction survey, as its one-time link shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    pub ticket_id: TicketId,
    pub ticket_number: i64,
    pub subject: String,
    pub customer_id: CustomerId,
    pub created_at: Millis,
    pub answered_at: Option<Millis>,
    pub answer: Option<recourse_domain::recovery::SurveyAnswer>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct ReportQuery {
    /// Tickets that ended (resolved or closed) in `[from, to)` make up the population.
    pub from: Millis,
    pub to: Millis,
    pub team: Option<TeamId>,
}

/// The recovery report's counts, computed in the database; the figures derived from
/// them are the domain's (`recourse_domain::recovery::ReportCounts`).
pub type ReportSummary = recourse_domain::recovery::ReportCounts;
