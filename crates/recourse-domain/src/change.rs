//! Pure rules for editing a ticket: given the ticket as stored and a requested change,
//! compute the new ticket and the events that describe the difference. The store runs
//! this under a row lock so the check and the write see the same state.

use crate::{
    AgentId, EventKind, MessageKind, Millis, Need, Outcome, Priority, Status, Tag, Ticket,
    TransitionError,
};

/// A requested edit. `None` leaves a field alone; `Some(None)` clears a clearable one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketChange {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub need: Option<Option<Need>>,
    pub assignee: Option<Option<AgentId>>,
    pub tags: Option<Vec<Tag>>,
    pub outcome: Option<Outcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(
        "Closing a ticket that is not resolved needs an outcome (resolved, explained, referred, inconsolable or withdrawn)."
    )]
    OutcomeRequired,
    #[error("An outcome can only be set when the ticket is resolved or closed.")]
    OutcomeWithoutEnd,
}

impl ChangeError {
    pub fn code(&self) -> &'static str {
        match self {
            ChangeError::Transition(t) => t.code(),
            ChangeError::OutcomeRequired => "outcome_required",
            ChangeError::OutcomeWithoutEnd => "outcome_needs_end",
        }
    }
}

/// Applies `change` to `ticket`. Fields that are set to what they already are produce
/// no event, so replaying a request is harmless.
pub fn apply_change(
    ticket: &Ticket,
    change: &TicketChange,
    now: Millis,
) -> Result<(Ticket, Vec<EventKind>), ChangeError> {
    let mut next = ticket.clone();
    let mut events = Vec::new();

    if change.outcome.is_some() && change.status.unwrap_or(ticket.status).is_active() {
        return Err(ChangeError::OutcomeWithoutEnd);
    }

    if let Some(to) = change.status.filter(|s| *s != ticket.status) {
        next.status = ticket.status.transition(to)?;
        events.push(EventKind::StatusChanged {
            from: ticket.status,
            to,
        });
        let outcome = match to {
            Status::Resolved => Some(change.outcome.unwrap_or(Outcome::Resolved)),
            Status::Closed => Some(
                change
                    .outcome
                    .or(ticket.outcome)
                    .ok_or(ChangeError::OutcomeRequired)?,
            ),
            // Reopening means the earlier outcome no longer holds.
            _ => None,
        };
        if outcome != ticket.outcome {
            next.outcome = outcome;
            events.push(EventKind::OutcomeSet { outcome });
        }
        // Resolution time counts to when the desk first finished, not to the later close.
        next.ended_at = match to {
            Status::Resolved | Status::Closed => ticket.ended_at.or(Some(now)),
            _ => None,
        };
    } else if let Some(outcome) = change.outcome.filter(|o| Some(*o) != ticket.outcome) {
        next.outcome = Some(outcome);
        events.push(EventKind::OutcomeSet {
            outcome: Some(outcome),
        });
    }

    if let Some(p) = change.priority.filter(|p| *p != ticket.priority) {
        next.priority = p;
        events.push(EventKind::PriorityChanged {
            from: ticket.priority,
            to: p,
        });
    }

    if let Some(need) = &change.need {
        let need = need.as_ref().map(|n| n.as_str().to_owned());
        if need != ticket.need {
            next.need = need.clone();
            events.push(EventKind::NeedChanged { need });
        }
    }

    if let Some(to) = change.assignee.filter(|a| *a != ticket.assignee_id) {
        next.assignee_id = to;
        events.push(EventKind::AssigneeChanged {
            from: ticket.assignee_id,
            to,
        });
    }

    if let Some(tags) = &change.tags {
        let wanted: Vec<String> = tags.iter().map(|t| t.as_str().to_owned()).collect();
        let added: Vec<String> = wanted
            .iter()
            .filter(|t| !ticket.tags.contains(t))
            .cloned()
            .collect();
        let removed: Vec<String> = ticket
            .tags
            .iter()
            .filter(|t| !wanted.contains(t))
            .cloned()
            .collect();
        if !added.is_empty() || !removed.is_empty() {
            next.tags = wanted;
            events.push(EventKind::TagsChanged { added, removed });
        }
    }

    // A closed ticket is history: asking for what it already is is fine, changing it is not.
    if ticket.status == Status::Closed && !events.is_empty() {
        return Err(TransitionError::Closed.into());
    }
    if !events.is_empty() {
        next.updated_at = now;
    }
    Ok((next, events))
}

