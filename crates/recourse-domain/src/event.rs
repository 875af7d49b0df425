//! The append-only event log. Every change to a ticket is one event; the ticket's
//! history, the audit trail, reports and webhooks are all read from it.

use crate::{
    AgentId, CustomerId, Demeanor, EscalationReason, InterventionId, InterventionKind,
    InterventionResult, MessageId, MessageKind, Millis, Outcome, Priority, SlaClock, Status,
};

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    Agent(AgentId),
    Customer(CustomerId),
    /// Timers, automations and imports.
    System,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Agent(_) => "agent",
            Actor::Customer(_) => "customer",
            Actor::System => "system",
        }
    }

    pub fn id(&self) -> Option<i64> {
        match self {
            Actor::Agent(a) => Some(a.0),
            Actor::Customer(c) => Some(c.0),
            Actor::System => None,
        }
    }

    pub fn from_parts(kind: &str, id: Option<i64>) -> Option<Actor> {
        match (kind, id) {
            ("agent", Some(id)) => Some(Actor::Agent(AgentId(id))),
            ("customer", Some(id)) => Some(Actor::Customer(CustomerId(id))),
            ("system", _) => Some(Actor::System),
            _ => None,
        }
    }
}

/// What happened. Serialised with a `type` tag into the event's data column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    TicketCreated {
        subject: String,
        priority: Priority,
        rung: String,
    },
    MessageAdded {
        message_id: MessageId,
        kind: MessageKind,
    },
    StatusChanged {
        from: Status,
        to: Status,
    },
    PriorityChanged {
        from: Priority,
        to: Priority,
    },
    NeedChanged {
        need: Option<String>,
    },
    AssigneeChanged {
        from: Option<AgentId>,
        to: Option<AgentId>,
    },
    TagsChanged {
        added: Vec<String>,
        removed: Vec<String>,
    },
    InterventionRecorded {
        intervention_id: InterventionId,
        kind: InterventionKind,
        result: InterventionResult,
    },
    OutcomeSet {
        outcome: Option<Outcome>,
    },
    /// Up the ladder, with the message the customer was sent.
    Escalated {
        from: String,
        to: String,
        reason: EscalationReason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        message_id: MessageId,
    },
    /// Back down the ladder by a manager, with their note for whoever takes it.
    MovedDown {
        from: String,
        to: String,
        note: String,
    },
    SlaWarning {
        clock: SlaClock,
        due: Millis,
    },
    SlaBreached {
        clock: SlaClock,
        due: Millis,
    },
    DemeanorRead {
        message_id: MessageId,
        demeanor: Demeanor,
    },
    /// Desk configuration (ladder, SLA, calendar, rules, templates) changed.
    SettingChanged {
        key: String,
    },
    PresenceChanged {
        agent_id: AgentId,
        present: bool,
    },
    /// An admin changed an agent's role, experience, team, capacity or sign-in; the
    /// values are those after the change.
    AgentChanged {
        agent_id: AgentId,
        role: crate::Role,
        experience: crate::Experience,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team_id: Option<crate::TeamId>,
        capacity: i32,
        active: bool,
    },
    /// The desk told the customer it cannot do what they asked (or, without a partial
    /// solution, asked a manager to review that first).
    CantHelp {
        reason: crate::CantHelpReason,
        needs_review: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<MessageId>,
    },
    CantHelpReviewed {
        approved: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<MessageId>,
    },
    Transferred {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_agent: Option<AgentId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_team: Option<crate::TeamId>,
        message_id: MessageId,
    },
    /// Passed on too often without an answer to the customer.
    PingPongFlagged {
        transfers_since_reply: i64,
    },
    Referred {
        alternative_id: i64,
        message_id: MessageId,
    },
    /// An agent chose to see a masked (abusive) message.
    MessageRevealed {
        message_id: MessageId,
    },
    /// An agent handed the ticket on after abuse; no reason is asked.
    HandedOff {
        from: AgentId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<AgentId>,
    },
    SupervisionChanged {
        customer_id: CustomerId,
        supervised: bool,
    },
    SurveyAnswered {
        product: u8,
        service: u8,
        recommend: u8,
    },
}

