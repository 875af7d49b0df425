//! The practice desk on both databases: the shipped library is stored on first use,
//! each attempt is scored by the coach and stored, agents see their own progress and
//! managers the team's together, admins edit scenarios, and bad input is refused.
//! Practice never creates a ticket or a customer.
//!
//! SQLite always runs; PostgreSQL runs when `RECOURSE_TEST_PG_URL` names a server we may
//! create databases on (each test gets its own database), and must under CI.

use std::sync::Arc;

use recourse_desk::practice::{self, KINDS};
use recourse_desk::{Desk, DeskError, NewPracticeScenario, StoreError, TicketFilter};
use recourse_domain::{Agent, EmailAddress, Experience, Millis, PersonName, Role};
use recourse_store::{NewAgent, Store};

#[macro_use]
mod support;

on_both!(
    the_library_is_stored_once_on_first_use,
    an_attempt_is_scored_stored_and_counted_in_progress,
    practice_touches_no_ticket_or_customer,
    bad_input_is_refused_with_a_code,
    admins_add_and_edit_scenarios,
    managers_see_the_team_together_never_by_person,
);

const T0: Millis = Millis(1_767_225_600_000); // 2026-01-01T00:00:00Z
const DAY: i64 = 86_400_000;

async fn agent(store: &Store, email: &str, role: Role) -> Agent {
    store
        .create_agent(NewAgent {
            email: EmailAddress::parse(email).unwrap(),
            name: PersonName::parse(email.split('@').next().unwrap()).unwrap(),
            role,
            experience: Experience::Junior,
            skills: Vec::new(),
            team_id: None,
            capacity: 10,
            password_hash: String::new(),
            now: T0,
        })
        .await
        .unwrap()
}

const GOOD: &str = "I'm sorry, you took a day off for us twice and we let you down both times. I have booked your sofa on the first van this Thursday between 8 and 10 am, and I will call you on Wednesday evening to confirm. I can also refund the delivery charge today.";
const CURT: &str = "Not our fault. You should have been in.";

fn invalid_code(e: DeskError) -> &'static str {
    match e {
        DeskError::Invalid { code, .. } => code,
        other => panic!("expected an invalid-input refusal, got {other:?}"),
    }
}

async fn the_library_is_stored_once_on_first_use(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    assert_eq!(store.count_practice_scenarios().await.unwrap(), 0);
    let all = desk.practice_scenarios(T0).await.unwrap();
    assert_eq!(all.len(), practice::library().len());
    assert!(all.len() >= 40);
    for kind in KINDS {
        assert!(all.iter().filter(|s| s.kind == kind).count() >= 6, "{kind}");
    }
    // Asking again (or seeding again, as a second node might) adds nothing.
    assert_eq!(desk.practice_scenarios(T0).await.unwrap().len(), all.len());
    assert_eq!(
        store
            .seed_practice_scenarios(&practice::library(), T0)
            .await
            .unwrap(),
        0
    );
    let one = desk.practice_scenario(all[0].id, T0).await.unwrap();
    assert_eq!(one, all[0]);
    assert!(!one.customer_message.is_empty() && !one.need.is_empty());
    assert!(!one.good_answer.is_empty() && !one.example_answer.is_empty());
}