/// What a new message does to its ticket: the status it implies (or the explicit one the
/// agent chose), as a change to apply. Closed tickets take no messages.
pub fn message_change(
    ticket: &Ticket,
    kind: MessageKind,
    explicit: Option<Status>,
) -> Result<TicketChange, ChangeError> {
    if ticket.status == Status::Closed {
        return Err(TransitionError::Closed.into());
    }
    let implied = match kind {
        MessageKind::Inbound => ticket.status.on_customer_message(),
        MessageKind::Reply => ticket.status.on_agent_reply(),
        MessageKind::Note => None,
    };
    Ok(TicketChange {
        status: explicit.or(implied),
        ..TicketChange::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CustomerId, TicketId};
    use proptest::prelude::*;

    fn ticket(status: Status) -> Ticket {
        Ticket {
            id: TicketId(1),
            number: 1001,
            subject: "Kettle arrived broken".into(),
            need: None,
            status,
            priority: Priority::Normal,
            rung: "frontline".into(),
            customer_id: CustomerId(1),
            assignee_id: None,
            team_id: None,
            tags: vec!["billing".into()],
            outcome: None,
            needs_experience: false,
            sla: Default::default(),
            first_response_at: None,
            ended_at: None,
            ping_pong: false,
            review_pending: false,
            created_at: Millis(0),
            updated_at: Millis(0),
        }
    }

    #[test]
    fn resolving_sets_outcome_and_reopening_clears_it() {
        let t = ticket(Status::Open);
        let (t, ev) = apply_change(
            &t,
            &TicketChange {
                status: Some(Status::Resolved),
                ..Default::default()
            },
            Millis(5),
        )
        .unwrap();
        assert_eq!(t.outcome, Some(Outcome::Resolved));
        assert_eq!(ev.len(), 2);
        let (t, _) = apply_change(
            &t,
            &TicketChange {
                status: Some(Status::Open),
                ..Default::default()
            },
            Millis(6),
        )
        .unwrap();
        assert_eq!(t.outcome, None);
    }

    #[test]
    fn closing_an_open_ticket_needs_an_outcome() {
        let t = ticket(Status::Open);
        let close = TicketChange {
            status: Some(Status::Closed),
            ..Default::default()
        };
        assert_eq!(
            apply_change(&t, &close, Millis(1)).unwrap_err(),
            ChangeError::OutcomeRequired
        );
        let close = TicketChange {
            outcome: Some(Outcome::Withdrawn),
            ..close
        };
        assert_eq!(
            apply_change(&t, &close, Millis(1)).unwrap().0.outcome,
            Some(Outcome::Withdrawn)
        );
    }

    #[test]
    fn tags_diff() {
        let t = ticket(Status::Open);
        let tags = Tag::parse_all(&["refund"]).unwrap();
        let (_, ev) = apply_change(
            &t,
            &TicketChange {
                tags: Some(tags),
                ..Default::default()
            },
            Millis(1),
        )
        .unwrap();
        assert_eq!(
            ev,
            vec![EventKind::TagsChanged {
                added: vec!["refund".into()],
                removed: vec!["billing".into()]
            }]
        );
    }

    #[test]
    fn customer_reply_reopens_pending() {
        let t = ticket(Status::PendingCustomer);
        let c = message_change(&t, MessageKind::Inbound, None).unwrap();
        assert_eq!(c.status, Some(Status::Open));
        assert!(message_change(&ticket(Status::Closed), MessageKind::Note, None).is_err());
    }

    fn any_status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        /// Applying the same change twice: the second time changes nothing and says nothing.
        #[test]
        fn changes_are_idempotent(from in any_status(), to in any_status(), pr in prop::sample::select(Priority::ALL.to_vec())) {
            let t = ticket(from);
            let change = TicketChange { status: Some(to), priority: Some(pr), outcome: Some(Outcome::Explained), ..Default::default() };
            if let Ok((once, _)) = apply_change(&t, &change, Millis(1)) {
                let (twice, ev) = apply_change(&once, &change, Millis(2)).unwrap();
                prop_assert!(ev.is_empty());
                prop_assert_eq!(twice, once);
            }
        }

        /// Whatever is applied, a resolved or closed ticket always carries an outcome,
        /// and an active one never does.
        #[test]
        fn outcome_matches_status(steps in prop::collection::vec((any_status(), prop::option::of(prop::sample::select(Outcome::ALL.to_vec()))), 0..20)) {
            let mut t = ticket(Status::New);
            for (to, outcome) in steps {
                if let Ok((next, _)) = apply_change(&t, &TicketChange { status: Some(to), outcome, ..Default::default() }, Millis(1)) {
                    t = next;
                }
                prop_assert_eq!(t.outcome.is_some(), !t.status.is_active());
            }
        }
    }
}
