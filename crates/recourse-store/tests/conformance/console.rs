//! The agent console's queries on both backends: which tickets the breaching-soon and
//! flagged queues hold, capped counts, and canned replies.

use crate::usecases::UseCases;
use recourse_domain::{
    Actor, Body, Channel, CustomerId, Demeanor, EmailAddress, Experience, Millis, PersonName,
    Priority, Role, Status, Subject, TicketChange, TicketId,
};
use recourse_store::{
    AssigneeFilter, CannedReply, ConsoleQueue, NewAgent, NewCannedReply, NewTicket, StoreError,
    TicketFilter,
};

use crate::harness::{S, TestDb};

on_both! {
    the_flagged_queue_holds_abusive_and_supervised_customers_active_tickets,
    breaching_soon_holds_running_clocks_most_urgent_first,
    queue_counts_stop_at_the_cap_and_the_load_counts_active_tickets,
    a_cant_help_that_offers_nothing_waits_for_review,
    canned_replies_are_listed_by_title_replaced_unique_and_deleted,
}

const T0: i64 = 1_750_000_000_000;

async fn ticket(
    s: &S,
    customer: CustomerId,
    subject: &str,
    demeanor: Option<Demeanor>,
) -> TicketId {
    s.create_ticket(NewTicket {
        customer: customer.into(),
        subject: Subject::parse(subject).unwrap(),
        body: Body::parse("Where is my parcel?").unwrap(),
        need: None,
        priority: Priority::Normal,
        tags: vec![],
        channel: Channel::Email,
        demeanor,
        actor: Actor::Customer(customer),
        now: Millis(T0),
    })
    .await
    .unwrap()
    .id
}

async fn ids(s: &S, q: &ConsoleQueue) -> Vec<i64> {
    let mut v: Vec<i64> = s
        .console_queue(q, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id.0)
        .collect();
    v.sort();
    v
}

/// Five tickets in every state the queues tell apart: plain (given to Kim by hand),
/// abusive, a supervised customer's, waiting on the customer, and ended.
struct Queues {
    agent: recourse_domain::Agent,
    by: Actor,
    plain: TicketId,
    abusive: TicketId,
    supervised: TicketId,
    waiting: TicketId,
    ended: TicketId,
}

fn status_change(status: Status) -> TicketChange {
    TicketChange {
        status: Some(status),
        ..Default::default()
    }
}

async fn kim(s: &S) -> recourse_domain::Agent {
    s.create_agent(NewAgent {
        email: EmailAddress::parse("kim@example.com").unwrap(),
        name: PersonName::parse("Kim").unwrap(),
        role: Role::Agent,
        experience: Experience::Experienced,
        skills: vec![],
        team_id: None,
        capacity: 10,
        password_hash: "x".into(),
        now: Millis(T0),
    })
    .await
    .unwrap()
}

async fn queues(s: &S) -> Queues {
    let email = |e: &str| EmailAddress::parse(e).unwrap();
    let calm = s
        .upsert_customer(&email("calm@example.com"), Some("Calm"), Millis(T0))
        .await
        .unwrap();
    let watched = s
        .upsert_customer(&email("watched@example.com"), None, Millis(T0))
        .await
        .unwrap();
    let agent = kim(s).await;

    let plain = ticket(s, calm.id, "Plain", None).await;
    let abusive = ticket(s, calm.id, "Rude", Some(Demeanor::Abusive)).await;
    let supervised = ticket(s, watched.id, "Watched", None).await;
    let waiting = ticket(s, calm.id, "Waiting", None).await;
    let ended = ticket(s, watched.id, "Ended", Some(Demeanor::Abusive)).await;
    s.set_supervised(watched.id, true, Actor::System, Millis(T0))
        .await
        .unwrap();
    let by = Actor::Agent(agent.id);
    let change = status_change;
    s.update_ticket(waiting, change(Status::PendingCustomer), by, Millis(T0 + 1))
        .await
        .unwrap();
    s.update_ticket(ended, change(Status::Resolved), by, Millis(T0 + 1))
        .await
        .unwrap();
    s.update_ticket(
        plain,
        TicketChange {
            assignee: Some(Some(agent.id)),
            ..Default::default()
        },
        by,
        Millis(T0 + 2),
    )
    .await
    .unwrap();
    Queues {
        agent,
        by,
        plain,
        abusive,
        supervised,
        waiting,
        ended,
    }
}

