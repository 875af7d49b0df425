//! Copying a database between backends (only with PostgreSQL).

use crate::usecases::UseCases;
use recourse_domain::Agent;
use recourse_domain::recovery::SurveyAnswer;
use recourse_domain::{
    Actor, Channel, Customer, EscalationReason, InterventionKind, InterventionResult, MessageKind,
    Millis, Need, Outcome, Priority, Status, TicketId,
};
use recourse_store::EscalationRequest;
use recourse_store::table::{Cell, Row, TABLES};
use recourse_store::{
    AssigneeFilter, NewApiToken, NewIntervention, NewSession, Principal, TicketChange, TicketFilter,
};
use recourse_store::{NewAlternative, ReferralRequest, ReportQuery};

use crate::harness::*;
use crate::mail::fill_mail;

both_directions! {
    every_table_holds_the_same_rows,
    the_reports_daily_counts_and_the_search_index_come_along,
    tickets_people_and_tokens_read_back_equal_through_the_store,
    sessions_are_not_copied,
    listings_by_tag_and_assignee_and_search_are_rebuilt,
    new_rows_on_the_target_continue_after_the_copied_ones,
}

/// What [`fill`] made, to check against after a copy.
struct Filled {
    customers: Vec<Customer>,
    agents: Vec<Agent>,
    tickets: Vec<TicketId>,
    token_hashes: Vec<String>,
}

