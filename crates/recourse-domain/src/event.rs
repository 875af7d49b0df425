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
}

impl EventKind {
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
