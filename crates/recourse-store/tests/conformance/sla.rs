//! SLA clocks and the sweeper (a controlled clock: no sleeping).

use crate::usecases::UseCases;
use recourse_domain::Ticket;
use recourse_domain::{Actor, Customer, EscalationReason, Experience, MessageKind, Role, Status};

use crate::harness::*;

on_both! {
    first_response_and_resolution_fall_due_in_business_hours,
    a_ticket_opened_late_on_friday_falls_due_after_the_weekend,
    waiting_on_the_customer_stops_the_clocks,
    the_sweeper_warns_then_breaches_and_escalates_once,
    business_hours_not_the_wall_clock_decide_a_breach,
    a_waiting_ticket_does_not_breach_and_its_clocks_resume_pushed_back,
    after_the_weekend_the_friday_ticket_breaches_once,
}

/// Jo (junior) and Eve (experienced); Ada's three tickets: one opened Monday 10:00, one
/// Friday 16:00, and one answered and waiting on her since Monday 10:30.
struct Clocks {
    ada: Customer,
    a: Ticket,
    friday: Ticket,
    waits: Ticket,
    waiting: Ticket,
}

async fn clocks(s: &S) -> Clocks {
    let jo = staff(s, "jo@example.com", "Jo", Role::Agent, Experience::Junior).await;
    staff(
        s,
        "eve@example.com",
        "Eve",
        Role::Agent,
        Experience::Experienced,
    )
    .await;
    let ada = customer(s, "ada@example.com").await;
    // The default calendar: Monday to Friday, 09:00–17:00 UTC. Normal priority: first
    // response within 4 business hours, warned 30 minutes before.
    let monday = at("2026-11-23T10:00:00Z");
    let a = s
        .create_ticket(new_ticket(
            ada.id,
            "Breaches in hours",
            "Hello",
            &[],
            monday,
        ))
        .await
        .unwrap();
    let friday = s
        .create_ticket(new_ticket(
            ada.id,
            "Breaches after the weekend",
            "Hello",
            &[],
            at("2026-11-27T16:00:00Z"),
        ))
        .await
        .unwrap();
    let waits = s
        .create_ticket(new_ticket(ada.id, "Paused", "Hello", &[], monday))
        .await
        .unwrap();
    let mut ask = message(
        waits.id,
        MessageKind::Reply,
        Actor::Agent(jo.id),
        "Which model is it?",
        at("2026-11-23T10:30:00Z"),
    );
    ask.status = Some(Status::PendingCustomer);
    let (_, waiting) = s.add_message(ask).await.unwrap();
    Clocks {
        ada,
        a,
        friday,
        waits,
        waiting,
    }
}

async fn first_response_and_resolution_fall_due_in_business_hours(db: &TestDb) {
    let s = &db.store;
    let Clocks { a, .. } = clocks(s).await;
    assert_eq!(a.sla.first_response_due, Some(at("2026-11-23T14:00:00Z")));
    assert_eq!(a.sla.resolution_due, Some(at("2026-11-26T10:00:00Z")));
}

/// Friday 16:00: one business hour on Friday, three on Monday.
async fn a_ticket_opened_late_on_friday_falls_due_after_the_weekend(db: &TestDb) {
    let s = &db.store;
    let Clocks { friday, .. } = clocks(s).await;
    assert_eq!(
        friday.sla.first_response_due,
        Some(at("2026-11-30T12:00:00Z"))
    );
}

async fn waiting_on_the_customer_stops_the_clocks(db: &TestDb) {
    let s = &db.store;
    let Clocks { waiting, .. } = clocks(s).await;
    assert_eq!(waiting.sla.first_response_due, None);
    assert_eq!(waiting.sla.paused_at, Some(at("2026-11-23T10:30:00Z")));
}