/// Puts at least one row in every copied table, and something in the derived ones.
async fn fill(s: &S) -> Filled {
    s.create_organization("Acme Ltd", Some("acme.example"), t(0))
        .await
        .unwrap();
    s.create_organization("Solo", None, t(0)).await.unwrap();
    let team = s.create_team("Billing").await.unwrap();
    let ada = s
        .upsert_customer(&email("ada@acme.example"), Some("Ada"), t(0))
        .await
        .unwrap();
    let bob = customer(s, "bob@example.com").await;
    let mut with_team = new_agent("grace@example.com", "Grace Hopper", t(0));
    with_team.team_id = Some(team.id);
    let grace = s.create_agent(with_team).await.unwrap();
    let alan = agent(s, "alan@example.com", "Alan Turing").await;
    let by_grace = Actor::Agent(grace.id);
    for (i, principal) in [Principal::Agent(grace.id), Principal::Customer(ada.id)]
        .into_iter()
        .enumerate()
    {
        s.create_api_token(NewApiToken {
            principal,
            name: format!("token {i}"),
            token_hash: format!("hash-{i}"),
            scope: "full".into(),
            now: t(1),
        })
        .await
        .unwrap();
    }
    let revoked = s.api_token_by_hash("hash-0").await.unwrap().unwrap();
    s.revoke_api_token(revoked.id, t(2)).await.unwrap();
    s.create_session(NewSession {
        id_hash: "session".into(),
        principal: Principal::Agent(grace.id),
        csrf_token: "csrf".into(),
        now: t(2),
        expires_at: t(10_000),
    })
    .await
    .unwrap();

    // Desk settings and a webhook, so their tables (and the outbox) travel too.
    s.put_setting(
        "escalation_rules",
        r#"{"repeated_contact_after":4,"angry_after_interventions":2,"abuse_to_top":true}"#,
        by_grace,
        t(3),
    )
    .await
    .unwrap();
    s.create_webhook("http://127.0.0.1:9/hook", "whsec-test", &[], t(3))
        .await
        .unwrap();
    let mut tickets = Vec::new();
    for i in 0..7i64 {
        let c = if i % 2 == 0 { &ada } else { &bob };
        let mut new = new_ticket(
            c.id,
            &format!("Toaster {i} smells of smoke"),
            &format!("Order {i}: the toaster smokes. Größe {i}."),
            &["Hardware", "urgent-ish"][..(i % 3) as usize],
            t(10 + i),
        );
        new.need = Need::parse(&format!("need {i}")).unwrap();
        let tk = s.create_ticket(new).await.unwrap();
        s.add_message(message(
            tk.id,
            MessageKind::Reply,
            by_grace,
            "Please unplug it.",
            t(20 + i),
        ))
        .await
        .unwrap();
        s.add_message(message(
            tk.id,
            MessageKind::Note,
            by_grace,
            &format!("Batch {i} came from the quokka factory."),
            t(30 + i),
        ))
        .await
        .unwrap();
        let assignee = if i % 2 == 0 {
            Some(grace.id)
        } else {
            Some(alan.id)
        };
        s.update_ticket(
            tk.id,
            TicketChange {
                assignee: Some(assignee),
                priority: Some(Priority::High),
                ..change()
            },
            by_grace,
            t(40 + i),
        )
        .await
        .unwrap();
        s.add_intervention(NewIntervention {
            ticket_id: tk.id,
            kind: InterventionKind::Refund,
            description: body(&format!("Refunded order {i}")),
            result: InterventionResult::Accepted,
            agent_id: if i == 3 { None } else { Some(grace.id) },
            now: t(50 + i),
        })
        .await
        .unwrap();
        if i == 4 {
            s.escalate(EscalationRequest {
                ticket_id: tk.id,
                reason: EscalationReason::NeedsExperience,
                note: Some("Smoke: needs someone who knows heaters".into()),
                message: None,
                assignee: None,
                channel: Channel::Console,
                actor: by_grace,
                now: t(55),
            })
            .await
            .unwrap();
        }
        if i == 5 {
            let close = TicketChange {
                status: Some(Status::Closed),
                outcome: Some(Outcome::Referred),
                ..change()
            };
            s.update_ticket(tk.id, close, by_grace, t(60))
                .await
                .unwrap();
        }
        tickets.push(tk.id);
    }
    // The recovery tables: a can't-help, an alternative and a referral, a survey.
    let explain = s
        .cant_help(cant(
            tickets[0],
            explained(Some("A voucher.")),
            by_grace,
            t(70),
        ))
        .await
        .unwrap();
    let place = s
        .save_alternative(
            None,
            NewAlternative {
                name: "FixIt".into(),
                serves: tags(&["hardware"]),
                contact: "https://fixit.example".into(),
                notes: "Repairs toasters".into(),
                active: true,
            },
            t(70),
        )
        .await
        .unwrap();
    let top = s.get_ticket(tickets[4]).await.unwrap();
    assert_eq!(top.rung, "experienced");
    s.escalate(escalation(
        top.id,
        EscalationReason::CustomerRequest,
        by_grace,
        t(71),
    ))
    .await
    .unwrap();
    s.refer(ReferralRequest {
        ticket_id: top.id,
        alternative_id: place.id,
        reason: "We do not repair toasters.".into(),
        message: None,
        agent_name: None,
        channel: Channel::Console,
        actor: by_grace,
        now: t(72),
    })
    .await
    .unwrap();
    assert!(
        s.open_survey(explain.0.id, "survey-hash", "How did we do?", t(73))
            .await
            .unwrap()
    );
    s.answer_survey(
        "survey-hash",
        SurveyAnswer::parse(4, 5, 5, 10).unwrap(),
        None,
        t(74),
    )
    .await
    .unwrap();
    // The email tables: a mailbox, a received message with its Message-ID and an
    // attachment, a bouncing address; the replies above filled the outbox.
    fill_mail(s, tickets[1], team.id).await;
    // A portal sign-in link waiting to be mailed.
    assert!(
        s.request_portal_link(&email("ada@acme.example"), 3, 60_000, t(75))
            .await
            .unwrap()
    );
    s.save_canned_reply(
        None,
        recourse_store::NewCannedReply {
            title: "Parcel late".into(),
            body: "Hello {{customer_name}}, I can send a new one today.".into(),
            author: Some(grace.id),
        },
        t(76),
    )
    .await
    .unwrap();
    // A practice scenario and one rehearsal of it (practice is copied like the rest).
    let scenario = s
        .save_practice_scenario(
            None,
            recourse_store::NewPracticeScenario {
                slug: Some("late-parcel".into()),
                kind: "frontline_recovery".into(),
                subject: "Parcel late".into(),
                topic: "delivery".into(),
                customer_message: "My parcel is a week late.".into(),
                need: "the parcel delivered".into(),
                good_answer: "A delivery day.".into(),
                example_answer: "I'm sorry; it will arrive on Friday.".into(),
            },
            t(76),
        )
        .await
        .unwrap();
    s.insert_practice_attempt(
        recourse_store::NewPracticeAttempt {
            agent_id: grace.id,
            scenario_id: scenario.id,
            reply: "Sorry, it comes Friday.".into(),
            score: 80,
            flags: vec!["no_acknowledgement".into()],
        },
        t(77),
    )
    .await
    .unwrap();
    let bob = s
        .set_supervised(bob.id, true, by_grace, t(75))
        .await
        .unwrap();
    Filled {
        customers: vec![ada, bob],
        agents: vec![grace, alan],
        tickets,
        token_hashes: vec!["hash-0".into(), "hash-1".into()],
    }
}