async fn an_attempt_is_scored_stored_and_counted_in_progress(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let ana = agent(&store, "ana@example.com", Role::Agent).await;
    let sofa = desk
        .practice_scenarios(T0)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.slug.as_deref() == Some("fr-late-sofa"))
        .unwrap();

    let weak = desk.practise(ana.id, sofa.id, CURT, T0).await.unwrap();
    assert!(weak.attempt.score < 60, "{:?}", weak.flags);
    assert_eq!(weak.verdict, "Try again");
    assert!(!weak.flags.is_empty());
    assert_eq!(
        weak.attempt.flags,
        weak.flags
            .iter()
            .map(|f| f.kind.as_str().to_owned())
            .collect::<Vec<_>>()
    );
    assert_eq!(weak.scenario.example_answer, sofa.example_answer);

    let good = desk
        .practise(ana.id, sofa.id, GOOD, Millis(T0.0 + DAY))
        .await
        .unwrap();
    assert!(good.attempt.score >= 85, "{:?}", good.flags);
    assert_eq!(good.verdict, "Ready to send");
    assert!(good.checks.iter().all(|c| c.passed));
    assert_eq!(good.attempt.reply, GOOD);
    assert_eq!(good.attempt.agent_id, ana.id);
    assert_eq!(good.attempt.scenario_id, sofa.id);
    assert_eq!(good.attempt.created_at, Millis(T0.0 + DAY));

    let p = desk
        .practice_progress(ana.id, Millis(T0.0 + 2 * DAY))
        .await
        .unwrap();
    assert_eq!(p.recent.len(), 2);
    assert_eq!(p.recent[0], good.attempt, "newest first");
    assert_eq!(p.recent[1], weak.attempt);
    assert_eq!(p.by_kind.len(), 1);
    assert_eq!(p.by_kind[0].key, "frontline_recovery");
    assert_eq!(p.by_kind[0].attempts, 2);
    assert_eq!(
        p.by_kind[0].score_sum,
        weak.attempt.score + good.attempt.score
    );
    let days: Vec<_> = p
        .by_day
        .iter()
        .map(|d| (d.key.clone(), d.attempts))
        .collect();
    let d0 = T0.0 / DAY;
    assert_eq!(
        days,
        vec![(d0.to_string(), 1), ((d0 + 1).to_string(), 1)],
        "oldest day first"
    );
    // Someone else's progress is empty.
    let ben = agent(&store, "ben@example.com", Role::Agent).await;
    let p = desk.practice_progress(ben.id, T0).await.unwrap();
    assert!(p.recent.is_empty() && p.by_kind.is_empty() && p.by_day.is_empty());
}

