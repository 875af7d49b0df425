//! The recovery use cases on both databases: an honest can't-help (told at once with a
//! partial solution, reviewed first without one), transfers that always tell the
//! customer, referrals from the top rung only, handing a case off, and the survey's week.
//! Who may work the ticket is decided on the ticket as locked for the change.
//!
//! SQLite always runs; PostgreSQL runs when `RECOURSE_TEST_PG_URL` names a server we may
//! create databases on (each test gets its own database), and must under CI.

use std::sync::Arc;

use recourse_desk::{Desk, DeskError};
use recourse_domain::recovery::{
    CantHelp, CantHelpDraft, CantHelpReason, SurveyAnswer, check_cant_help,
};
use recourse_domain::{
    Actor, Agent, AgentId, Body, Channel, EmailAddress, EscalationReason, EventKind, Experience,
    MessageKind, Millis, Outcome, PersonName, Priority, Role, Status, Subject, Tag, Ticket,
};
use recourse_store::{
    CantHelpRequest, EscalationRequest, NewAgent, NewAlternative, NewTicket, ReferralRequest,
    Store, StoreError, TicketFor, TransferRequest,
};

#[macro_use]
mod support;

on_both!(
    a_cant_help_with_a_partial_solution_tells_the_customer_and_resolves_as_explained,
    a_cant_help_without_a_partial_solution_waits_for_review_and_the_customer_hears_nothing,
    an_agent_who_may_not_work_the_ticket_is_refused_a_cant_help_on_the_locked_row,
    an_agent_who_may_not_work_the_ticket_is_refused_a_transfer_on_the_locked_row,
    a_transfer_always_tells_the_customer_who_has_the_case,
    a_referral_is_made_only_from_the_top_rung,
    only_the_holder_can_hand_a_ticket_off,
    an_ended_ticket_gets_one_survey_and_its_answer_may_change_for_a_week,
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

fn cant(ticket: &Ticket, partial: Option<&str>, by: AgentId, now: Millis) -> CantHelpRequest {
    let c: CantHelp = check_cant_help(&CantHelpDraft {
        reason: CantHelpReason::CompanyPolicy,
        explanation: "We cannot refund a kettle bought more than two years ago.".into(),
        partial_solution: partial.map(str::to_owned),
        no_partial_justification: partial
            .is_none()
            .then(|| "The warranty ended and there is no goodwill budget left.".into()),
        third_party: None,
        handoff_summary: None,
    })
    .unwrap();
    CantHelpRequest {
        ticket_id: ticket.id,
        cant_help: c,
        channel: Channel::Api,
        actor: Actor::Agent(by),
        now,
    }
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

fn transfer(ticket: &Ticket, to: AgentId, by: AgentId, now: Millis) -> TransferRequest {
    TransferRequest {
        ticket_id: ticket.id,
        to_agent: Some(to),
        to_team: None,
        to_rung: None,
        customer_message: "Eve in billing has your case now; she can change invoices.".into(),
        channel: Channel::Api,
        actor: Actor::Agent(by),
        now,
    }
}

fn at(minutes: i64) -> Millis {
    Millis(T0.0 + minutes * 60_000)
}

async fn replies(store: &Store, t: &Ticket) -> Vec<String> {
    store
        .messages(t.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MessageKind::Reply)
        .map(|m| m.body)
        .collect()
}

async fn a_cant_help_with_a_partial_solution_tells_the_customer_and_resolves_as_explained(
    store: Arc<Store>,
) {
    let desk = Desk::new(store.clone());
    let jo = agent(&store, "jo@desk.test", Role::Agent, Experience::Junior).await;
    let t = ticket(&desk).await;
    let (after, record) = desk
        .cant_help(cant(
            &t,
            Some("We can sell you a new base at cost."),
            jo.id,
            at(1),
        ))
        .await
        .unwrap();
    assert_eq!(after.status, Status::Resolved);
    assert_eq!(after.outcome, Some(Outcome::Explained));
    assert_eq!(record.state, "sent");
    let sent = replies(&store, &t).await;
    assert_eq!(sent.len(), 1, "the customer is told once: {sent:?}");
    assert!(sent[0].starts_with("Hello Pat Doe,"), "{}", sent[0]);
    assert!(
        sent[0].contains("We can sell you a new base at cost."),
        "{}",
        sent[0]
    );
    assert!(record.message_id.is_some());
    let stored = store.get_ticket(t.id).await.unwrap();
    assert!(!stored.review_pending);
    assert_eq!(stored.first_response_at, Some(at(1)));
}

async fn a_cant_help_without_a_partial_solution_waits_for_review_and_the_customer_hears_nothing(
    store: Arc<Store>,
) {
    let desk = Desk::new(store.clone());
    let jo = agent(&store, "jo@desk.test", Role::Agent, Experience::Junior).await;
    let t = ticket(&desk).await;
    let (after, record) = desk.cant_help(cant(&t, None, jo.id, at(1))).await.unwrap();
    assert_eq!(record.state, "pending_review");
    assert_eq!(record.message_id, None);
    assert!(after.review_pending);
    assert!(after.status.is_active(), "still open: {:?}", after.status);
    assert_eq!(after.outcome, None);
    assert!(replies(&store, &t).await.is_empty(), "nothing was sent");
    let queue = store.cant_help_records(None, 10).await.unwrap();
    assert_eq!(queue.len(), 1, "it waits in the managers' queue");
    assert!(store.get_ticket(t.id).await.unwrap().review_pending);
}

/// The junior read the ticket on the frontline rung, where they may work it; before their
/// action arrives, a manager moves it to the experienced rung.
async fn moved_past(store: &Arc<Store>) -> (Desk, Ticket, Agent, Agent) {
    let desk = Desk::new(store.clone());
    let junior = agent(store, "jo@desk.test", Role::Agent, Experience::Junior).await;
    let manager = agent(store, "max@desk.test", Role::Manager, Experience::Senior).await;
    let t = ticket(&desk).await;
    desk.escalate(up(&t, manager.id, at(1))).await.unwrap();
    (desk, t, junior, manager)
}

async fn an_agent_who_may_not_work_the_ticket_is_refused_a_cant_help_on_the_locked_row(
    store: Arc<Store>,
) {
    let (desk, t, junior, _) = moved_past(&store).await;
    let before = replies(&store, &t).await.len();
    let refused = desk
        .cant_help(cant(&t, Some("A new base at cost."), junior.id, at(2)))
        .await
        .unwrap_err();
    match refused {
        DeskError::Forbidden(why) => assert_eq!(
            why,
            "Only someone working this ticket (its assignee, anyone on its rung, or a manager) can do this."
        ),
        other => panic!("refused for the wrong reason: {other:?}"),
    }
    assert!(
        store
            .cant_help_records(Some(t.id), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(replies(&store, &t).await.len(), before, "nothing was sent");
    assert!(store.get_ticket(t.id).await.unwrap().status.is_active());
}

async fn an_agent_who_may_not_work_the_ticket_is_refused_a_transfer_on_the_locked_row(
    store: Arc<Store>,
) {
    let (desk, t, junior, manager) = moved_past(&store).await;
    let assignee = store.get_ticket(t.id).await.unwrap().assignee_id;
    let refused = desk
        .transfer(transfer(&t, manager.id, junior.id, at(2)))
        .await
        .unwrap_err();
    assert!(matches!(refused, DeskError::Forbidden(_)), "{refused:?}");
    let stored = store.get_ticket(t.id).await.unwrap();
    assert_eq!(stored.assignee_id, assignee, "the case stayed where it was");
    let events = store.events(t.id).await.unwrap();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Transferred { .. })),
        "nothing was written for the refused transfer"
    );
}

async fn a_transfer_always_tells_the_customer_who_has_the_case(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let jo = agent(&store, "jo@desk.test", Role::Agent, Experience::Junior).await;
    let eve = agent(
        &store,
        "eve@desk.test",
        Role::Agent,
        Experience::Experienced,
    )
    .await;
    let t = ticket(&desk).await;
    let after = desk
        .transfer(transfer(&t, eve.id, jo.id, at(1)))
        .await
        .unwrap();
    assert_eq!(after.assignee_id, Some(eve.id));
    let sent = replies(&store, &t).await;
    assert_eq!(
        sent,
        vec!["Eve in billing has your case now; she can change invoices.".to_owned()]
    );
    let events = store.events(t.id).await.unwrap();
    assert!(
        events.iter().any(|e| matches!(
            e.kind,
            EventKind::Transferred { to_agent: Some(a), .. } if a == eve.id
        )),
        "the transfer is in the history"
    );
}

async fn a_referral_is_made_only_from_the_top_rung(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let max = agent(&store, "max@desk.test", Role::Manager, Experience::Senior).await;
    let t = ticket(&desk).await;
    let fixit = store
        .save_alternative(
            None,
            NewAlternative {
                name: "Fixit Repairs".into(),
                serves: vec![Tag::parse("kettles").unwrap()],
                contact: "https://fixit.example".into(),
                notes: String::new(),
                active: true,
            },
            T0,
        )
        .await
        .unwrap();
    let refer = |now| ReferralRequest {
        ticket_id: t.id,
        alternative_id: fixit.id,
        reason: "We do not repair appliances ourselves.".into(),
        message: None,
        agent_name: None,
        channel: Channel::Api,
        actor: Actor::Agent(max.id),
        now,
    };
    let below = desk.refer(refer(at(1))).await.unwrap_err();
    assert!(
        matches!(below, DeskError::Store(StoreError::Conflict(_))),
        "{below:?}"
    );
    assert!(store.get_ticket(t.id).await.unwrap().status.is_active());
    desk.escalate(up(&t, max.id, at(2))).await.unwrap();
    let still_below = desk.refer(refer(at(3))).await.unwrap_err();
    assert!(
        matches!(still_below, DeskError::Store(StoreError::Conflict(_))),
        "{still_below:?}"
    );
    desk.escalate(up(&t, max.id, at(4))).await.unwrap();
    let referred = desk.refer(refer(at(5))).await.unwrap();
    assert_eq!(referred.status, Status::Closed);
    assert_eq!(referred.outcome, Some(Outcome::Referred));
    let letter = replies(&store, &t).await.pop().unwrap();
    assert!(letter.contains("Fixit Repairs"), "{letter}");
    assert!(letter.contains("https://fixit.example"), "{letter}");
}

async fn only_the_holder_can_hand_a_ticket_off(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let jo = agent(&store, "jo@desk.test", Role::Agent, Experience::Junior).await;
    let eve = agent(
        &store,
        "eve@desk.test",
        Role::Agent,
        Experience::Experienced,
    )
    .await;
    let t = ticket(&desk).await;
    desk.transfer(transfer(&t, jo.id, eve.id, at(1)))
        .await
        .unwrap();
    let refused = desk.hand_off(t.id, eve.id, at(2)).await.unwrap_err();
    assert!(
        matches!(refused, DeskError::Store(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let passed = desk.hand_off(t.id, jo.id, at(3)).await.unwrap();
    assert_ne!(passed.assignee_id, Some(jo.id));
    let events = store.events(t.id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, EventKind::HandedOff { from, .. } if from == jo.id))
    );
}

async fn an_ended_ticket_gets_one_survey_and_its_answer_may_change_for_a_week(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let jo = agent(&store, "jo@desk.test", Role::Agent, Experience::Junior).await;
    let open = ticket(&desk).await;
    assert!(
        !desk
            .open_survey(open.id, "hash-open", "How did we do?", at(1))
            .await
            .unwrap(),
        "an active ticket asks for no survey"
    );
    let t = ticket(&desk).await;
    desk.cant_help(cant(&t, Some("A new base at cost."), jo.id, at(2)))
        .await
        .unwrap();
    assert!(
        desk.open_survey(t.id, "hash-t", "How did we do?", at(3))
            .await
            .unwrap()
    );
    assert!(
        !desk
            .open_survey(t.id, "hash-t2", "Again?", at(4))
            .await
            .unwrap(),
        "one survey per ticket"
    );
    assert_eq!(replies(&store, &t).await.last().unwrap(), "How did we do?");
    let answer = SurveyAnswer::parse(4, 5, 4, 9).unwrap();
    let first = desk
        .answer_survey("hash-t", answer, None, at(10))
        .await
        .unwrap();
    assert_eq!(first.answered_at, Some(at(10)));
    let week = 7 * 24 * 60;
    let changed = SurveyAnswer::parse(5, 5, 5, 10).unwrap();
    let again = desk
        .answer_survey("hash-t", changed, Some("Better now.".into()), at(10 + week))
        .await
        .unwrap();
    assert_eq!(
        again.answered_at,
        Some(at(10)),
        "the first answer's time is kept"
    );
    assert_eq!(again.answer, Some(changed));
    let late = desk
        .answer_survey("hash-t", answer, None, at(11 + week))
        .await
        .unwrap_err();
    assert!(
        matches!(late, DeskError::Store(StoreError::Conflict(_))),
        "{late:?}"
    );
    let stored = store.survey_by_token("hash-t").await.unwrap().unwrap();
    assert_eq!(stored.answer, Some(changed));
}
