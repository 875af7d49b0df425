//! What the store refuses on a ticket change, and what a closed ticket is.

use crate::usecases::UseCases;
use recourse_domain::{
    Actor, AgentId, ChangeError, Customer, CustomerId, EventKind, InterventionKind,
    InterventionResult, MessageKind, Outcome, Priority, Status, TicketId, TransitionError,
};
use recourse_domain::{Agent, Ticket};
use recourse_store::{AssigneeFilter, NewIntervention, StoreError, TicketChange, TicketFilter};

use crate::harness::*;

on_both! {
    closing_without_an_outcome_is_refused_and_leaves_no_trace,
    an_outcome_on_an_active_ticket_is_refused_and_leaves_no_trace,
    an_illegal_status_move_is_refused_and_leaves_no_trace,
    a_refused_change_is_refused_as_a_whole,
    assigning_an_agent_who_does_not_exist_is_refused,
    an_intervention_credited_to_an_agent_who_does_not_exist_is_refused,
    changes_to_a_missing_ticket_or_for_a_missing_customer_are_not_found,
    closing_with_an_outcome_records_the_status_then_the_outcome,
    a_closed_ticket_refuses_messages_of_every_kind,
    a_closed_ticket_refuses_an_intervention,
    a_closed_ticket_refuses_a_priority_change,
    a_closed_ticket_refuses_a_status_move,
    a_closed_ticket_refuses_a_new_assignee,
    asking_a_closed_ticket_to_stay_closed_changes_nothing,
}

/// Ada's ticket, opened by Grace's reply, and its events so far.
struct Opened {
    ada: Customer,
    grace: Agent,
    by_grace: Actor,
    tk: Ticket,
    open: Ticket,
    events_before: Vec<recourse_domain::Event>,
}

async fn opened(s: &S) -> Opened {
    let ada = customer(s, "ada@example.com").await;
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    let by_grace = Actor::Agent(grace.id);
    let tk = ticket(s, ada.id, "Refund please", "I changed my mind.", t(0)).await;
    let (_, open) = s
        .add_message(message(
            tk.id,
            MessageKind::Reply,
            by_grace,
            "Looking into it.",
            t(1),
        ))
        .await
        .unwrap();
    assert_eq!(open.status, Status::Open);
    let events_before = s.events(tk.id).await.unwrap();
    Opened {
        ada,
        grace,
        by_grace,
        tk,
        open,
        events_before,
    }
}

async fn closing_without_an_outcome_is_refused_and_leaves_no_trace(db: &TestDb) {
    let s = &db.store;
    let Opened {
        by_grace,
        tk,
        open,
        events_before,
        ..
    } = opened(s).await;
    // Closing without saying how it ended is refused, and leaves no trace.
    let close = TicketChange {
        status: Some(Status::Closed),
        ..change()
    };
    let err = s
        .update_ticket(tk.id, close.clone(), by_grace, t(2))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Rule(ChangeError::OutcomeRequired)),
        "{err:?}"
    );
    assert_eq!(s.get_ticket(tk.id).await.unwrap(), open);
    assert_eq!(s.events(tk.id).await.unwrap(), events_before);
}

async fn an_outcome_on_an_active_ticket_is_refused_and_leaves_no_trace(db: &TestDb) {
    let s = &db.store;
    let Opened {
        by_grace,
        tk,
        open,
        events_before,
        ..
    } = opened(s).await;
    // An outcome on an active ticket, and an illegal move, are refused too.
    let err = s
        .update_ticket(
            tk.id,
            TicketChange {
                outcome: Some(Outcome::Explained),
                ..change()
            },
            by_grace,
            t(2),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Rule(ChangeError::OutcomeWithoutEnd)),
        "{err:?}"
    );
    assert_eq!(s.get_ticket(tk.id).await.unwrap(), open);
    assert_eq!(s.events(tk.id).await.unwrap(), events_before);
}

async fn an_illegal_status_move_is_refused_and_leaves_no_trace(db: &TestDb) {
    let s = &db.store;
    let Opened {
        by_grace,
        tk,
        open,
        events_before,
        ..
    } = opened(s).await;
    let err = s
        .update_ticket(
            tk.id,
            TicketChange {
                status: Some(Status::New),
                ..change()
            },
            by_grace,
            t(2),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Rule(ChangeError::Transition(TransitionError::NotAllowed {
                from: Status::Open,
                to: Status::New
            }))
        ),
        "{err:?}"
    );
    assert_eq!(s.get_ticket(tk.id).await.unwrap(), open);
    assert_eq!(s.events(tk.id).await.unwrap(), events_before);
}

