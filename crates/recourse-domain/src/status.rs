//! The ticket status state machine.
//!
//! ```text
//!   new ──► open ◄──► pending_customer
//!    │       │            │
//!    └───────┴──► resolved ◄┘ ──► closed (terminal)
//!                   │  ▲
//!                   └──┘ reopen (resolved → open)
//! ```
//! Any status but `closed` may also go straight to `closed` when the case ends with an
//! outcome other than a fix (withdrawn, referred, …). A closed ticket stays closed: a
//! customer who writes again gets a follow-up ticket, so history is never rewritten.

use crate::enums::{UnknownVariant, word_enum};
use std::fmt;

word_enum!(
    Status: "status" {
        New = "new",
        Open = "open",
        PendingCustomer = "pending_customer",
        Resolved = "resolved",
        Closed = "closed",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("The ticket is already {0}.")]
    Unchanged(Status),
    #[error(
        "The ticket is closed; a closed ticket cannot change status. Open a follow-up ticket instead."
    )]
    Closed,
    #[error("A ticket cannot go from {from} to {to}.")]
    NotAllowed { from: Status, to: Status },
}

impl TransitionError {
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::Unchanged(_) => "status_unchanged",
            TransitionError::Closed => "ticket_closed",
            TransitionError::NotAllowed { .. } => "invalid_status_transition",
        }
    }
}

impl Status {
    /// Whether the ticket still asks something of the desk.
    pub fn is_active(self) -> bool {
        matches!(self, Status::New | Status::Open | Status::PendingCustomer)
    }

    /// The statuses this one may move to, in no particular order.
    pub fn successors(self) -> &'static [Status] {
        use Status::*;
        match self {
            New => &[Open, PendingCustomer, Resolved, Closed],
            Open => &[PendingCustomer, Resolved, Closed],
            PendingCustomer => &[Open, Resolved, Closed],
            Resolved => &[Open, Closed],
            Closed => &[],
        }
    }

    /// Checks one step of the state machine.
    pub fn transition(self, to: Status) -> Result<Status, TransitionError> {
        if self == Status::Closed {
            return Err(TransitionError::Closed);
        }
        if self == to {
            return Err(TransitionError::Unchanged(to));
        }
        if self.successors().contains(&to) {
            Ok(to)
        } else {
            Err(TransitionError::NotAllowed { from: self, to })
        }
    }

    /// The status a ticket takes when the customer writes to it: anything waiting on
    /// them or already resolved comes back to the desk. `None` for closed tickets
    /// (the caller opens a follow-up) and for tickets already awaiting the desk.
    pub fn on_customer_message(self) -> Option<Status> {
        match self {
            Status::PendingCustomer | Status::Resolved => Some(Status::Open),
            Status::New | Status::Open | Status::Closed => None,
        }
    }

    /// The status a ticket takes when an agent replies to the customer, unless the
    /// agent chose one explicitly: new tickets become open.
    pub fn on_agent_reply(self) -> Option<Status> {
        match self {
            Status::New => Some(Status::Open),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    #[test]
    fn closed_is_terminal() {
        for s in Status::ALL {
            assert_eq!(Status::Closed.transition(*s), Err(TransitionError::Closed));
        }
    }

    #[test]
    fn reopen_only_from_resolved() {
        assert_eq!(Status::Resolved.transition(Status::Open), Ok(Status::Open));
        assert!(matches!(
            Status::Open.transition(Status::New),
            Err(TransitionError::NotAllowed { .. })
        ));
    }

    proptest! {
        /// A transition succeeds exactly when the table lists it.
        #[test]
        fn transition_agrees_with_table(from in any_status(), to in any_status()) {
            let allowed = from.successors().contains(&to);
            prop_assert_eq!(from.transition(to).is_ok(), allowed);
        }

        /// Walking any sequence of requested moves: `new` is never re-entered, nothing
        /// leaves `closed`, and the status is always one the table allowed.
        #[test]
        fn random_walks_respect_the_machine(moves in prop::collection::vec(any_status(), 0..40)) {
            let mut s = Status::New;
            let mut closed = false;
            for to in moves {
                match s.transition(to) {
                    Ok(next) => {
                        prop_assert!(!closed);
                        prop_assert_ne!(next, Status::New);
                        s = next;
                        closed = s == Status::Closed;
                    }
                    Err(TransitionError::Closed) => prop_assert!(closed),
                    Err(TransitionError::Unchanged(x)) => prop_assert_eq!(x, s),
                    Err(TransitionError::NotAllowed { from, .. }) => prop_assert_eq!(from, s),
                }
            }
        }

        /// Every open case can always be brought to an end in one step.
        #[test]
        fn every_live_status_can_close(s in any_status()) {
            if s != Status::Closed {
                prop_assert_eq!(s.transition(Status::Closed), Ok(Status::Closed));
            }
        }

        /// What customer and agent messages do to the status is always a legal move.
        #[test]
        fn implicit_moves_are_legal(s in any_status()) {
            if let Some(to) = s.on_customer_message() {
                prop_assert_eq!(s.transition(to), Ok(to));
            }
            if let Some(to) = s.on_agent_reply() {
                prop_assert_eq!(s.transition(to), Ok(to));
            }
        }
    }
}