async fn the_flagged_queue_holds_abusive_and_supervised_customers_active_tickets(db: &TestDb) {
    let s = &db.store;
    let Queues {
        agent: _,
        by: _,
        plain: _,
        abusive,
        supervised,
        waiting: _,
        ended: _,
    } = queues(s).await;
    // Flagged: the abusive customer's and the supervised customer's active tickets;
    // not the ended one, not the plain one.
    let mut want = vec![abusive.0, supervised.0];
    want.sort();
    assert_eq!(ids(s, &ConsoleQueue::Flagged).await, want);
    assert_eq!(
        s.count_console_queue(&ConsoleQueue::Flagged, 100)
            .await
            .unwrap(),
        2
    );
}

async fn breaching_soon_holds_running_clocks_most_urgent_first(db: &TestDb) {
    let s = &db.store;
    let Queues {
        agent: _,
        by: _,
        plain,
        abusive,
        supervised,
        waiting,
        ended,
    } = queues(s).await;
    // Breaching soon: nothing before the first warning falls due; far ahead, every
    // active ticket with a running clock, and never a paused or ended one.
    let cfg = s.desk_config().await.unwrap();
    let mut checks = Vec::new();
    for id in [plain, abusive, supervised, waiting, ended] {
        let t = s.get_ticket(id).await.unwrap();
        checks.push((id.0, t.status, t.sla.next_check(&cfg.sla)));
    }
    let earliest = checks.iter().filter_map(|c| c.2).min().unwrap();
    assert!(
        ids(
            s,
            &ConsoleQueue::BreachingSoon {
                until: Millis(earliest.0 - 1)
            }
        )
        .await
        .is_empty()
    );
    let far = ConsoleQueue::BreachingSoon {
        until: Millis(T0 + 365 * 24 * 3_600_000),
    };
    let expected: Vec<i64> = checks
        .iter()
        .filter(|c| c.2.is_some())
        .map(|c| c.0)
        .collect();
    assert!(!expected.contains(&waiting.0) && !expected.contains(&ended.0));
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(ids(s, &far).await, sorted);
    // Most urgent first.
    let order: Vec<i64> = s
        .console_queue(&far, 100)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id.0)
        .collect();
    let mut by_due = checks.iter().filter(|c| c.2.is_some()).collect::<Vec<_>>();
    by_due.sort_by_key(|c| (c.2, c.0));
    assert_eq!(order, by_due.iter().map(|c| c.0).collect::<Vec<_>>());
}

async fn queue_counts_stop_at_the_cap_and_the_load_counts_active_tickets(db: &TestDb) {
    let s = &db.store;
    let Queues {
        agent,
        by,
        plain,
        abusive,
        supervised,
        waiting,
        ended,
    } = queues(s).await;
    let change = status_change;
    // Counts stop at the cap; the load counts only active tickets.
    let all = ConsoleQueue::Filter(TicketFilter {
        limit: 1,
        ..Default::default()
    });
    assert_eq!(s.count_console_queue(&all, 100).await.unwrap(), 5);
    assert_eq!(s.count_console_queue(&all, 3).await.unwrap(), 3);
    // Routing may have handed Kim more than the one given by hand: count from the rows.
    let mut held = Vec::new();
    for id in [plain, abusive, supervised, waiting, ended] {
        let t = s.get_ticket(id).await.unwrap();
        if t.assignee_id == Some(agent.id) {
            held.push(t.status);
        }
    }
    assert!(!held.is_empty());
    let mine = ConsoleQueue::Filter(TicketFilter {
        assignee: AssigneeFilter::Agent(agent.id),
        ..Default::default()
    });
    assert_eq!(
        s.count_console_queue(&mine, 100).await.unwrap(),
        held.len() as i64
    );
    let active = held.iter().filter(|s| s.is_active()).count() as i64;
    let load = ConsoleQueue::ActiveLoad(agent.id);
    assert_eq!(s.count_console_queue(&load, 100).await.unwrap(), active);
    s.update_ticket(plain, change(Status::Resolved), by, Millis(T0 + 3))
        .await
        .unwrap();
    assert_eq!(s.count_console_queue(&load, 100).await.unwrap(), active - 1);
}