async fn a_refused_change_is_refused_as_a_whole(db: &TestDb) {
    let s = &db.store;
    let Opened {
        by_grace,
        tk,
        open,
        events_before,
        ..
    } = opened(s).await;
    let close = TicketChange {
        status: Some(Status::Closed),
        ..change()
    };
    // A refused change is refused as a whole: the valid priority change is not applied either.
    let err = s
        .update_ticket(
            tk.id,
            TicketChange {
                priority: Some(Priority::Urgent),
                ..close.clone()
            },
            by_grace,
            t(2),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Rule(ChangeError::OutcomeRequired)),
        "{err:?}"
    );
    assert_eq!(s.get_ticket(tk.id).await.unwrap(), open);
    assert_eq!(s.events(tk.id).await.unwrap(), events_before);
}

async fn assigning_an_agent_who_does_not_exist_is_refused(db: &TestDb) {
    let s = &db.store;
    let Opened {
        grace,
        by_grace,
        tk,
        open,
        events_before,
        ..
    } = opened(s).await;
    // Assigning an agent who does not exist is an error, not a dangling id.
    let ghost = AgentId(grace.id.0 + 1000);
    let err = s
        .update_ticket(
            tk.id,
            TicketChange {
                assignee: Some(Some(ghost)),
                ..change()
            },
            by_grace,
            t(3),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("assignee")), "{err:?}");
    let err = s
        .update_ticket(
            tk.id,
            TicketChange {
                assignee: Some(Some(ghost)),
                priority: Some(Priority::High),
                ..change()
            },
            by_grace,
            t(3),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("assignee")), "{err:?}");
    assert_eq!(s.get_ticket(tk.id).await.unwrap(), open);
    assert_eq!(s.events(tk.id).await.unwrap(), events_before);
    assert!(
        s.list_tickets(&TicketFilter {
            assignee: AssigneeFilter::Agent(ghost),
            ..all(10)
        })
        .await
        .unwrap()
        .is_empty()
    );
}

async fn an_intervention_credited_to_an_agent_who_does_not_exist_is_refused(db: &TestDb) {
    let s = &db.store;
    let Opened {
        grace,
        tk,
        events_before,
        ..
    } = opened(s).await;
    let ghost = AgentId(grace.id.0 + 1000);
    // An intervention credited to an agent who does not exist is refused, not stored.
    let dangling = NewIntervention {
        ticket_id: tk.id,
        kind: InterventionKind::Apology,
        description: body("Sorry"),
        result: InterventionResult::Accepted,
        agent_id: Some(ghost),
        now: t(3),
    };
    assert!(s.add_intervention(dangling).await.is_err());
    assert!(s.interventions(tk.id).await.unwrap().is_empty());
    assert_eq!(s.events(tk.id).await.unwrap(), events_before);
}

