//! The escalation use case on both databases: who may move a case up is decided on the
//! ticket as locked for the change, and the customer is told what was tried.
//!
//! SQLite always runs; PostgreSQL runs when `RECOURSE_TEST_PG_URL` names a server we may
//! create databases on (each test gets its own database), and must under CI.

use std::sync::Arc;

use recourse_desk::{Desk, DeskError};
use recourse_domain::{
    Actor, Agent, AgentId, Body, Channel, EmailAddress, EscalationReason, Experience,
    InterventionKind, InterventionResult, MessageKind, Millis, PersonName, Priority, Role, Subject,
    Ticket,
};
use recourse_store::{
    AgentChange, EscalationRequest, NewAgent, NewIntervention, NewTicket, Store, TicketFor,
};

#[macro_use]
mod support;

on_both!(
    escalation_tells_the_customer_what_was_tried,
    an_agent_whose_rung_moved_on_is_refused_on_the_locked_row,
    a_switched_off_agent_is_refused_on_the_locked_row,
    a_manager_may_escalate_any_ticket,
);

const T0: Millis = Millis(1_767_225_600_000); // 2026-01-01T00:00:00Z

async fn agent(store: &Store, email: &str, role: Role, experience: Experience) -> Agent {
    store
        .create_agent(NewAgent {
            email: EmailAddress::parse(email).unwrap(),
            name: PersonName::parse(email.split('@').next().unwrap()).unwrap(),
            role,
            experience,
            skills: Vec::new(),
            team_id: None,
            capacity: 10,
            password_hash: String::new(),
            now: T0,
        })
        .await
        .unwrap()
}

async fn ticket(desk: &Desk) -> Ticket {
    desk.open_ticket(NewTicket {
        customer: TicketFor::Address {
            email: EmailAddress::parse("pat@example.com").unwrap(),
            name: Some(PersonName::parse("Pat Doe").unwrap()),
        },
        subject: Subject::parse("Kettle arrived cracked").unwrap(),
        body: Body::parse("The kettle leaks from a crack in its base.").unwrap(),
        need: None,
        priority: Priority::Normal,
        tags: Vec::new(),
        channel: Channel::Api,
        demeanor: None,
        actor: Actor::System,
        now: T0,
    })
    .await
    .unwrap()
}

fn up(ticket: &Ticket, by: AgentId, now: Millis) -> EscalationRequest {
    EscalationRequest {
        ticket_id: ticket.id,
        reason: EscalationReason::AgentRequest,
        note: None,
        message: None,
        assignee: None,
        channel: Channel::Api,
        actor: Actor::Agent(by),
        now,
    }
}

async fn escalation_tells_the_customer_what_was_tried(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let frontline = agent(&store, "jo@desk.test", Role::Agent, Experience::Junior).await;
    let t = ticket(&desk).await;
    store
        .add_intervention(NewIntervention {
            ticket_id: t.id,
            kind: InterventionKind::Replacement,
            description: Body::parse("Sent a new kettle by courier.").unwrap(),
            result: InterventionResult::Declined,
            agent_id: Some(frontline.id),
            now: Millis(T0.0 + 60_000),
        })
        .await
        .unwrap();
    let after = desk
        .escalate(up(&t, frontline.id, Millis(T0.0 + 120_000)))
        .await
        .unwrap();
    assert_eq!(after.rung, "experienced");
    let messages = store.messages(t.id).await.unwrap();
    let handoff = messages
        .iter()
        .rev()
        .find(|m| m.kind == MessageKind::Reply)
        .expect("the customer is sent the handoff");
    assert!(
        handoff.body.to_lowercase().contains("replacement"),
        "the handoff says what was tried: {}",
        handoff.body
    );
    let steps = store.escalations(t.id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].message_id, Some(handoff.id));
}

async fn an_agent_whose_rung_moved_on_is_refused_on_the_locked_row(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let junior = agent(&store, "jo@desk.test", Role::Agent, Experience::Junior).await;
    let manager = agent(&store, "max@desk.test", Role::Manager, Experience::Senior).await;
    let t = ticket(&desk).await;
    // The junior read the ticket on the frontline rung, where they may work it; before
    // their escalation arrives, a manager moves it to the experienced rung.
    desk.escalate(up(&t, manager.id, Millis(T0.0 + 60_000)))
        .await
        .unwrap();
    let refused = desk
        .escalate(up(&t, junior.id, Millis(T0.0 + 61_000)))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, DeskError::Forbidden(_)),
        "refused for the right reason: {refused:?}"
    );
    let steps = store.escalations(t.id).await.unwrap();
    assert_eq!(steps.len(), 1, "nothing was written for the refused move");
}

async fn a_switched_off_agent_is_refused_on_the_locked_row(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let frontline = agent(&store, "jo@desk.test", Role::Agent, Experience::Junior).await;
    let t = ticket(&desk).await;
    store
        .update_agent(
            frontline.id,
            AgentChange {
                active: Some(false),
                ..AgentChange::default()
            },
            Actor::System,
            Millis(T0.0 + 1_000),
        )
        .await
        .unwrap();
    let refused = desk
        .escalate(up(&t, frontline.id, Millis(T0.0 + 2_000)))
        .await
        .unwrap_err();
    assert!(matches!(refused, DeskError::Forbidden(_)), "{refused:?}");
    assert_eq!(store.get_ticket(t.id).await.unwrap().rung, "frontline");
}

async fn a_manager_may_escalate_any_ticket(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let manager = agent(&store, "max@desk.test", Role::Manager, Experience::Senior).await;
    let t = ticket(&desk).await;
    let after = desk
        .escalate(up(&t, manager.id, Millis(T0.0 + 1_000)))
        .await
        .unwrap();
    assert_eq!(after.rung, "experienced");
}