async fn a_cant_help_that_offers_nothing_waits_for_review(db: &TestDb) {
    let s = &db.store;
    let Queues {
        agent: _,
        by,
        plain: _,
        abusive: _,
        supervised,
        waiting: _,
        ended: _,
    } = queues(s).await;
    // The managers' queues: nothing passed around; a can't-help that offers nothing
    // waits for review.
    assert!(ids(s, &ConsoleQueue::PassedAround).await.is_empty());
    assert!(ids(s, &ConsoleQueue::ReviewPending).await.is_empty());
    let draft = recourse_domain::recovery::CantHelpDraft {
        reason: recourse_domain::CantHelpReason::CompanyPolicy,
        explanation: "We do not ship there.".into(),
        partial_solution: None,
        no_partial_justification: Some("No courier serves the island.".into()),
        third_party: None,
        handoff_summary: None,
    };
    s.cant_help(recourse_store::CantHelpRequest {
        ticket_id: supervised,
        cant_help: recourse_domain::recovery::check_cant_help(&draft).unwrap(),
        channel: Channel::Console,
        actor: by,
        now: Millis(T0 + 4),
    })
    .await
    .unwrap();
    assert_eq!(
        ids(s, &ConsoleQueue::ReviewPending).await,
        vec![supervised.0]
    );
    assert_eq!(
        s.count_console_queue(&ConsoleQueue::ReviewPending, 10)
            .await
            .unwrap(),
        1
    );
}

async fn canned_replies_are_listed_by_title_replaced_unique_and_deleted(db: &TestDb) {
    let s = &db.store;
    let agent = kim(s).await;
    // Canned replies: created, listed by title, replaced, titles unique, deleted.
    let new = |title: &str, body: &str| NewCannedReply {
        title: title.into(),
        body: body.into(),
        author: Some(agent.id),
    };
    let b = s
        .save_canned_reply(
            None,
            new("B late parcel", "Hi {{customer_name}}"),
            Millis(T0),
        )
        .await
        .unwrap();
    let a = s
        .save_canned_reply(
            None,
            new("A refund", "Refund for #{{ticket_number}}"),
            Millis(T0),
        )
        .await
        .unwrap();
    assert_eq!(a.created_by, Some(agent.id));
    let titles = |v: Vec<CannedReply>| v.into_iter().map(|c| c.title).collect::<Vec<_>>();
    assert_eq!(
        titles(s.canned_replies().await.unwrap()),
        ["A refund", "B late parcel"]
    );
    assert!(matches!(
        s.save_canned_reply(None, new("A refund", "again"), Millis(T0))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let b2 = s
        .save_canned_reply(Some(b.id), new("B late parcel", "Changed"), Millis(T0 + 5))
        .await
        .unwrap();
    assert_eq!(
        (b2.body.as_str(), b2.updated_at),
        ("Changed", Millis(T0 + 5))
    );
    assert_eq!(b2.created_at, Millis(T0));
    assert_eq!(s.canned_reply(b.id).await.unwrap(), b2);
    s.delete_canned_reply(b.id).await.unwrap();
    assert!(matches!(
        s.delete_canned_reply(b.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.save_canned_reply(Some(b.id), new("x", "y"), Millis(T0))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(titles(s.canned_replies().await.unwrap()), ["A refund"]);
}