async fn export_all(s: &S, table: &recourse_store::table::Table, page: i64) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let batch = s.export_rows(table, after, page).await.unwrap();
        assert!(batch.len() as i64 <= page);
        let Some(last) = batch.last() else { break };
        let Cell::Int(Some(id)) = last[0] else {
            panic!("{}: first column is not an id: {:?}", table.name, last[0])
        };
        assert!(id > after);
        after = id;
        rows.extend(batch);
    }
    rows
}

/// Fills `source` and copies it table by table into `target` in small pages, as
/// `db copy` does.
async fn copied(source: &TestDb, target: &TestDb) -> Filled {
    let (src, dst) = (&source.store, &target.store);
    let filled = fill(src).await;

    // Copy table by table in small pages, as `db copy` does.
    for table in TABLES {
        assert_eq!(
            dst.count_rows(table.name).await.unwrap(),
            0,
            "target {} starts empty",
            table.name
        );
        let mut after = 0;
        loop {
            let rows = src.export_rows(table, after, 4).await.unwrap();
            let Some(last) = rows.last() else { break };
            let Cell::Int(Some(id)) = last[0] else {
                panic!("{}: first column is not an id", table.name)
            };
            after = id;
            dst.import_rows(table, &rows).await.unwrap();
        }
    }
    dst.finish_import().await.unwrap();
    filled
}

async fn every_table_holds_the_same_rows(source: &TestDb, target: &TestDb) {
    let (src, dst) = (&source.store, &target.store);
    copied(source, target).await;
    // Every table holds the same rows.
    for table in TABLES {
        let n = src.count_rows(table.name).await.unwrap();
        assert!(n > 0, "the source has rows in {}", table.name);
        assert_eq!(
            dst.count_rows(table.name).await.unwrap(),
            n,
            "{}",
            table.name
        );
        assert_eq!(
            export_all(dst, table, 1000).await,
            export_all(src, table, 3).await,
            "{}",
            table.name
        );
    }
}

async fn the_reports_daily_counts_and_the_search_index_come_along(
    source: &TestDb,
    target: &TestDb,
) {
    let (src, dst) = (&source.store, &target.store);
    copied(source, target).await;
    // The derived rows came along too: the report's daily counts (rebuilt by trigger as
    // the tickets arrived, not doubled) and the search index.
    let all_time = ReportQuery {
        from: Millis(0),
        to: Millis(4_000_000_000_000),
        team: None,
    };
    let report = src.report_summary(&all_time).await.unwrap();
    assert!(report.ended > 0, "the source has ended tickets");
    assert_eq!(dst.report_summary(&all_time).await.unwrap(), report);
    let found = search_ids(src, "toaster smokes", None).await;
    assert!(!found.is_empty(), "the source finds its tickets");
    assert_eq!(search_ids(dst, "toaster smokes", None).await, found);
}

async fn tickets_people_and_tokens_read_back_equal_through_the_store(
    source: &TestDb,
    target: &TestDb,
) {
    let (src, dst) = (&source.store, &target.store);
    let filled = copied(source, target).await;
    // Read back through the store, everything is equal.
    for id in &filled.tickets {
        assert_eq!(
            dst.get_ticket(*id).await.unwrap(),
            src.get_ticket(*id).await.unwrap()
        );
        assert_eq!(
            dst.messages(*id).await.unwrap(),
            src.messages(*id).await.unwrap()
        );
        assert_eq!(
            dst.events(*id).await.unwrap(),
            src.events(*id).await.unwrap()
        );
        assert_eq!(
            dst.interventions(*id).await.unwrap(),
            src.interventions(*id).await.unwrap()
        );
    }
    for c in &filled.customers {
        assert_eq!(&dst.get_customer(c.id).await.unwrap(), c);
        assert_eq!(
            dst.customer_by_email(&c.email).await.unwrap().as_ref(),
            Some(c)
        );
    }
    assert_eq!(
        dst.list_agents().await.unwrap(),
        src.list_agents().await.unwrap()
    );
    assert_eq!(
        dst.list_teams().await.unwrap(),
        src.list_teams().await.unwrap()
    );
    for a in &filled.agents {
        assert_eq!(
            dst.agent_credentials(&a.email).await.unwrap(),
            src.agent_credentials(&a.email).await.unwrap()
        );
    }
    for h in &filled.token_hashes {
        let token = dst.api_token_by_hash(h).await.unwrap();
        assert!(token.is_some());
        assert_eq!(token, src.api_token_by_hash(h).await.unwrap());
    }
}