async fn changes_to_a_missing_ticket_or_for_a_missing_customer_are_not_found(db: &TestDb) {
    let s = &db.store;
    let Opened {
        ada, by_grace, tk, ..
    } = opened(s).await;
    let close = TicketChange {
        status: Some(Status::Closed),
        ..change()
    };
    // Things that do not exist.
    let missing = TicketId(tk.id.0 + 1000);
    assert!(matches!(
        s.update_ticket(missing, close.clone(), by_grace, t(3))
            .await,
        Err(StoreError::NotFound("ticket"))
    ));
    assert!(matches!(
        s.add_message(message(missing, MessageKind::Note, by_grace, "hello", t(3)))
            .await,
        Err(StoreError::NotFound("ticket"))
    ));
    let err = s
        .create_ticket(new_ticket(
            CustomerId(ada.id.0 + 1000),
            "Orphan",
            "No such customer",
            &[],
            t(3),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert_eq!(s.count_rows("tickets").await.unwrap(), 1);
}

async fn closing_with_an_outcome_records_the_status_then_the_outcome(db: &TestDb) {
    let s = &db.store;
    let Opened {
        by_grace,
        tk,
        events_before,
        ..
    } = opened(s).await;
    let close = TicketChange {
        status: Some(Status::Closed),
        ..change()
    };
    // With an outcome, closing works.
    let closed = s
        .update_ticket(
            tk.id,
            TicketChange {
                outcome: Some(Outcome::Withdrawn),
                ..close.clone()
            },
            by_grace,
            t(4),
        )
        .await
        .unwrap();
    assert_eq!(
        (closed.status, closed.outcome),
        (Status::Closed, Some(Outcome::Withdrawn))
    );
    assert_eq!(s.get_ticket(tk.id).await.unwrap(), closed);
    let events = s.events(tk.id).await.unwrap();
    assert_eq!(
        events[events_before.len()..]
            .iter()
            .map(|e| e.kind.clone())
            .collect::<Vec<_>>(),
        vec![
            EventKind::StatusChanged {
                from: Status::Open,
                to: Status::Closed
            },
            EventKind::OutcomeSet {
                outcome: Some(Outcome::Withdrawn)
            }
        ]
    );
}

/// A closed ticket is history: no messages, interventions or changes.
fn is_closed(r: Result<(), StoreError>) -> bool {
    matches!(
        r,
        Err(StoreError::Rule(ChangeError::Transition(
            TransitionError::Closed
        )))
    )
}

/// [`opened`], then closed as withdrawn.
async fn closed(s: &S) -> Opened {
    let opened = opened(s).await;
    s.update_ticket(
        opened.tk.id,
        TicketChange {
            status: Some(Status::Closed),
            outcome: Some(Outcome::Withdrawn),
            ..change()
        },
        opened.by_grace,
        t(4),
    )
    .await
    .unwrap();
    opened
}

async fn a_closed_ticket_refuses_messages_of_every_kind(db: &TestDb) {
    let s = &db.store;
    let Opened {
        ada, by_grace, tk, ..
    } = closed(s).await;
    let customer = Actor::Customer(ada.id);
    assert!(is_closed(
        s.add_message(message(
            tk.id,
            MessageKind::Inbound,
            customer,
            "Actually…",
            t(5)
        ))
        .await
        .map(|_| ())
    ));
    assert!(is_closed(
        s.add_message(message(
            tk.id,
            MessageKind::Reply,
            by_grace,
            "Hi again",
            t(5)
        ))
        .await
        .map(|_| ())
    ));
    assert!(is_closed(
        s.add_message(message(tk.id, MessageKind::Note, by_grace, "fyi", t(5)))
            .await
            .map(|_| ())
    ));
}

async fn a_closed_ticket_refuses_an_intervention(db: &TestDb) {
    let s = &db.store;
    let Opened { grace, tk, .. } = closed(s).await;
    let intervention = NewIntervention {
        ticket_id: tk.id,
        kind: InterventionKind::Credit,
        description: body("Goodwill credit"),
        result: InterventionResult::Pending,
        agent_id: Some(grace.id),
        now: t(5),
    };
    assert!(is_closed(
        s.add_intervention(intervention).await.map(|_| ())
    ));
}

async fn a_closed_ticket_refuses_a_priority_change(db: &TestDb) {
    let s = &db.store;
    let Opened { by_grace, tk, .. } = closed(s).await;
    assert!(is_closed(
        s.update_ticket(
            tk.id,
            TicketChange {
                priority: Some(Priority::Low),
                ..change()
            },
            by_grace,
            t(5)
        )
        .await
        .map(|_| ())
    ));
}

async fn a_closed_ticket_refuses_a_status_move(db: &TestDb) {
    let s = &db.store;
    let Opened { by_grace, tk, .. } = closed(s).await;
    assert!(is_closed(
        s.update_ticket(
            tk.id,
            TicketChange {
                status: Some(Status::Open),
                ..change()
            },
            by_grace,
            t(5)
        )
        .await
        .map(|_| ())
    ));
}

async fn a_closed_ticket_refuses_a_new_assignee(db: &TestDb) {
    let s = &db.store;
    let Opened {
        grace,
        by_grace,
        tk,
        ..
    } = closed(s).await;
    let closed = s.get_ticket(tk.id).await.unwrap();
    let other_assignee = if closed.assignee_id.is_some() {
        None
    } else {
        Some(grace.id)
    };
    assert!(is_closed(
        s.update_ticket(
            tk.id,
            TicketChange {
                assignee: Some(other_assignee),
                ..change()
            },
            by_grace,
            t(5)
        )
        .await
        .map(|_| ())
    ));
}

async fn asking_a_closed_ticket_to_stay_closed_changes_nothing(db: &TestDb) {
    let s = &db.store;
    let Opened { by_grace, tk, .. } = opened(s).await;
    let close = TicketChange {
        status: Some(Status::Closed),
        ..change()
    };
    s.update_ticket(
        tk.id,
        TicketChange {
            outcome: Some(Outcome::Withdrawn),
            ..close.clone()
        },
        by_grace,
        t(4),
    )
    .await
    .unwrap();
    let closed = s.get_ticket(tk.id).await.unwrap();
    let events = s.events(tk.id).await.unwrap();
    // Asking a closed ticket to be what it already is changes nothing and is fine.
    assert_eq!(
        s.update_ticket(tk.id, close, by_grace, t(6)).await.unwrap(),
        closed
    );
    assert_eq!(s.get_ticket(tk.id).await.unwrap(), closed);
    assert_eq!(s.messages(tk.id).await.unwrap().len(), 2);
    assert!(s.interventions(tk.id).await.unwrap().is_empty());
    assert_eq!(s.events(tk.id).await.unwrap(), events);
}
