//! The agent console's queries on both backends: which tickets the breaching-soon and
//! flagged queues hold, capped counts, and canned replies.

#[path = "support/usecases.rs"]
mod usecases;
use usecases::UseCases;

use std::sync::Arc;

use recourse_domain::{
    Actor, Body, Channel, CustomerId, Demeanor, EmailAddress, Experience, Millis, PersonName,
    Priority, Role, Status, Subject, TicketChange, TicketId,
};
use recourse_store::{
    AssigneeFilter, CannedReply, ConsoleQueue, NewAgent, NewCannedReply, NewTicket, Store,
    StoreError, TicketFilter,
};

fn unique() -> String {
    format!("{}_{:016x}", std::process::id(), rand::random::<u64>())
}

async fn sqlite() -> (Arc<Store>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("recourse-console-{}", unique()));
    let store = recourse_store::open(&format!("sqlite://{}", dir.join("c.db").display()))
        .await
        .unwrap();
    (store, dir)
}

async fn postgres() -> Option<Arc<Store>> {
    let Ok(url) = std::env::var("RECOURSE_TEST_PG_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set RECOURSE_TEST_PG_URL"
        );
        return None;
    };
    use sqlx::Connection;
    let name = format!("recourse_console_{}", unique());
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (prefix, _) = url.rsplit_once('/').unwrap();
    Some(
        recourse_store::open(&format!("{prefix}/{name}"))
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn console_sqlite() {
    let (store, dir) = sqlite().await;
    story(store).await;
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn console_postgres() {
    if let Some(store) = postgres().await {
        story(store).await;
    }
}

const T0: i64 = 1_750_000_000_000;

async fn ticket(
    s: &Arc<Store>,
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

async fn ids(s: &Arc<Store>, q: &ConsoleQueue) -> Vec<i64> {
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

async fn story(s: Arc<Store>) {
    let email = |e: &str| EmailAddress::parse(e).unwrap();
    let calm = s
        .upsert_customer(&email("calm@example.com"), Some("Calm"), Millis(T0))
        .await
        .unwrap();
    let watched = s
        .upsert_customer(&email("watched@example.com"), None, Millis(T0))
        .await
        .unwrap();
    let agent = s
        .create_agent(NewAgent {
            email: email("kim@example.com"),
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
        .unwrap();

    let plain = ticket(&s, calm.id, "Plain", None).await;
    let abusive = ticket(&s, calm.id, "Rude", Some(Demeanor::Abusive)).await;
    let supervised = ticket(&s, watched.id, "Watched", None).await;
    let waiting = ticket(&s, calm.id, "Waiting", None).await;
    let ended = ticket(&s, watched.id, "Ended", Some(Demeanor::Abusive)).await;
    s.set_supervised(watched.id, true, Actor::System, Millis(T0))
        .await
        .unwrap();
    let by = Actor::Agent(agent.id);
    let change = |status| TicketChange {
        status: Some(status),
        ..Default::default()
    };
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

    // Flagged: the abusive customer's and the supervised customer's active tickets;
    // not the ended one, not the plain one.
    let mut want = vec![abusive.0, supervised.0];
    want.sort();
    assert_eq!(ids(&s, &ConsoleQueue::Flagged).await, want);
    assert_eq!(
        s.count_console_queue(&ConsoleQueue::Flagged, 100)
            .await
            .unwrap(),
        2
    );

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
            &s,
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
    assert_eq!(ids(&s, &far).await, sorted);
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

    // The managers' queues: nothing passed around; a can't-help that offers nothing
    // waits for review.
    assert!(ids(&s, &ConsoleQueue::PassedAround).await.is_empty());
    assert!(ids(&s, &ConsoleQueue::ReviewPending).await.is_empty());
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
        ids(&s, &ConsoleQueue::ReviewPending).await,
        vec![supervised.0]
    );
    assert_eq!(
        s.count_console_queue(&ConsoleQueue::ReviewPending, 10)
            .await
            .unwrap(),
        1
    );

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