async fn practice_touches_no_ticket_or_customer(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let ana = agent(&store, "ana@example.com", Role::Agent).await;
    for s in desk.practice_scenarios(T0).await.unwrap().iter().take(5) {
        desk.practise(ana.id, s.id, &s.example_answer, T0)
            .await
            .unwrap();
    }
    let tickets = store
        .list_tickets(&TicketFilter {
            limit: 100,
            ..TicketFilter::default()
        })
        .await
        .unwrap();
    assert!(tickets.is_empty(), "practice opened a ticket");
    assert!(
        store
            .customer_by_email(&EmailAddress::parse("pat@example.com").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

async fn bad_input_is_refused_with_a_code(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let ana = agent(&store, "ana@example.com", Role::Agent).await;
    let id = desk.practice_scenarios(T0).await.unwrap()[0].id;
    assert_eq!(
        invalid_code(desk.practise(ana.id, id, "  \n\t ", T0).await.unwrap_err()),
        "empty_reply"
    );
    let huge = "I am sorry. ".repeat(50 * 1024 / 12 + 1);
    assert!(huge.len() >= 50 * 1024);
    assert_eq!(
        invalid_code(desk.practise(ana.id, id, &huge, T0).await.unwrap_err()),
        "reply_too_long"
    );
    assert!(matches!(
        desk.practise(ana.id, 987_654, GOOD, T0).await.unwrap_err(),
        DeskError::Store(StoreError::NotFound("practice scenario"))
    ));
    // Nothing was stored for the refused attempts.
    let p = desk.practice_progress(ana.id, T0).await.unwrap();
    assert!(p.recent.is_empty());
}

fn scenario(subject: &str, kind: &str) -> NewPracticeScenario {
    NewPracticeScenario {
        slug: None,
        kind: kind.to_owned(),
        subject: subject.to_owned(),
        topic: "delivery".to_owned(),
        customer_message: "My parcel is a week late and nobody answers the phone.".to_owned(),
        need: "the parcel delivered".to_owned(),
        good_answer: "Apologises, gives a delivery day, and a number that answers.".to_owned(),
        example_answer: "I'm sorry it is a week late. I have booked it for Friday morning and I will call you Thursday to confirm.".to_owned(),
    }
}

async fn admins_add_and_edit_scenarios(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let admin = agent(&store, "ada@example.com", Role::Admin).await;
    let manager = agent(&store, "max@example.com", Role::Manager).await;
    let before = desk.practice_scenarios(T0).await.unwrap().len();

    assert!(matches!(
        desk.save_practice_scenario(&manager, None, scenario("Late parcel", "abuse"), T0)
            .await
            .unwrap_err(),
        DeskError::Forbidden(_)
    ));
    let made = desk
        .save_practice_scenario(&admin, None, scenario("  Late parcel ", "abuse"), T0)
        .await
        .unwrap();
    assert_eq!(made.subject, "Late parcel", "trimmed");
    assert_eq!(made.slug, None);
    assert_eq!(desk.practice_scenarios(T0).await.unwrap().len(), before + 1);

    let later = Millis(T0.0 + 1000);
    let edited = desk
        .save_practice_scenario(
            &admin,
            Some(made.id),
            scenario("Very late parcel", "repeated_contact"),
            later,
        )
        .await
        .unwrap();
    assert_eq!(edited.id, made.id);
    assert_eq!(edited.subject, "Very late parcel");
    assert_eq!(edited.kind, "repeated_contact");
    assert_eq!(edited.updated_at, later);
    assert_eq!(edited.created_at, T0);
    assert_eq!(
        desk.practice_scenario(made.id, later).await.unwrap(),
        edited
    );

    // A shipped scenario keeps its slug when edited.
    let shipped = desk.practice_scenarios(T0).await.unwrap()[0].clone();
    let s = desk
        .save_practice_scenario(&admin, Some(shipped.id), scenario("Edited", "abuse"), later)
        .await
        .unwrap();
    assert_eq!(s.slug, shipped.slug);

    assert_eq!(
        invalid_code(
            desk.save_practice_scenario(&admin, None, scenario("X", "grumpy"), T0)
                .await
                .unwrap_err()
        ),
        "invalid_kind"
    );
    assert_eq!(
        invalid_code(
            desk.save_practice_scenario(&admin, None, scenario("  ", "abuse"), T0)
                .await
                .unwrap_err()
        ),
        "invalid_subject"
    );
    assert!(matches!(
        desk.save_practice_scenario(&admin, Some(987_654), scenario("X", "abuse"), T0)
            .await
            .unwrap_err(),
        DeskError::Store(StoreError::NotFound(_))
    ));
}

async fn managers_see_the_team_together_never_by_person(store: Arc<Store>) {
    let desk = Desk::new(store.clone());
    let ana = agent(&store, "ana@example.com", Role::Agent).await;
    let ben = agent(&store, "ben@example.com", Role::Agent).await;
    let max = agent(&store, "max@example.com", Role::Manager).await;
    let all = desk.practice_scenarios(T0).await.unwrap();
    let abuse = all.iter().find(|s| s.kind == "abuse").unwrap();
    let referral = all.iter().find(|s| s.kind == "referral").unwrap();
    let a = desk.practise(ana.id, abuse.id, CURT, T0).await.unwrap();
    let b = desk
        .practise(ben.id, abuse.id, &abuse.example_answer, T0)
        .await
        .unwrap();
    let c = desk
        .practise(
            ben.id,
            referral.id,
            &referral.example_answer,
            Millis(T0.0 + DAY),
        )
        .await
        .unwrap();

    assert!(matches!(
        desk.practice_team(&ana, T0).await.unwrap_err(),
        DeskError::Forbidden(_)
    ));
    let team = desk.practice_team(&max, Millis(T0.0 + DAY)).await.unwrap();
    let kinds: Vec<_> = team
        .by_kind
        .iter()
        .map(|t| (t.key.as_str(), t.attempts, t.score_sum))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("abuse", 2, a.attempt.score + b.attempt.score),
            ("referral", 1, c.attempt.score)
        ]
    );
    assert_eq!(team.by_day.iter().map(|d| d.attempts).sum::<i64>(), 3);
    assert_eq!(team.by_day.len(), 2);
}