async fn the_sweeper_warns_then_breaches_and_escalates_once(db: &TestDb) {
    let s = &db.store;
    let Clocks { a, .. } = clocks(s).await;
    let sweep = |when: &str| {
        let s = s.clone();
        let when = at(when);
        async move { s.sweep_sla(when, 100).await.unwrap() }
    };
    assert_eq!(sweep("2026-11-23T13:00:00Z").await.examined, 0);
    let warned = sweep("2026-11-23T13:40:00Z").await;
    assert_eq!(
        (warned.warned, warned.breached, warned.escalated),
        (1, 0, 0)
    );
    let breached = sweep("2026-11-23T14:01:00Z").await;
    assert_eq!((breached.breached, breached.escalated), (1, 1));
    // Later passes (and a restart's first pass) find nothing more for it.
    for when in [
        "2026-11-23T14:01:00Z",
        "2026-11-23T14:05:00Z",
        "2026-11-23T16:59:00Z",
    ] {
        assert_eq!(sweep(when).await.escalated, 0, "{when}");
    }
    let a_after = s.get_ticket(a.id).await.unwrap();
    assert_eq!(a_after.rung, "experienced");
    assert_eq!(
        a_after.sla.first_response_due, None,
        "the handoff was a response"
    );
    let steps = s.escalations(a.id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].reason, Some(EscalationReason::SlaBreach));
    let names = event_names(&s.events(a.id).await.unwrap());
    assert_eq!(names.iter().filter(|n| **n == "sla_warning").count(), 1);
    assert_eq!(names.iter().filter(|n| **n == "sla_breached").count(), 1);
    assert!(
        s.messages(a.id)
            .await
            .unwrap()
            .last()
            .unwrap()
            .body
            .contains("experienced")
    );
}

async fn business_hours_not_the_wall_clock_decide_a_breach(db: &TestDb) {
    let s = &db.store;
    let Clocks { a, friday, .. } = clocks(s).await;
    let sweep = |when: &str| {
        let s = s.clone();
        let when = at(when);
        async move { s.sweep_sla(when, 100).await.unwrap() }
    };
    sweep("2026-11-23T13:40:00Z").await;
    sweep("2026-11-23T14:01:00Z").await;
    // Saturday is long past Friday 16:00 + 4h by the wall clock, but not in business hours.
    // (The first ticket's promised next update, Tuesday 14:01, is overdue by now: that
    // one moves up again, to the manager; Friday's ticket does not move.)
    let weekend = sweep("2026-11-28T12:00:00Z").await;
    assert_eq!(weekend.escalated, 1);
    assert_eq!(s.get_ticket(a.id).await.unwrap().rung, "manager");
    assert_eq!(s.get_ticket(friday.id).await.unwrap().rung, "frontline");
    assert_eq!(s.escalations(friday.id).await.unwrap().len(), 0);
}

async fn a_waiting_ticket_does_not_breach_and_its_clocks_resume_pushed_back(db: &TestDb) {
    let s = &db.store;
    let Clocks { ada, waits, .. } = clocks(s).await;
    let sweep = |when: &str| {
        let s = s.clone();
        let when = at(when);
        async move { s.sweep_sla(when, 100).await.unwrap() }
    };
    sweep("2026-11-23T13:40:00Z").await;
    sweep("2026-11-23T14:01:00Z").await;
    sweep("2026-11-28T12:00:00Z").await;
    // The paused ticket's resolution deadline (Thursday 10:00) passes while it waits: no breach.
    sweep("2026-11-26T11:00:00Z").await;
    assert_eq!(s.escalations(waits.id).await.unwrap().len(), 0);
    // The customer answers the next Monday: the clocks resume, pushed back by the wait.
    let (_, resumed) = s
        .add_message(message(
            waits.id,
            MessageKind::Inbound,
            Actor::Customer(ada.id),
            "A K-200.",
            at("2026-11-30T09:00:00Z"),
        ))
        .await
        .unwrap();
    assert_eq!(resumed.sla.paused_at, None);
    assert!(resumed.sla.resolution_due.unwrap() > at("2026-11-30T09:00:00Z"));
}

async fn after_the_weekend_the_friday_ticket_breaches_once(db: &TestDb) {
    let s = &db.store;
    let Clocks {
        ada, friday, waits, ..
    } = clocks(s).await;
    let sweep = |when: &str| {
        let s = s.clone();
        let when = at(when);
        async move { s.sweep_sla(when, 100).await.unwrap() }
    };
    sweep("2026-11-23T13:40:00Z").await;
    sweep("2026-11-23T14:01:00Z").await;
    sweep("2026-11-28T12:00:00Z").await;
    sweep("2026-11-26T11:00:00Z").await;
    s.add_message(message(
        waits.id,
        MessageKind::Inbound,
        Actor::Customer(ada.id),
        "A K-200.",
        at("2026-11-30T09:00:00Z"),
    ))
    .await
    .unwrap();
    // Monday after the weekend: Friday's ticket breaches now, once.
    let monday_late = sweep("2026-11-30T12:01:00Z").await;
    assert!(monday_late.escalated >= 1);
    assert_eq!(s.escalations(friday.id).await.unwrap().len(), 1);
    assert_eq!(
        s.escalations(waits.id).await.unwrap().len(),
        0,
        "the resumed clock is not due yet"
    );
}