async fn sessions_are_not_copied(source: &TestDb, target: &TestDb) {
    let dst = &target.store;
    copied(source, target).await;
    // Sessions are not copied: people sign in again.
    assert_eq!(dst.session_by_hash("session", t(3)).await.unwrap(), None);
}

async fn listings_by_tag_and_assignee_and_search_are_rebuilt(source: &TestDb, target: &TestDb) {
    let (src, dst) = (&source.store, &target.store);
    let filled = copied(source, target).await;
    // Derived data was rebuilt: listings by tag and assignee, and search.
    for filter in [
        all(100),
        TicketFilter {
            tag: Some("hardware".into()),
            ..all(100)
        },
        TicketFilter {
            tag: Some("urgent-ish".into()),
            ..all(100)
        },
        TicketFilter {
            assignee: AssigneeFilter::Agent(filled.agents[1].id),
            ..all(100)
        },
        TicketFilter {
            status: Some(Status::Closed),
            ..all(100)
        },
    ] {
        let listed = dst.list_tickets(&filter).await.unwrap();
        assert!(!listed.is_empty(), "{filter:?}");
        assert_eq!(
            listed,
            src.list_tickets(&filter).await.unwrap(),
            "{filter:?}"
        );
    }
    let ada = filled.customers[0].id;
    for (text, scope) in [
        ("toaster", None),
        ("toaster", Some(ada)),
        ("smokes", None),
        ("quokka", None),
        ("quokka", Some(ada)),
        ("größe", None),
    ] {
        let got = set(&search_ids(dst, text, scope).await);
        assert_eq!(
            got,
            set(&search_ids(src, text, scope).await),
            "search {text:?} {scope:?}"
        );
        let expected = if text == "quokka" && scope.is_some() {
            0
        } else if scope.is_some() {
            4
        } else {
            7
        };
        assert_eq!(got.len(), expected, "search {text:?} {scope:?}");
    }
}

async fn new_rows_on_the_target_continue_after_the_copied_ones(source: &TestDb, target: &TestDb) {
    let dst = &target.store;
    let filled = copied(source, target).await;
    let ada = filled.customers[0].id;
    // New rows on the target continue after the copied ones.
    let max_ticket = *filled.tickets.iter().max().unwrap();
    let max_number = dst
        .list_tickets(&all(100))
        .await
        .unwrap()
        .iter()
        .map(|t| t.number)
        .max()
        .unwrap();
    let max_message = dst.messages(max_ticket).await.unwrap().last().unwrap().id;
    let max_event = dst.events(max_ticket).await.unwrap().last().unwrap().id;
    let fresh = dst
        .create_ticket(new_ticket(
            ada,
            "After the copy",
            "Toaster again",
            &["hardware"],
            t(1000),
        ))
        .await
        .unwrap();
    assert!(
        fresh.id > max_ticket,
        "{:?} after {:?}",
        fresh.id,
        max_ticket
    );
    assert_eq!(fresh.number, max_number + 1);
    let (m, _) = dst
        .add_message(message(
            filled.tickets[0],
            MessageKind::Reply,
            Actor::System,
            "Still there?",
            t(1001),
        ))
        .await
        .unwrap();
    assert!(m.id > max_message);
    assert!(
        dst.events(fresh.id)
            .await
            .unwrap()
            .iter()
            .all(|e| e.id > max_event)
    );
    let customer = dst
        .upsert_customer(&email("new@example.com"), None, t(1002))
        .await
        .unwrap();
    assert!(filled.customers.iter().all(|c| customer.id > c.id));
    let agent = dst
        .create_agent(new_agent("new-agent@example.com", "New Agent", t(1003)))
        .await
        .unwrap();
    assert!(filled.agents.iter().all(|a| agent.id > a.id));
    assert!(
        search_ids(dst, "toaster", Some(ada))
            .await
            .contains(&fresh.id)
    );
    assert_eq!(
        dst.list_tickets(&TicketFilter {
            tag: Some("hardware".into()),
            ..all(100)
        })
        .await
        .unwrap()[0]
            .id,
        fresh.id
    );
}