impl EventKind {
    /// Every `type` tag, for choosing which events a webhook receives. A test checks
    /// it against [`EventKind::name`].
    pub const NAMES: &'static [&'static str] = &[
        "ticket_created",
        "message_added",
        "status_changed",
        "priority_changed",
        "need_changed",
        "assignee_changed",
        "tags_changed",
        "intervention_recorded",
        "outcome_set",
        "escalated",
        "moved_down",
        "sla_warning",
        "sla_breached",
        "demeanor_read",
        "setting_changed",
        "presence_changed",
        "agent_changed",
        "cant_help",
        "cant_help_reviewed",
        "transferred",
        "ping_pong_flagged",
        "referred",
        "message_revealed",
        "handed_off",
        "supervision_changed",
        "survey_answered",
    ];

    /// The `type` tag, also stored in its own column so history can be filtered cheaply.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::TicketCreated { .. } => "ticket_created",
            EventKind::MessageAdded { .. } => "message_added",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::PriorityChanged { .. } => "priority_changed",
            EventKind::NeedChanged { .. } => "need_changed",
            EventKind::AssigneeChanged { .. } => "assignee_changed",
            EventKind::TagsChanged { .. } => "tags_changed",
            EventKind::InterventionRecorded { .. } => "intervention_recorded",
            EventKind::OutcomeSet { .. } => "outcome_set",
            EventKind::Escalated { .. } => "escalated",
            EventKind::MovedDown { .. } => "moved_down",
            EventKind::SlaWarning { .. } => "sla_warning",
            EventKind::SlaBreached { .. } => "sla_breached",
            EventKind::DemeanorRead { .. } => "demeanor_read",
            EventKind::SettingChanged { .. } => "setting_changed",
            EventKind::PresenceChanged { .. } => "presence_changed",
            EventKind::AgentChanged { .. } => "agent_changed",
            EventKind::CantHelp { .. } => "cant_help",
            EventKind::CantHelpReviewed { .. } => "cant_help_reviewed",
            EventKind::Transferred { .. } => "transferred",
            EventKind::PingPongFlagged { .. } => "ping_pong_flagged",
            EventKind::Referred { .. } => "referred",
            EventKind::MessageRevealed { .. } => "message_revealed",
            EventKind::HandedOff { .. } => "handed_off",
            EventKind::SupervisionChanged { .. } => "supervision_changed",
            EventKind::SurveyAnswered { .. } => "survey_answered",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_is_an_event_type() {
        for (i, n) in EventKind::NAMES.iter().enumerate() {
            assert!(!EventKind::NAMES[..i].contains(n), "{n} twice");
            // A known type fails only for its missing fields, never as an unknown variant.
            let e = serde_json::from_value::<EventKind>(serde_json::json!({ "type": n }));
            if let Err(e) = e {
                assert!(!e.to_string().contains("unknown variant"), "{n}: {e}");
            }
        }
        let e = EventKind::AgentChanged {
            agent_id: AgentId(1),
            role: crate::Role::Agent,
            experience: crate::Experience::Junior,
            team_id: None,
            capacity: 5,
            active: false,
        };
        assert!(EventKind::NAMES.contains(&e.name()));
    }

    #[test]
    fn events_round_trip_through_json() {
        let e = EventKind::StatusChanged {
            from: Status::New,
            to: Status::Open,
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], e.name());
        assert_eq!(json["to"], "open");
        assert_eq!(serde_json::from_value::<EventKind>(json).unwrap(), e);
        let a = Actor::Agent(AgentId(7));
        assert_eq!(Actor::from_parts(a.kind(), a.id()), Some(a));
    }
}
