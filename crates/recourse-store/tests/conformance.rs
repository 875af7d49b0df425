//! Store conformance suite: every story runs against both backends of [`Store`].
//!
//! SQLite always runs (a fresh file in a temporary directory per test). PostgreSQL runs
//! when `RECOURSE_TEST_PG_URL` names a server we may create databases on; each test gets
//! its own `recourse_test_<unique>` database, dropped again when the story passes. Without
//! the variable the PostgreSQL tests are skipped locally and fail under CI (`CI` set).

#[path = "support/usecases.rs"]
mod usecases;
use usecases::UseCases;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use recourse_domain::{
    Actor, AgentId, Body, ChangeError, Channel, Customer, CustomerId, Demeanor, EmailAddress,
    EscalationReason, EventKind, Experience, InterventionKind, InterventionResult, LadderError,
    MessageKind, Millis, Need, Outcome, PersonName, Priority, Role, Status, Subject, Tag, TicketId,
    TransitionError,
};
use recourse_domain::{Agent, Ticket};
use recourse_store::table::{Cell, Row, TABLES};
use recourse_store::{
    AssigneeFilter, Backend, NewAgent, NewApiToken, NewIntervention, NewMessage, NewSession,
    NewTicket, Principal, SearchQuery, Session, Store, StoreError, TicketChange, TicketFilter,
    TicketFor,
};
use recourse_store::{Descent, EscalationRequest};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// Where a test database lives, so a story can reach it without going through the store.
enum Location {
    Sqlite {
        dir: PathBuf,
        file: PathBuf,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

/// One fresh, migrated database behind the [`Store`] trait, plus raw access to it.
struct TestDb {
    store: Arc<Store>,
    location: Location,
}

fn unique_suffix() -> String {
    format!("{}_{:016x}", std::process::id(), rand::random::<u64>())
}

/// `url` with its database name replaced by `db` (query string kept).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// The PostgreSQL server to test against, or `None` (after saying so) when there is none.
fn pg_admin_url() -> Option<String> {
    match std::env::var("RECOURSE_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "RECOURSE_TEST_PG_URL is not set, but CI must always test PostgreSQL (see .ci/pg.sh)"
                );
            }
            eprintln!(
                "RECOURSE_TEST_PG_URL is not set: skipping PostgreSQL (set it to e.g. postgres://postgres@127.0.0.1:55432/postgres)"
            );
            None
        }
    }
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("recourse-conformance-{}", unique_suffix()));
        let file = dir.join("recourse.db");
        let store = Store::sqlite(&file).await.expect("open SQLite store");
        assert_eq!(store.backend(), Backend::Sqlite);
        TestDb {
            store: Arc::new(store),
            location: Location::Sqlite { dir, file },
        }
    }

    /// `None` when PostgreSQL is not configured (and we are not under CI).
    async fn postgres() -> Option<TestDb> {
        let admin_url = pg_admin_url()?;
        let name = format!("recourse_test_{}", unique_suffix());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to RECOURSE_TEST_PG_URL");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.ok();
        eprintln!("PostgreSQL test database: {name}");
        let url = with_database(&admin_url, &name);
        let store = Store::postgres(&url).await.expect("open PostgreSQL store");
        assert_eq!(store.backend(), Backend::Postgres);
        Some(TestDb {
            store: Arc::new(store),
            location: Location::Postgres {
                admin_url,
                name,
                url,
            },
        })
    }

    /// Removes the database. Only called once a story passed, so a failing story's
    /// database stays behind for inspection (its name is in the test output).
    async fn cleanup(self) {
        let TestDb { store, location } = self;
        drop(store);
        match location {
            Location::Sqlite { dir, .. } => {
                std::fs::remove_dir_all(&dir).ok();
            }
            Location::Postgres {
                admin_url, name, ..
            } => {
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to RECOURSE_TEST_PG_URL");
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .expect("drop test database");
                admin.close().await.ok();
            }
        }
    }

    /// Runs SQL on a connection of our own (not the store's), returning rows affected.
    async fn raw_execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let sql = AssertSqlSafe(sql.to_owned());
        match &self.location {
            Location::Sqlite { file, .. } => {
                let options = SqliteConnectOptions::new()
                    .filename(file)
                    .busy_timeout(Duration::from_secs(10));
                let mut conn = SqliteConnection::connect_with(&options).await?;
                let done = sqlx::raw_sql(sql).execute(&mut conn).await;
                conn.close().await?;
                Ok(done?.rows_affected())
            }
            Location::Postgres { url, .. } => {
                let mut conn = PgConnection::connect(url).await?;
                let done = sqlx::raw_sql(sql).execute(&mut conn).await;
                conn.close().await?;
                Ok(done?.rows_affected())
            }
        }
    }
}

/// Each story is an `async fn(&TestDb)`; this makes one test per backend out of it.
macro_rules! conformance {
    ($($story:ident => $sqlite:ident, $postgres:ident;)+) => {$(
        #[tokio::test]
        async fn $sqlite() {
            let db = TestDb::sqlite().await;
            $story(&db).await;
            db.cleanup().await;
        }

        #[tokio::test]
        async fn $postgres() {
            let Some(db) = TestDb::postgres().await else { return };
            $story(&db).await;
            db.cleanup().await;
        }
    )+};
}

conformance! {
    story_ticket_lifecycle => ticket_lifecycle_sqlite, ticket_lifecycle_postgres;
    story_rules => rules_sqlite, rules_postgres;
    story_listing => listing_sqlite, listing_postgres;
    story_search => search_sqlite, search_postgres;
    story_credentials => credentials_sqlite, credentials_postgres;
    story_events_append_only => events_append_only_sqlite, events_append_only_postgres;
    story_concurrent_writers => concurrent_writers_sqlite, concurrent_writers_postgres;
    story_ladder => ladder_sqlite, ladder_postgres;
    story_sla => sla_sqlite, sla_postgres;
    story_concurrent_sweepers => concurrent_sweepers_sqlite, concurrent_sweepers_postgres;
    story_webhook_outbox => webhook_outbox_sqlite, webhook_outbox_postgres;
    story_recovery => recovery_sqlite, recovery_postgres;
    story_report => report_sqlite, report_postgres;
    story_mail => mail_sqlite, mail_postgres;
    story_bulk_seed => bulk_seed_sqlite, bulk_seed_postgres;
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A fixed clock: `t(n)` is `n` seconds after an arbitrary start.
fn t(n: i64) -> Millis {
    Millis(1_750_000_000_000 + n * 1000)
}

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn body(s: &str) -> Body {
    Body::parse(s).unwrap()
}

fn tags(items: &[&str]) -> Vec<Tag> {
    Tag::parse_all(items).unwrap()
}

async fn customer(store: &Arc<Store>, address: &str) -> Customer {
    store
        .upsert_customer(&email(address), None, t(0))
        .await
        .unwrap()
}

fn new_agent(address: &str, name: &str, now: Millis) -> NewAgent {
    NewAgent {
        email: email(address),
        name: PersonName::parse(name).unwrap(),
        role: Role::Agent,
        experience: Experience::Experienced,
        skills: tags(&["billing"]),
        team_id: None,
        capacity: 20,
        password_hash: format!("$argon2id$hash-of-{address}"),
        now,
    }
}

async fn agent(store: &Arc<Store>, address: &str, name: &str) -> Agent {
    store
        .create_agent(new_agent(address, name, t(0)))
        .await
        .unwrap()
}

fn new_ticket(
    customer: CustomerId,
    subject: &str,
    text: &str,
    tag_list: &[&str],
    now: Millis,
) -> NewTicket {
    NewTicket {
        customer: customer.into(),
        subject: Subject::parse(subject).unwrap(),
        body: body(text),
        need: None,
        priority: Priority::Normal,
        tags: tags(tag_list),
        channel: Channel::Portal,
        demeanor: None,
        actor: Actor::Customer(customer),
        now,
    }
}

async fn ticket(
    store: &Arc<Store>,
    customer: CustomerId,
    subject: &str,
    text: &str,
    now: Millis,
) -> Ticket {
    store
        .create_ticket(new_ticket(customer, subject, text, &[], now))
        .await
        .unwrap()
}

fn message(
    ticket: TicketId,
    kind: MessageKind,
    author: Actor,
    text: &str,
    now: Millis,
) -> NewMessage {
    NewMessage {
        ticket_id: ticket,
        kind,
        channel: Channel::Console,
        author,
        body: body(text),
        status: None,
        demeanor: None,
        now,
    }
}

fn change() -> TicketChange {
    TicketChange::default()
}

fn all(limit: i64) -> TicketFilter {
    TicketFilter {
        limit,
        ..TicketFilter::default()
    }
}

fn search_for(text: &str, customer: Option<CustomerId>) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        customer,
        filter: all(100),
    }
}

async fn search_ids(store: &Arc<Store>, text: &str, customer: Option<CustomerId>) -> Vec<TicketId> {
    let hits = store
        .search(&search_for(text, customer))
        .await
        .unwrap_or_else(|e| panic!("search {text:?}: {e}"));
    for pair in hits.windows(2) {
        assert!(
            pair[0].score >= pair[1].score,
            "hits for {text:?} are not best first: {} then {}",
            pair[0].score,
            pair[1].score
        );
    }
    hits.into_iter().map(|h| h.ticket.id).collect()
}

fn set(ids: &[TicketId]) -> BTreeSet<TicketId> {
    ids.iter().copied().collect()
}

fn event_names(events: &[recourse_domain::Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.name()).collect()
}

// ---------------------------------------------------------------------------------------
// 1. Ticket lifecycle
// ---------------------------------------------------------------------------------------

async fn story_ticket_lifecycle(db: &TestDb) {
    let s = &db.store;
    s.ping().await.unwrap();

    // Customers are found by email; a later name fills a missing one, never overwrites.
    let first = s
        .upsert_customer(&email("Ada@Example.COM"), None, t(0))
        .await
        .unwrap();
    assert_eq!(first.email.as_str(), "ada@example.com");
    assert_eq!(first.name, None);
    let again = s
        .upsert_customer(&email("ada@example.com"), None, t(1))
        .await
        .unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(again.name, None);
    let named = s
        .upsert_customer(&email("ada@example.com"), Some("Ada Lovelace"), t(2))
        .await
        .unwrap();
    assert_eq!(named.id, first.id);
    assert_eq!(named.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(named.created_at, t(0), "upsert must not move created_at");
    let renamed = s
        .upsert_customer(&email("ada@example.com"), Some("Somebody Else"), t(3))
        .await
        .unwrap();
    assert_eq!(renamed.id, first.id);
    assert_eq!(renamed.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(s.get_customer(first.id).await.unwrap(), renamed);
    assert_eq!(
        s.customer_by_email(&email("ADA@example.com"))
            .await
            .unwrap(),
        Some(renamed.clone())
    );
    assert_eq!(
        s.customer_by_email(&email("nobody@example.com"))
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        s.get_customer(CustomerId(first.id.0 + 1000)).await,
        Err(StoreError::NotFound("customer"))
    ));
    let other = s
        .upsert_customer(&email("bob@example.com"), Some("Bob"), t(3))
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(other.name.as_deref(), Some("Bob"));
    let ada = renamed;

    let grace = agent(s, "grace@example.com", "Grace Hopper").await;

    // A new ticket: status new, a customer-facing number from 1001, frontline, clean tags.
    let mut new = new_ticket(
        ada.id,
        "  Kettle\r\n arrived   broken ",
        "The spout came off.\n\nPhotos attached.",
        &["Billing", "billing", " Late-Delivery "],
        t(10),
    );
    new.need = Need::parse("a kettle that pours").unwrap();
    let created = s.create_ticket(new).await.unwrap();
    assert_eq!(created.status, Status::New);
    assert!(
        created.number >= 1001,
        "ticket numbers start at 1001, got {}",
        created.number
    );
    assert_eq!(created.rung, "frontline");
    assert_eq!(created.subject, "Kettle arrived broken");
    assert_eq!(
        created.tags,
        vec!["billing".to_owned(), "late-delivery".to_owned()]
    );
    assert_eq!(created.need.as_deref(), Some("a kettle that pours"));
    assert_eq!(created.priority, Priority::Normal);
    assert_eq!(created.customer_id, ada.id);
    // Routed on arrival to the one agent present on the first rung.
    assert_eq!(
        (created.assignee_id, created.team_id, created.outcome),
        (Some(grace.id), None, None)
    );
    assert_eq!((created.created_at, created.updated_at), (t(10), t(10)));
    assert_eq!(s.get_ticket(created.id).await.unwrap(), created);
    assert!(matches!(
        s.get_ticket(TicketId(created.id.0 + 1000)).await,
        Err(StoreError::NotFound("ticket"))
    ));

    let second = ticket(s, other.id, "Second ticket", "Hello", t(11)).await;
    assert!(second.number > created.number && second.id.0 > created.id.0);

    // A ticket for an address finds or adds the customer in its own transaction, by
    // the same rules: a known customer keeps their name, a new one gets the given one.
    let by_address = |address: &str, name: Option<&str>| {
        let mut new = new_ticket(ada.id, "By address", "Hello", &[], t(12));
        new.customer = TicketFor::Address {
            email: email(address),
            name: name.map(|n| PersonName::parse(n).unwrap()),
        };
        new
    };
    let known = s
        .create_ticket(by_address("ADA@example.com", Some("Not Ada")))
        .await
        .unwrap();
    assert_eq!(known.customer_id, ada.id);
    assert_eq!(s.get_customer(ada.id).await.unwrap(), ada);
    let fresh = s
        .create_ticket(by_address("carol@example.com", Some("Carol")))
        .await
        .unwrap();
    let carol = s
        .customer_by_email(&email("carol@example.com"))
        .await
        .unwrap()
        .expect("added with the ticket");
    assert_eq!(
        (fresh.customer_id, carol.name.as_deref(), carol.created_at),
        (carol.id, Some("Carol"), t(12))
    );
    // A supervised customer's ticket, opened by address, starts on the top rung.
    s.set_supervised(carol.id, true, Actor::Agent(grace.id), t(12))
        .await
        .unwrap();
    let supervised = s
        .create_ticket(by_address("carol@example.com", None))
        .await
        .unwrap();
    assert_eq!(
        (supervised.customer_id, supervised.rung.as_str()),
        (carol.id, "manager")
    );

    let id = created.id;
    let customer = Actor::Customer(ada.id);
    let by_grace = Actor::Agent(grace.id);

    // An agent's reply opens a new ticket; a note changes nothing.
    let (reply, after_reply) = s
        .add_message(message(
            id,
            MessageKind::Reply,
            by_grace,
            "Sorry! A new one is on its way.",
            t(20),
        ))
        .await
        .unwrap();
    assert_eq!(after_reply.status, Status::Open);
    assert_eq!(after_reply.updated_at, t(20));
    assert_eq!(reply.kind, MessageKind::Reply);
    assert_eq!(reply.author, by_grace);
    let (note, after_note) = s
        .add_message(message(
            id,
            MessageKind::Note,
            by_grace,
            "Courier damaged two this week.",
            t(30),
        ))
        .await
        .unwrap();
    assert_eq!(after_note.status, Status::Open);
    assert_eq!(after_note.updated_at, t(30));

    // A reply can set a status explicitly; the customer writing back reopens the ticket.
    let mut waiting = message(id, MessageKind::Reply, by_grace, "Did it arrive?", t(40));
    waiting.status = Some(Status::PendingCustomer);
    let (ask, after_ask) = s.add_message(waiting).await.unwrap();
    assert_eq!(after_ask.status, Status::PendingCustomer);
    let (answer, after_answer) = s
        .add_message(message(
            id,
            MessageKind::Inbound,
            customer,
            "Not yet.",
            t(50),
        ))
        .await
        .unwrap();
    assert_eq!(after_answer.status, Status::Open);
    assert_eq!(s.get_ticket(id).await.unwrap(), after_answer);

    let intervention = s
        .add_intervention(NewIntervention {
            ticket_id: id,
            kind: InterventionKind::Replacement,
            description: body("Sent a replacement kettle by express."),
            result: InterventionResult::Accepted,
            agent_id: Some(grace.id),
            now: t(60),
        })
        .await
        .unwrap();
    assert_eq!(intervention.ticket_id, id);
    assert_eq!(intervention.kind, InterventionKind::Replacement);
    assert_eq!(
        intervention.description,
        "Sent a replacement kettle by express."
    );
    assert_eq!(
        s.interventions(id).await.unwrap(),
        vec![intervention.clone()]
    );
    assert!(s.interventions(second.id).await.unwrap().is_empty());
    assert_eq!(s.get_ticket(id).await.unwrap().updated_at, t(60));

    let messages = s.messages(id).await.unwrap();
    assert_eq!(messages.len(), 5);
    let opening = &messages[0];
    assert_eq!(
        (opening.kind, opening.author, opening.channel),
        (MessageKind::Inbound, customer, Channel::Portal)
    );
    assert_eq!(opening.body, "The spout came off.\n\nPhotos attached.");
    assert_eq!(opening.created_at, t(10));
    assert_eq!(
        &messages[1..],
        &[reply.clone(), note.clone(), ask.clone(), answer.clone()]
    );
    assert!(messages.windows(2).all(|w| w[0].id.0 < w[1].id.0));
    assert_eq!(s.messages(second.id).await.unwrap().len(), 1);

    let events = s.events(id).await.unwrap();
    let expected = vec![
        (
            customer,
            t(10),
            EventKind::TicketCreated {
                subject: "Kettle arrived broken".into(),
                priority: Priority::Normal,
                rung: "frontline".into(),
            },
        ),
        (
            customer,
            t(10),
            EventKind::MessageAdded {
                message_id: opening.id,
                kind: MessageKind::Inbound,
            },
        ),
        (
            Actor::System,
            t(10),
            EventKind::AssigneeChanged {
                from: None,
                to: Some(grace.id),
            },
        ),
        (
            by_grace,
            t(20),
            EventKind::MessageAdded {
                message_id: reply.id,
                kind: MessageKind::Reply,
            },
        ),
        (
            by_grace,
            t(20),
            EventKind::StatusChanged {
                from: Status::New,
                to: Status::Open,
            },
        ),
        (
            by_grace,
            t(30),
            EventKind::MessageAdded {
                message_id: note.id,
                kind: MessageKind::Note,
            },
        ),
        (
            by_grace,
            t(40),
            EventKind::MessageAdded {
                message_id: ask.id,
                kind: MessageKind::Reply,
            },
        ),
        (
            by_grace,
            t(40),
            EventKind::StatusChanged {
                from: Status::Open,
                to: Status::PendingCustomer,
            },
        ),
        (
            customer,
            t(50),
            EventKind::MessageAdded {
                message_id: answer.id,
                kind: MessageKind::Inbound,
            },
        ),
        (
            customer,
            t(50),
            EventKind::StatusChanged {
                from: Status::PendingCustomer,
                to: Status::Open,
            },
        ),
        (
            by_grace,
            t(60),
            EventKind::InterventionRecorded {
                intervention_id: intervention.id,
                kind: InterventionKind::Replacement,
                result: InterventionResult::Accepted,
            },
        ),
    ];
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.actor, e.at, e.kind.clone()))
        .collect();
    assert_eq!(got, expected);
    assert!(events.iter().all(|e| e.ticket_id == Some(id)));
    assert!(events.windows(2).all(|w| w[0].id.0 < w[1].id.0));
    assert_eq!(
        event_names(&s.events(second.id).await.unwrap()),
        ["ticket_created", "message_added", "assignee_changed"]
    );

    // Editing: each field that really changes is one event, in a fixed order. Grace was
    // routed the ticket on arrival, so assigning her again records nothing.
    let edit = TicketChange {
        priority: Some(Priority::High),
        need: Some(Need::parse("a working kettle before Friday").unwrap()),
        tags: Some(tags(&["Refund", "billing"])),
        assignee: Some(Some(grace.id)),
        ..change()
    };
    let edited = s
        .update_ticket(id, edit.clone(), by_grace, t(70))
        .await
        .unwrap();
    assert_eq!(edited.priority, Priority::High);
    assert_eq!(
        edited.need.as_deref(),
        Some("a working kettle before Friday")
    );
    assert_eq!(edited.tags, vec!["refund".to_owned(), "billing".to_owned()]);
    assert_eq!(edited.assignee_id, Some(grace.id));
    assert_eq!(edited.updated_at, t(70));
    assert_eq!(edited.status, Status::Open);
    assert_eq!(s.get_ticket(id).await.unwrap(), edited);
    let events = s.events(id).await.unwrap();
    let new_events: Vec<_> = events[expected.len()..]
        .iter()
        .map(|e| (e.actor, e.at, e.kind.clone()))
        .collect();
    assert_eq!(
        new_events,
        vec![
            (
                by_grace,
                t(70),
                EventKind::PriorityChanged {
                    from: Priority::Normal,
                    to: Priority::High
                }
            ),
            (
                by_grace,
                t(70),
                EventKind::NeedChanged {
                    need: Some("a working kettle before Friday".into())
                }
            ),
            (
                by_grace,
                t(70),
                EventKind::TagsChanged {
                    added: vec!["refund".into()],
                    removed: vec!["late-delivery".into()]
                }
            ),
        ]
    );
    // The tag index follows the ticket.
    let tagged = |tag: &str| TicketFilter {
        tag: Some(tag.into()),
        ..all(10)
    };
    assert_eq!(
        s.list_tickets(&tagged("refund")).await.unwrap(),
        vec![edited.clone()]
    );
    assert!(
        s.list_tickets(&tagged("late-delivery"))
            .await
            .unwrap()
            .is_empty()
    );

    // The same request again changes nothing and records nothing.
    let replayed = s.update_ticket(id, edit, by_grace, t(80)).await.unwrap();
    assert_eq!(replayed, edited);
    assert_eq!(s.get_ticket(id).await.unwrap(), edited);
    assert_eq!(s.events(id).await.unwrap(), events);

    // Clearing: unassign and forget the need.
    let cleared = s
        .update_ticket(
            id,
            TicketChange {
                assignee: Some(None),
                need: Some(None),
                ..change()
            },
            by_grace,
            t(90),
        )
        .await
        .unwrap();
    assert_eq!((cleared.assignee_id, cleared.need.as_deref()), (None, None));
    let events = s.events(id).await.unwrap();
    assert_eq!(
        event_names(&events[events.len() - 2..]),
        ["need_changed", "assignee_changed"]
    );
    assert_eq!(
        events.last().unwrap().kind,
        EventKind::AssigneeChanged {
            from: Some(grace.id),
            to: None
        }
    );

    // Resolving sets the outcome; the customer writing again reopens and clears it.
    let resolved = s
        .update_ticket(
            id,
            TicketChange {
                status: Some(Status::Resolved),
                ..change()
            },
            by_grace,
            t(100),
        )
        .await
        .unwrap();
    assert_eq!(
        (resolved.status, resolved.outcome),
        (Status::Resolved, Some(Outcome::Resolved))
    );
    let (_, reopened) = s
        .add_message(message(
            id,
            MessageKind::Inbound,
            customer,
            "It broke again.",
            t(110),
        ))
        .await
        .unwrap();
    assert_eq!((reopened.status, reopened.outcome), (Status::Open, None));
    let events = s.events(id).await.unwrap();
    assert_eq!(
        event_names(&events[events.len() - 5..]),
        [
            "status_changed",
            "outcome_set",
            "message_added",
            "status_changed",
            "outcome_set"
        ]
    );
    assert_eq!(
        events.last().unwrap().kind,
        EventKind::OutcomeSet { outcome: None }
    );
}

// ---------------------------------------------------------------------------------------
// 2. Rules the store enforces
// ---------------------------------------------------------------------------------------

async fn story_rules(db: &TestDb) {
    let s = &db.store;
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

    // A closed ticket is history: no messages, interventions or changes.
    let is_closed = |r: Result<_, StoreError>| {
        matches!(
            r,
            Err(StoreError::Rule(ChangeError::Transition(
                TransitionError::Closed
            )))
        )
    };
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

// ---------------------------------------------------------------------------------------
// 3. Listing, filters and the cursor
// ---------------------------------------------------------------------------------------

async fn story_listing(db: &TestDb) {
    let s = &db.store;
    let customers = [
        customer(s, "a@example.com").await,
        customer(s, "b@example.com").await,
        customer(s, "c@example.com").await,
    ];
    let agents = [
        agent(s, "x@example.com", "Xavier").await,
        agent(s, "y@example.com", "Yolanda").await,
    ];
    // Away, so arrivals are not routed: this story assigns by hand.
    for a in &agents {
        s.set_presence(a.id, false, Actor::System, t(0))
            .await
            .unwrap();
    }
    let statuses = [
        Status::New,
        Status::Open,
        Status::PendingCustomer,
        Status::Resolved,
        Status::Closed,
    ];

    let mut ids = Vec::new();
    for i in 0..25i64 {
        let now = t(i * 10);
        let mut tag_list = Vec::new();
        if i % 2 == 0 {
            tag_list.push("even");
        }
        if i % 7 == 0 {
            tag_list.push("seventh");
        }
        let c = &customers[(i % 3) as usize];
        let new = new_ticket(
            c.id,
            &format!("Ticket {i}"),
            &format!("Body of ticket {i}"),
            &tag_list,
            now,
        );
        let tk = s.create_ticket(new).await.unwrap();
        if i % 6 == 5 {
            // Placed on a rung directly: this story is about listing, not escalating.
            db.raw_execute(&format!(
                "UPDATE tickets SET rung = 'experienced' WHERE id = {}",
                tk.id.0
            ))
            .await
            .unwrap();
        }
        let who = Actor::Agent(agents[0].id);
        match (i / 2) % 3 {
            0 => s
                .update_ticket(
                    tk.id,
                    TicketChange {
                        assignee: Some(Some(agents[0].id)),
                        ..change()
                    },
                    who,
                    now,
                )
                .await
                .unwrap(),
            1 => s
                .update_ticket(
                    tk.id,
                    TicketChange {
                        assignee: Some(Some(agents[1].id)),
                        ..change()
                    },
                    who,
                    now,
                )
                .await
                .unwrap(),
            _ => tk.clone(),
        };
        match statuses[(i % 5) as usize] {
            Status::New => {}
            Status::Open => {
                s.add_message(message(tk.id, MessageKind::Reply, who, "On it", now))
                    .await
                    .unwrap();
            }
            Status::PendingCustomer => {
                let mut m = message(tk.id, MessageKind::Reply, who, "Can you send a photo?", now);
                m.status = Some(Status::PendingCustomer);
                s.add_message(m).await.unwrap();
            }
            Status::Resolved => {
                s.update_ticket(
                    tk.id,
                    TicketChange {
                        status: Some(Status::Resolved),
                        ..change()
                    },
                    who,
                    now,
                )
                .await
                .unwrap();
            }
            Status::Closed => {
                let close = TicketChange {
                    status: Some(Status::Closed),
                    outcome: Some(Outcome::Explained),
                    ..change()
                };
                s.update_ticket(tk.id, close, who, now).await.unwrap();
            }
        }
        ids.push(tk.id);
    }
    assert!(
        ids.windows(2).all(|w| w[0].0 < w[1].0),
        "ids grow with creation"
    );

    let mut tickets = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let tk = s.get_ticket(*id).await.unwrap();
        assert_eq!(tk.status, statuses[i % 5], "ticket {i}");
        tickets.push(tk);
    }
    tickets.reverse(); // newest first, as listings come back

    // Every filter returns exactly the matching tickets, newest first.
    let check = |filter: TicketFilter, keep: Box<dyn Fn(&Ticket) -> bool>, expect_some: bool| {
        let store = s.clone();
        let expected: Vec<Ticket> = tickets.iter().filter(|t| keep(t)).cloned().collect();
        async move {
            assert_eq!(
                expected.is_empty(),
                !expect_some,
                "test data for {filter:?}"
            );
            let got = store.list_tickets(&filter).await.unwrap();
            assert_eq!(got, expected, "{filter:?}");
        }
    };
    let f = || all(100);
    check(f(), Box::new(|_| true), true).await;
    for status in Status::ALL {
        let n = tickets.iter().filter(|t| t.status == *status).count();
        assert_eq!(n, 5, "five tickets in {status}");
        let st = *status;
        check(
            TicketFilter {
                status: Some(st),
                ..f()
            },
            Box::new(move |t| t.status == st),
            true,
        )
        .await;
    }
    check(
        TicketFilter {
            rung: Some("experienced".into()),
            ..f()
        },
        Box::new(|t| t.rung == "experienced"),
        true,
    )
    .await;
    check(
        TicketFilter {
            rung: Some("frontline".into()),
            ..f()
        },
        Box::new(|t| t.rung == "frontline"),
        true,
    )
    .await;
    check(
        TicketFilter {
            rung: Some("manager".into()),
            ..f()
        },
        Box::new(|_| false),
        false,
    )
    .await;
    for tag in ["even", "seventh"] {
        check(
            TicketFilter {
                tag: Some(tag.into()),
                ..f()
            },
            Box::new(move |t| t.tags.iter().any(|x| x == tag)),
            true,
        )
        .await;
    }
    check(
        TicketFilter {
            tag: Some("nonexistent".into()),
            ..f()
        },
        Box::new(|_| false),
        false,
    )
    .await;
    for a in &agents {
        let id = a.id;
        check(
            TicketFilter {
                assignee: AssigneeFilter::Agent(id),
                ..f()
            },
            Box::new(move |t| t.assignee_id == Some(id)),
            true,
        )
        .await;
    }
    check(
        TicketFilter {
            assignee: AssigneeFilter::Unassigned,
            ..f()
        },
        Box::new(|t| t.assignee_id.is_none()),
        true,
    )
    .await;
    for c in &customers {
        let id = c.id;
        check(
            TicketFilter {
                customer: Some(id),
                ..f()
            },
            Box::new(move |t| t.customer_id == id),
            true,
        )
        .await;
    }
    let (c0, a0) = (customers[0].id, agents[0].id);
    check(
        TicketFilter {
            tag: Some("even".into()),
            customer: Some(c0),
            assignee: AssigneeFilter::Agent(a0),
            ..f()
        },
        Box::new(move |t| {
            t.tags.iter().any(|x| x == "even") && t.customer_id == c0 && t.assignee_id == Some(a0)
        }),
        true,
    )
    .await;
    let middle = tickets[10].id;
    check(
        TicketFilter {
            before: Some(middle),
            status: Some(Status::Open),
            ..f()
        },
        Box::new(move |t| t.id < middle && t.status == Status::Open),
        true,
    )
    .await;

    // `limit` caps a page; `before` walks every ticket exactly once, newest first.
    assert_eq!(
        s.list_tickets(&all(3)).await.unwrap(),
        tickets[..3].to_vec()
    );
    for (filter, keep) in [
        (
            all(4),
            Box::new(|_: &Ticket| true) as Box<dyn Fn(&Ticket) -> bool>,
        ),
        (
            TicketFilter {
                assignee: AssigneeFilter::Unassigned,
                ..all(3)
            },
            Box::new(|t: &Ticket| t.assignee_id.is_none()),
        ),
        (
            TicketFilter {
                tag: Some("even".into()),
                ..all(2)
            },
            Box::new(|t: &Ticket| t.tags.iter().any(|x| x == "even")),
        ),
    ] {
        let expected: Vec<TicketId> = tickets.iter().filter(|t| keep(t)).map(|t| t.id).collect();
        let mut walked = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = s
                .list_tickets(&TicketFilter {
                    before: cursor,
                    ..filter.clone()
                })
                .await
                .unwrap();
            assert!(page.len() as i64 <= filter.limit);
            let Some(last) = page.last() else { break };
            cursor = Some(last.id);
            walked.extend(page.iter().map(|t| t.id));
            pages += 1;
            assert!(pages <= 30, "pagination does not end");
        }
        assert_eq!(walked, expected, "{filter:?}");
        assert_eq!(pages, expected.len().div_ceil(filter.limit as usize));
    }
}

// ---------------------------------------------------------------------------------------
// 4. Search
// ---------------------------------------------------------------------------------------

async fn story_search(db: &TestDb) {
    let s = &db.store;
    let a = customer(s, "alice@example.com").await;
    let b = customer(s, "bruno@example.com").await;
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;

    // Some unrelated tickets so that no word is in most documents.
    for i in 0..6 {
        let who = if i % 2 == 0 { a.id } else { b.id };
        ticket(
            s,
            who,
            &format!("Invoice number {i} looks wrong"),
            "Please check the invoice amounts again.",
            t(i),
        )
        .await;
    }
    let subject_hit = ticket(
        s,
        a.id,
        "Kettle arrived broken",
        "The box was crushed in transit.",
        t(10),
    )
    .await;
    let body_hit = ticket(
        s,
        a.id,
        "Question about my order",
        "The kettle I bought whistles too loudly.",
        t(11),
    )
    .await;
    let other_customer = ticket(
        s,
        b.id,
        "Kettle lid missing",
        "Please send a replacement lid.",
        t(12),
    )
    .await;
    let noted = ticket(
        s,
        a.id,
        "Delivery address change",
        "Please update my address.",
        t(13),
    )
    .await;
    s.add_message(message(
        noted.id,
        MessageKind::Note,
        Actor::Agent(grace.id),
        "Courier flagged a zeppelin warehouse problem.",
        t(14),
    ))
    .await
    .unwrap();

    // Agents see everything, subject matches first.
    let hits = search_ids(s, "kettle", None).await;
    assert_eq!(
        set(&hits),
        set(&[subject_hit.id, body_hit.id, other_customer.id]),
        "{hits:?}"
    );
    let pos = |id: TicketId, hits: &[TicketId]| hits.iter().position(|h| *h == id).unwrap();
    assert!(
        pos(subject_hit.id, &hits) < pos(body_hit.id, &hits),
        "subject match must rank above body-only match: {hits:?}"
    );
    assert!(
        pos(other_customer.id, &hits) < pos(body_hit.id, &hits),
        "subject match must rank above body-only match: {hits:?}"
    );
    // Case and word form do not matter; every word must match.
    assert_eq!(
        set(&search_ids(s, "KETTLE Broken", None).await),
        set(&[subject_hit.id])
    );
    assert_eq!(
        search_ids(s, "kettle zeppelin", None).await,
        Vec::<TicketId>::new()
    );

    // Customers only ever see their own tickets.
    assert_eq!(
        search_ids(s, "kettle", Some(a.id)).await,
        vec![subject_hit.id, body_hit.id]
    );
    assert_eq!(
        search_ids(s, "kettle", Some(b.id)).await,
        vec![other_customer.id]
    );
    assert_eq!(search_ids(s, "invoice", Some(a.id)).await.len(), 3);
    assert_eq!(search_ids(s, "invoice", None).await.len(), 6);
    // The customer scope wins over a filter naming somebody else.
    let mut q = search_for("kettle", Some(a.id));
    q.filter.customer = Some(b.id);
    assert_eq!(
        s.search(&q)
            .await
            .unwrap()
            .iter()
            .map(|h| h.ticket.id)
            .collect::<Vec<_>>(),
        vec![subject_hit.id, body_hit.id]
    );
    // The filter applies to search as well.
    let mut q = search_for("kettle", None);
    q.filter.customer = Some(b.id);
    assert_eq!(
        s.search(&q)
            .await
            .unwrap()
            .iter()
            .map(|h| h.ticket.id)
            .collect::<Vec<_>>(),
        vec![other_customer.id]
    );
    q.filter = TicketFilter {
        customer: None,
        limit: 1,
        ..q.filter
    };
    assert_eq!(
        s.search(&q).await.unwrap().len(),
        1,
        "limit applies to search"
    );

    // Internal notes are found by agents, never by the customer.
    assert_eq!(search_ids(s, "zeppelin", None).await, vec![noted.id]);
    assert_eq!(
        search_ids(s, "zeppelin", Some(a.id)).await,
        Vec::<TicketId>::new()
    );
    assert_eq!(
        search_ids(s, "address", Some(a.id)).await,
        vec![noted.id],
        "the customer still finds the ticket itself"
    );

    // Query syntax of either engine in user input is just text.
    let hostile = [
        "\"unbalanced",
        "OR AND NOT *",
        "'; DROP TABLE tickets; --",
        "NEAR(",
        "NEAR(kettle broken, 2)",
        "kettle\"",
        "\"kettle",
        "kettle*",
        "kettle:*",
        "subject:kettle",
        "-kettle",
        "^kettle",
        "{kettle}",
        "( ) ( ",
        "!kettle & | <-> :* \\",
        "% _ ' '' \" \"\"",
        "",
        "   \t\n",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
        "the and or not",
        "日本語 \u{0} \u{200b} 🎉",
        "\u{93e} \u{345} ² ½ Ⅻ kettle",
    ];
    let (long, long_word) = ("kettle ".repeat(500), "x".repeat(5000));
    for text in hostile
        .iter()
        .copied()
        .chain([long.as_str(), long_word.as_str()])
    {
        for scope in [None, Some(a.id)] {
            let r = s.search(&search_for(text, scope)).await;
            assert!(
                r.is_ok(),
                "search {text:?} (customer {scope:?}) failed: {:?}",
                r.err()
            );
        }
    }
    for text in [
        "\"kettle",
        "kettle*",
        "'kettle'; --",
        "(kettle)",
        "kettle:*",
    ] {
        assert_eq!(
            set(&search_ids(s, text, None).await),
            set(&[subject_hit.id, body_hit.id, other_customer.id]),
            "{text:?}"
        );
    }
    assert_eq!(
        s.count_rows("tickets").await.unwrap(),
        10,
        "tickets survived the hostile searches"
    );

    // Unicode is kept exactly and can be searched.
    let subject = "Größe passt nicht – café 日本語 🎉";
    let text = "Die Größe ist falsch.\nUn café, s'il vous plaît.\n日本語のテキストです。\r\n\tEmoji: 🎉👍🏽 — ünïcödé";
    let uni = ticket(s, b.id, subject, text, t(20)).await;
    assert_eq!(uni.subject, subject);
    assert_eq!(s.get_ticket(uni.id).await.unwrap().subject, subject);
    assert_eq!(s.messages(uni.id).await.unwrap()[0].body, text);
    assert_eq!(search_ids(s, "größe", None).await, vec![uni.id]);
    assert_eq!(search_ids(s, "Größe", Some(b.id)).await, vec![uni.id]);
    assert_eq!(search_ids(s, "café", None).await, vec![uni.id]);
    assert_eq!(search_ids(s, "日本語", None).await, vec![uni.id]);
    assert_eq!(
        search_ids(s, "Größe", Some(a.id)).await,
        Vec::<TicketId>::new()
    );

    // SQL and HTML metacharacters are data.
    let subject = "<script>alert('x')</script> & \"quotes\"; DROP TABLE tickets; -- %_ \\ $1 ?";
    let text = "Robert'); DROP TABLE tickets;--\n<b>bold</b> &amp; &lt;tag&gt; 100% _x_ \\n $1 $$ ? :name @p0 /* c */ `tick`";
    let meta = ticket(s, a.id, subject, text, t(30)).await;
    assert_eq!(s.get_ticket(meta.id).await.unwrap().subject, subject);
    assert_eq!(s.messages(meta.id).await.unwrap()[0].body, text);
    let reply = message(
        meta.id,
        MessageKind::Reply,
        Actor::Agent(grace.id),
        "It's \"fine\" -- <i>really</i>; DELETE FROM messages;",
        t(31),
    );
    let (stored, _) = s.add_message(reply).await.unwrap();
    assert_eq!(s.messages(meta.id).await.unwrap()[1], stored);
    assert_eq!(
        stored.body,
        "It's \"fine\" -- <i>really</i>; DELETE FROM messages;"
    );
    // (PostgreSQL's parser skips HTML tags and what is inside `<script>`, so search other words.)
    assert_eq!(
        search_ids(s, "quotes drop table", Some(a.id)).await,
        vec![meta.id]
    );
    assert_eq!(search_ids(s, "robert", None).await, vec![meta.id]);
    // A word too long for any index is still stored, and the rest of the text still found.
    let huge = format!("{} plus a zebra", "y".repeat(3000));
    let (stored, _) = s
        .add_message(message(
            meta.id,
            MessageKind::Inbound,
            Actor::Customer(a.id),
            &huge,
            t(32),
        ))
        .await
        .unwrap();
    assert_eq!(s.messages(meta.id).await.unwrap()[2].body, huge);
    assert_eq!(stored.body, huge);
    assert_eq!(search_ids(s, "zebra", Some(a.id)).await, vec![meta.id]);
    assert_eq!(s.count_rows("tickets").await.unwrap(), 12);
    assert_eq!(s.count_rows("messages").await.unwrap(), 15);
}

// ---------------------------------------------------------------------------------------
// 5. Credentials
// ---------------------------------------------------------------------------------------

async fn story_credentials(db: &TestDb) {
    let s = &db.store;
    let team = s.create_team("Tier two").await.unwrap();
    assert_eq!(s.list_teams().await.unwrap(), vec![team.clone()]);
    assert!(matches!(
        s.create_team("Tier two").await,
        Err(StoreError::Conflict(_))
    ));

    let acme = s
        .create_organization("Acme Ltd", Some("acme.example"), t(0))
        .await
        .unwrap();
    assert_eq!(
        (acme.name.as_str(), acme.domain.as_deref(), acme.created_at),
        ("Acme Ltd", Some("acme.example"), t(0))
    );
    let err = s
        .create_organization("Acme again", Some("acme.example"), t(0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let solo = s.create_organization("Solo", None, t(0)).await.unwrap();
    assert!(
        s.create_organization("Solo too", None, t(0))
            .await
            .unwrap()
            .id
            > solo.id,
        "many organizations without a domain"
    );

    // Customers join the organization that owns their mail domain, on first sight or later.
    let member = s
        .upsert_customer(
            &EmailAddress::parse("kim@acme.example").unwrap(),
            None,
            t(2),
        )
        .await
        .unwrap();
    assert_eq!(member.organization_id, Some(acme.id));
    let outsider = s
        .upsert_customer(
            &EmailAddress::parse("lee@elsewhere.example").unwrap(),
            None,
            t(2),
        )
        .await
        .unwrap();
    assert_eq!(outsider.organization_id, None);

    let mut new = new_agent("Grace@Example.com", "Grace Hopper", t(1));
    new.role = Role::Manager;
    new.experience = Experience::Senior;
    new.skills = tags(&["Refunds", "billing"]);
    new.team_id = Some(team.id);
    new.capacity = 7;
    new.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into();
    let grace = s.create_agent(new.clone()).await.unwrap();
    assert_eq!(grace.email.as_str(), "grace@example.com");
    assert_eq!(grace.name, "Grace Hopper");
    assert_eq!(
        (grace.role, grace.experience, grace.capacity, grace.active),
        (Role::Manager, Experience::Senior, 7, true)
    );
    assert_eq!(
        grace.skills,
        vec!["refunds".to_owned(), "billing".to_owned()]
    );
    assert_eq!(grace.team_id, Some(team.id));
    assert_eq!(grace.created_at, t(1));
    assert_eq!(s.get_agent(grace.id).await.unwrap(), grace);
    assert!(matches!(
        s.get_agent(AgentId(grace.id.0 + 1000)).await,
        Err(StoreError::NotFound("agent"))
    ));

    // The same address again (in any case) is a conflict, and nothing is stored.
    let mut dup = new_agent("GRACE@example.com", "Another Grace", t(2));
    dup.password_hash = "other".into();
    let err = s.create_agent(dup).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let alan = agent(s, "alan@example.com", "Alan Turing").await;
    assert_eq!(
        s.list_agents().await.unwrap(),
        vec![alan.clone(), grace.clone()],
        "ordered by name"
    );

    // Login reads the hash back.
    let (who, hash) = s
        .agent_credentials(&email("grace@EXAMPLE.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(who, grace);
    assert_eq!(hash, new.password_hash);
    assert!(
        s.agent_credentials(&email("nobody@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    s.set_agent_password(grace.id, "new-hash").await.unwrap();
    assert_eq!(
        s.agent_credentials(&grace.email).await.unwrap().unwrap().1,
        "new-hash"
    );
    assert_eq!(
        s.agent_credentials(&alan.email).await.unwrap().unwrap().1,
        "$argon2id$hash-of-alan@example.com"
    );
    assert!(matches!(
        s.set_agent_password(AgentId(grace.id.0 + 1000), "x").await,
        Err(StoreError::NotFound("agent"))
    ));

    // API tokens: found by hash, revoked once.
    let ada = customer(s, "ada@example.com").await;
    let token = s
        .create_api_token(NewApiToken {
            principal: Principal::Agent(grace.id),
            name: "ci bot".into(),
            token_hash: "a".repeat(64),
            scope: "full".into(),
            now: t(10),
        })
        .await
        .unwrap();
    assert_eq!(
        (token.principal, token.name.as_str(), token.scope.as_str()),
        (Principal::Agent(grace.id), "ci bot", "full")
    );
    assert_eq!((token.created_at, token.revoked_at), (t(10), None));
    let customer_token = s
        .create_api_token(NewApiToken {
            principal: Principal::Customer(ada.id),
            name: "my script".into(),
            token_hash: "b".repeat(64),
            scope: "read".into(),
            now: t(11),
        })
        .await
        .unwrap();
    assert_ne!(customer_token.id, token.id);
    assert_eq!(
        s.api_token_by_hash(&"a".repeat(64)).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(
        s.api_token_by_hash(&"b".repeat(64)).await.unwrap(),
        Some(customer_token.clone())
    );
    assert_eq!(s.api_token_by_hash(&"c".repeat(64)).await.unwrap(), None);
    let err = s
        .create_api_token(NewApiToken {
            principal: Principal::Agent(alan.id),
            name: "clash".into(),
            token_hash: "a".repeat(64),
            scope: "full".into(),
            now: t(12),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    s.revoke_api_token(token.id, t(20)).await.unwrap();
    let revoked = s.api_token_by_hash(&"a".repeat(64)).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(t(20)));
    assert_eq!(revoked.id, token.id);
    s.revoke_api_token(token.id, t(30)).await.unwrap();
    assert_eq!(
        s.api_token_by_hash(&"a".repeat(64))
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(t(20)),
        "the first revocation stands"
    );
    assert_eq!(
        s.api_token_by_hash(&"b".repeat(64))
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None,
        "only that token is revoked"
    );
    assert!(matches!(
        s.revoke_api_token(customer_token.id + 1000, t(30)).await,
        Err(StoreError::NotFound("token"))
    ));

    // Sessions: valid until they expire, gone once deleted.
    let session = |hash: &str, principal, now, expires_at| NewSession {
        id_hash: hash.into(),
        principal,
        csrf_token: format!("csrf-{hash}"),
        now,
        expires_at,
    };
    s.create_session(session("s1", Principal::Agent(grace.id), t(100), t(200)))
        .await
        .unwrap();
    s.create_session(session("s2", Principal::Customer(ada.id), t(100), t(110)))
        .await
        .unwrap();
    let expect = Session {
        principal: Principal::Agent(grace.id),
        csrf_token: "csrf-s1".into(),
        expires_at: t(200),
    };
    assert_eq!(
        s.session_by_hash("s1", t(101)).await.unwrap(),
        Some(expect.clone())
    );
    assert_eq!(
        s.session_by_hash("s1", Millis(t(200).0 - 1)).await.unwrap(),
        Some(expect)
    );
    assert_eq!(
        s.session_by_hash("s1", t(200)).await.unwrap(),
        None,
        "expired at expires_at"
    );
    assert_eq!(s.session_by_hash("s1", t(300)).await.unwrap(), None);
    assert_eq!(
        s.session_by_hash("s2", t(105)).await.unwrap(),
        Some(Session {
            principal: Principal::Customer(ada.id),
            csrf_token: "csrf-s2".into(),
            expires_at: t(110)
        })
    );
    assert_eq!(s.session_by_hash("nope", t(101)).await.unwrap(), None);
    s.delete_session("s1").await.unwrap();
    assert_eq!(s.session_by_hash("s1", t(101)).await.unwrap(), None);
    s.delete_session("s1").await.unwrap();
    // Starting a session sweeps expired ones: s2 is gone even when asked about the past.
    s.create_session(session("s3", Principal::Agent(alan.id), t(150), t(500)))
        .await
        .unwrap();
    assert_eq!(s.session_by_hash("s2", t(105)).await.unwrap(), None);
    assert_eq!(
        s.session_by_hash("s3", t(151))
            .await
            .unwrap()
            .map(|x| x.principal),
        Some(Principal::Agent(alan.id))
    );
    assert!(
        s.create_session(session("s3", Principal::Agent(grace.id), t(160), t(500)))
            .await
            .is_err(),
        "session ids are unique"
    );
    assert_eq!(
        s.session_by_hash("s3", t(161))
            .await
            .unwrap()
            .map(|x| x.principal),
        Some(Principal::Agent(alan.id))
    );
}

// ---------------------------------------------------------------------------------------
// 6. The event log is append-only, even for SQL that bypasses the store
// ---------------------------------------------------------------------------------------

async fn story_events_append_only(db: &TestDb) {
    let s = &db.store;
    let ada = customer(s, "ada@example.com").await;
    let tk = ticket(s, ada.id, "History", "is not editable", t(0)).await;
    s.update_ticket(
        tk.id,
        TicketChange {
            priority: Some(Priority::High),
            ..change()
        },
        Actor::System,
        t(1),
    )
    .await
    .unwrap();
    let events = s.events(tk.id).await.unwrap();
    assert_eq!(events.len(), 3);
    let first = events[0].id.0;

    // Our raw connection works and may append (the log only refuses edits).
    assert_eq!(
        db.raw_execute(&format!(
            "UPDATE tickets SET updated_at = updated_at WHERE id = {}",
            tk.id.0
        ))
        .await
        .unwrap(),
        1
    );
    let append = format!(
        "INSERT INTO events (ticket_id, actor_kind, actor_id, kind, data, at) VALUES ({}, 'system', NULL, 'priority_changed', '{{\"type\":\"priority_changed\",\"from\":\"high\",\"to\":\"low\"}}', {})",
        tk.id.0,
        t(2).0
    );
    assert_eq!(db.raw_execute(&append).await.unwrap(), 1);
    let events = s.events(tk.id).await.unwrap();
    assert_eq!(events.len(), 4);

    for sql in [
        "UPDATE events SET kind = 'tampered'".to_owned(),
        format!("UPDATE events SET data = '{{}}', at = 0 WHERE id = {first}"),
        format!(
            "UPDATE events SET ticket_id = NULL WHERE ticket_id = {}",
            tk.id.0
        ),
        "DELETE FROM events".to_owned(),
        format!("DELETE FROM events WHERE id = {first}"),
    ] {
        let err = db.raw_execute(&sql).await.expect_err(&sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    if matches!(db.location, Location::Postgres { .. }) {
        // Row triggers do not see TRUNCATE; the log must refuse it as well.
        // (A plain TRUNCATE already fails on the webhook outbox's foreign key.)
        db.raw_execute("TRUNCATE events")
            .await
            .expect_err("TRUNCATE events");
        for sql in ["TRUNCATE events CASCADE", "TRUNCATE tickets CASCADE"] {
            let err = db.raw_execute(sql).await.expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
    }
    assert_eq!(s.events(tk.id).await.unwrap(), events);
    assert_eq!(s.count_rows("events").await.unwrap(), 4);
    assert_eq!(s.count_rows("tickets").await.unwrap(), 1);
}

// ---------------------------------------------------------------------------------------
// 6b. Concurrent writers: every change applies to the latest state, none is lost
// ---------------------------------------------------------------------------------------

async fn story_concurrent_writers(db: &TestDb) {
    let s = &db.store;
    let ada = customer(s, "ada@example.com").await;
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    let shared = ticket(s, ada.id, "Busy ticket", "Everyone is on this one.", t(0)).await;

    let mut tasks = Vec::new();
    for i in 0..8i64 {
        let s = s.clone();
        let by = Actor::Agent(grace.id);
        tasks.push(tokio::spawn(async move {
            let mut created = Vec::new();
            for j in 0..3i64 {
                let now = t(10 + i * 10 + j);
                s.add_message(message(
                    shared.id,
                    MessageKind::Note,
                    by,
                    &format!("note {i}-{j}"),
                    now,
                ))
                .await
                .unwrap();
                let priority = Priority::ALL[((i + j) % 4) as usize];
                s.update_ticket(
                    shared.id,
                    TicketChange {
                        priority: Some(priority),
                        ..change()
                    },
                    by,
                    now,
                )
                .await
                .unwrap();
                created.push(
                    s.create_ticket(new_ticket(
                        ada.id,
                        &format!("Parallel {i}-{j}"),
                        "hello",
                        &[],
                        now,
                    ))
                    .await
                    .unwrap(),
                );
            }
            created
        }));
    }
    let mut created = Vec::new();
    for task in tasks {
        created.extend(task.await.unwrap());
    }

    // Each new ticket got its own id and number.
    let numbers: BTreeSet<i64> = created.iter().map(|t| t.number).collect();
    let ids: BTreeSet<TicketId> = created.iter().map(|t| t.id).collect();
    assert_eq!((numbers.len(), ids.len()), (24, 24));
    assert!(numbers.iter().all(|n| *n > shared.number));
    assert_eq!(s.count_rows("tickets").await.unwrap(), 25);

    // No message is lost, and the priority events form one unbroken chain: every change
    // saw the state the previous one left behind.
    assert_eq!(s.messages(shared.id).await.unwrap().len(), 25);
    let events = s.events(shared.id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind.name() == "message_added")
            .count(),
        25
    );
    let mut current = Priority::Normal;
    for e in &events {
        if let EventKind::PriorityChanged { from, to } = e.kind {
            assert_eq!(from, current, "a change was applied to a stale ticket");
            assert_ne!(from, to);
            current = to;
        }
    }
    assert_eq!(s.get_ticket(shared.id).await.unwrap().priority, current);
}

// ---------------------------------------------------------------------------------------
// 7. Copying a database between backends (only with PostgreSQL)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn copy_sqlite_to_postgres() {
    let Some(target) = TestDb::postgres().await else {
        return;
    };
    let source = TestDb::sqlite().await;
    story_copy(&source, &target).await;
    source.cleanup().await;
    target.cleanup().await;
}

#[tokio::test]
async fn copy_postgres_to_sqlite() {
    let Some(source) = TestDb::postgres().await else {
        return;
    };
    let target = TestDb::sqlite().await;
    story_copy(&source, &target).await;
    source.cleanup().await;
    target.cleanup().await;
}

/// What [`fill`] made, to check against after a copy.
struct Filled {
    customers: Vec<Customer>,
    agents: Vec<Agent>,
    tickets: Vec<TicketId>,
    token_hashes: Vec<String>,
}

/// Puts at least one row in every copied table, and something in the derived ones.
async fn fill(s: &Arc<Store>) -> Filled {
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

async fn export_all(s: &Arc<Store>, table: &recourse_store::table::Table, page: i64) -> Vec<Row> {
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

async fn story_copy(source: &TestDb, target: &TestDb) {
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
    // Sessions are not copied: people sign in again.
    assert_eq!(dst.session_by_hash("session", t(3)).await.unwrap(), None);

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

// ---------------------------------------------------------------------------------------
// 9. The escalation ladder
// ---------------------------------------------------------------------------------------

/// A moment by its RFC 3339 name, for the business-hours stories.
fn at(s: &str) -> Millis {
    recourse_domain::sla::parse_instant(s).unwrap()
}

async fn staff(
    s: &Arc<Store>,
    address: &str,
    name: &str,
    role: Role,
    experience: Experience,
) -> Agent {
    let mut a = new_agent(address, name, t(0));
    a.role = role;
    a.experience = experience;
    a.skills = Vec::new();
    s.create_agent(a).await.unwrap()
}

fn escalation(
    ticket: TicketId,
    reason: EscalationReason,
    by: Actor,
    now: Millis,
) -> EscalationRequest {
    EscalationRequest {
        ticket_id: ticket,
        reason,
        note: None,
        message: None,
        assignee: None,
        channel: Channel::Console,
        actor: by,
        now,
    }
}

async fn story_ladder(db: &TestDb) {
    let s = &db.store;
    let jo = staff(
        s,
        "jo@example.com",
        "Jo Junior",
        Role::Agent,
        Experience::Junior,
    )
    .await;
    let eve = staff(
        s,
        "eve@example.com",
        "Eve Ember",
        Role::Agent,
        Experience::Experienced,
    )
    .await;
    let sam = staff(
        s,
        "sam@example.com",
        "Sam Senior",
        Role::Agent,
        Experience::Senior,
    )
    .await;
    let mia = staff(
        s,
        "mia@example.com",
        "Mia Manager",
        Role::Manager,
        Experience::Senior,
    )
    .await;
    let ada = s
        .upsert_customer(&email("ada@example.com"), Some("Ada"), t(0))
        .await
        .unwrap();
    let now = at("2026-11-23T10:00:00Z");

    // Arrival: first rung, routed to the least loaded, longest idle agent who may work it.
    let tk = s
        .create_ticket(new_ticket(
            ada.id,
            "Kettle arrived broken",
            "The spout fell off.",
            &[],
            now,
        ))
        .await
        .unwrap();
    assert_eq!(tk.rung, "frontline");
    assert_eq!(tk.assignee_id, Some(jo.id));
    let by_jo = Actor::Agent(jo.id);
    for (kind, text, result) in [
        (
            InterventionKind::Refund,
            "half the delivery charge",
            InterventionResult::Declined,
        ),
        (
            InterventionKind::Replacement,
            "a new kettle by courier",
            InterventionResult::Pending,
        ),
    ] {
        s.add_intervention(NewIntervention {
            ticket_id: tk.id,
            kind,
            description: body(text),
            result,
            agent_id: Some(jo.id),
            now,
        })
        .await
        .unwrap();
    }

    // The draft names both interventions, the next rung and who takes over, and when.
    let plan = s
        .handoff_plan(tk.id, EscalationReason::AgentRequest, now)
        .await
        .unwrap();
    assert_eq!(plan.to.name, "experienced");
    let taker = plan.assignee.clone().expect("an experienced agent is free");
    assert!([eve.id, sam.id].contains(&taker.id), "{taker:?}");
    let draft = plan.draft(Some("Jo Junior"));
    assert!(draft.contains("Hello Ada"), "{draft}");
    assert!(draft.contains("half the delivery charge"), "{draft}");
    assert!(draft.contains("a new kettle by courier"), "{draft}");
    assert!(draft.contains(&taker.name), "{draft}");
    assert!(
        draft.contains("one of our most experienced support colleagues"),
        "{draft}"
    );
    // Normal priority: the next update is owed within 8 business hours.
    assert_eq!(plan.reply_by, at("2026-11-24T10:00:00Z"));
    assert!(
        draft.contains("Tuesday 24 November, 10:00 (UTC)"),
        "{draft}"
    );

    // The agent edits the draft and escalates; the customer receives exactly that text.
    let edited = format!("{draft}\n\nP.S. The courier reference is KT-42.");
    let mut req = escalation(
        tk.id,
        EscalationReason::AgentRequest,
        by_jo,
        at("2026-11-23T10:05:00Z"),
    );
    req.message = Some(body(&edited));
    req.assignee = Some(taker.id);
    req.note = Some("Customer wants a full refund; beyond what I can offer.".into());
    let up = s.escalate(req).await.unwrap();
    assert_eq!(up.rung, "experienced");
    assert_eq!(up.assignee_id, Some(taker.id));
    assert_eq!(up.status, Status::Open);
    let messages = s.messages(tk.id).await.unwrap();
    let sent = messages.last().unwrap();
    assert_eq!(
        (sent.kind, sent.body.as_str()),
        (MessageKind::Reply, edited.trim())
    );
    let names = event_names(&s.events(tk.id).await.unwrap());
    assert_eq!(
        &names[names.len() - 4..],
        [
            "message_added",
            "status_changed",
            "escalated",
            "assignee_changed"
        ]
    );
    let steps = s.escalations(tk.id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(
        (
            steps[0].up,
            steps[0].from_rung.as_str(),
            steps[0].to_rung.as_str(),
            steps[0].reason,
            steps[0].message_id
        ),
        (
            true,
            "frontline",
            "experienced",
            Some(EscalationReason::AgentRequest),
            Some(sent.id)
        )
    );

    // Jo no longer works the ticket (it is on the experienced rung, held by the taker):
    // the desk refuses on the locked row.
    let req = escalation(tk.id, EscalationReason::AgentRequest, by_jo, now);
    assert!(matches!(
        s.escalate(req).await,
        Err(StoreError::Conflict(_))
    ));
    // Someone named by hand must be allowed on the rung: a junior is not.
    let mut req = escalation(
        tk.id,
        EscalationReason::AgentRequest,
        Actor::Agent(taker.id),
        now,
    );
    req.assignee = Some(jo.id);
    assert!(matches!(
        s.escalate(req).await,
        Err(StoreError::Ladder(LadderError::NotEligible(_)))
    ));
    // Up to the manager, sending the drafted text; then there is nowhere further up.
    let top = s
        .escalate(escalation(
            tk.id,
            EscalationReason::CustomerRequest,
            Actor::Agent(taker.id),
            now,
        ))
        .await
        .unwrap();
    assert_eq!(
        (top.rung.as_str(), top.assignee_id),
        ("manager", Some(mia.id))
    );
    assert!(
        s.messages(tk.id)
            .await
            .unwrap()
            .last()
            .unwrap()
            .body
            .contains("a support manager")
    );
    assert!(matches!(
        s.escalate(escalation(
            tk.id,
            EscalationReason::AgentRequest,
            Actor::Agent(mia.id),
            now
        ))
        .await,
        Err(StoreError::Ladder(LadderError::AtTop))
    ));

    // A manager moves it back down with a note; the case needs experience, so routing
    // passes over the junior even on the first rung.
    let mut hard = new_ticket(ada.id, "Boiler code E7", "It beeps.", &[], now);
    hard.priority = Priority::High;
    let hard = s.create_ticket(hard).await.unwrap();
    let hard_up = s
        .escalate(escalation(
            hard.id,
            EscalationReason::NeedsExperience,
            Actor::Agent(hard.assignee_id.unwrap()),
            now,
        ))
        .await
        .unwrap();
    assert!(hard_up.needs_experience);
    assert!(matches!(
        s.move_down(Descent {
            ticket_id: hard.id,
            note: "  ".into(),
            actor: Actor::Agent(mia.id),
            now
        })
        .await,
        Err(StoreError::Ladder(LadderError::NoteRequired))
    ));
    let down = s
        .move_down(Descent {
            ticket_id: hard.id,
            note: "Known fault; the fix is in the wiki.".into(),
            actor: Actor::Agent(mia.id),
            now,
        })
        .await
        .unwrap();
    assert_eq!(down.rung, "frontline");
    assert!(
        down.assignee_id.is_some() && down.assignee_id != Some(jo.id),
        "{down:?}"
    );
    let steps = s.escalations(hard.id).await.unwrap();
    assert_eq!(
        (steps[1].up, steps[1].note.as_deref()),
        (false, Some("Known fault; the fix is in the wiki."))
    );

    // Going away hands active tickets on to whoever else may work their rung.
    let held_by = down.assignee_id.unwrap();
    let (away, moved) = s
        .set_presence(held_by, false, Actor::Agent(held_by), now)
        .await
        .unwrap();
    assert!(!away.present);
    assert!(moved.contains(&hard.id));
    let after = s.get_ticket(hard.id).await.unwrap();
    assert!(
        after.assignee_id != Some(held_by) && after.assignee_id != Some(jo.id),
        "{after:?}"
    );
    s.set_presence(held_by, true, Actor::Agent(held_by), now)
        .await
        .unwrap();

    // Automatic rules. Abuse goes straight to the top rung, once per message.
    let rude = s
        .create_ticket(new_ticket(ada.id, "Refund", "You are useless.", &[], now))
        .await
        .unwrap();
    let first_msg = s.messages(rude.id).await.unwrap()[0].id;
    let moved = s
        .set_demeanor(first_msg, Demeanor::Abusive, Actor::Agent(jo.id), now)
        .await
        .unwrap();
    assert_eq!(moved.rung, "manager");
    let again = s
        .set_demeanor(first_msg, Demeanor::Abusive, Actor::Agent(jo.id), now)
        .await
        .unwrap();
    assert_eq!(again.rung, "manager");
    let steps = s.escalations(rude.id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].reason, Some(EscalationReason::Abuse));
    let sent = s.messages(rude.id).await.unwrap();
    assert_eq!(
        sent.last().unwrap().kind,
        MessageKind::Reply,
        "the customer is told who has the case"
    );
    assert!(matches!(
        s.set_demeanor(
            sent.last().unwrap().id,
            Demeanor::Angry,
            Actor::Agent(jo.id),
            now
        )
        .await,
        Err(StoreError::Conflict(_))
    ));

    // Repeated contact: the third message without an answer moves the case up.
    let chase = s
        .create_ticket(new_ticket(
            ada.id,
            "Where is my order?",
            "Any news?",
            &[],
            now,
        ))
        .await
        .unwrap();
    let customer = Actor::Customer(ada.id);
    let (_, second) = s
        .add_message(message(
            chase.id,
            MessageKind::Inbound,
            customer,
            "Hello?",
            now,
        ))
        .await
        .unwrap();
    assert_eq!(second.rung, "frontline");
    let (_, third) = s
        .add_message(message(
            chase.id,
            MessageKind::Inbound,
            customer,
            "Third time asking.",
            now,
        ))
        .await
        .unwrap();
    assert_eq!(third.rung, "experienced");
    assert_eq!(
        s.escalations(chase.id).await.unwrap()[0].reason,
        Some(EscalationReason::RepeatedContact)
    );

    // Still angry after two interventions: up with reason `demeanor`.
    let sore = s
        .create_ticket(new_ticket(
            ada.id,
            "Late again",
            "Second late delivery.",
            &[],
            now,
        ))
        .await
        .unwrap();
    s.add_message(message(
        sore.id,
        MessageKind::Reply,
        by_jo,
        "Sorry, looking now.",
        now,
    ))
    .await
    .unwrap();
    for kind in [InterventionKind::Apology, InterventionKind::Credit] {
        s.add_intervention(NewIntervention {
            ticket_id: sore.id,
            kind,
            description: body("offered"),
            result: InterventionResult::Declined,
            agent_id: Some(jo.id),
            now,
        })
        .await
        .unwrap();
    }
    let mut angry = message(
        sore.id,
        MessageKind::Inbound,
        customer,
        "This is not good enough.",
        now,
    );
    angry.demeanor = Some(Demeanor::Angry);
    let (m, sore_after) = s.add_message(angry).await.unwrap();
    assert_eq!(m.demeanor, Some(Demeanor::Angry));
    assert_eq!(sore_after.rung, "experienced");
    assert_eq!(
        s.escalations(sore.id).await.unwrap()[0].reason,
        Some(EscalationReason::Demeanor)
    );

    // Configuration round-trips through settings; the ladder is what routing uses.
    s.put_setting(
        "ladder",
        r#"{"rungs":[{"name":"desk","role":"agent","min_experience":"junior","title":"our team"},{"name":"lead","role":"manager","min_experience":"senior","title":"the team lead"}]}"#,
        Actor::Agent(mia.id),
        now,
    )
    .await
    .unwrap();
    let cfg = s.desk_config().await.unwrap();
    assert_eq!(cfg.ladder.rungs().len(), 2);
    let fresh = s
        .create_ticket(new_ticket(ada.id, "New ladder", "Hi", &[], now))
        .await
        .unwrap();
    assert_eq!(fresh.rung, "desk");
    let lead = s
        .escalate(escalation(
            fresh.id,
            EscalationReason::AgentRequest,
            by_jo,
            now,
        ))
        .await
        .unwrap();
    assert_eq!(
        (lead.rung.as_str(), lead.assignee_id),
        ("lead", Some(mia.id))
    );
    s.reset_setting("ladder", Actor::Agent(mia.id), now)
        .await
        .unwrap();
    assert_eq!(
        s.desk_config().await.unwrap().ladder,
        recourse_domain::Ladder::default()
    );
}

// ---------------------------------------------------------------------------------------
// 10. SLA clocks and the sweeper (a controlled clock: no sleeping)
// ---------------------------------------------------------------------------------------

async fn story_sla(db: &TestDb) {
    let s = &db.store;
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
    assert_eq!(a.sla.first_response_due, Some(at("2026-11-23T14:00:00Z")));
    assert_eq!(a.sla.resolution_due, Some(at("2026-11-26T10:00:00Z")));
    // Friday 16:00: one business hour on Friday, three on Monday.
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
    assert_eq!(
        friday.sla.first_response_due,
        Some(at("2026-11-30T12:00:00Z"))
    );
    // Answered, then waiting on the customer: the clocks stop.
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
    assert_eq!(waiting.sla.first_response_due, None);
    assert_eq!(waiting.sla.paused_at, Some(at("2026-11-23T10:30:00Z")));

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

    // Saturday is long past Friday 16:00 + 4h by the wall clock, but not in business hours.
    // (The first ticket's promised next update, Tuesday 14:01, is overdue by now: that
    // one moves up again, to the manager; Friday's ticket does not move.)
    let weekend = sweep("2026-11-28T12:00:00Z").await;
    assert_eq!(weekend.escalated, 1);
    assert_eq!(s.get_ticket(a.id).await.unwrap().rung, "manager");
    assert_eq!(s.get_ticket(friday.id).await.unwrap().rung, "frontline");
    assert_eq!(s.escalations(friday.id).await.unwrap().len(), 0);

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

/// Many sweepers at once (threads here; processes in the CLI test) escalate each due
/// ticket exactly once.
async fn story_concurrent_sweepers(db: &TestDb) {
    let s = &db.store;
    staff(s, "jo@example.com", "Jo", Role::Agent, Experience::Junior).await;
    staff(
        s,
        "eve@example.com",
        "Eve",
        Role::Agent,
        Experience::Experienced,
    )
    .await;
    let ada = customer(s, "ada@example.com").await;
    let mut ids = Vec::new();
    for i in 0..40 {
        let tk = s
            .create_ticket(new_ticket(
                ada.id,
                &format!("Due {i}"),
                "Hello",
                &[],
                at("2026-11-23T10:00:00Z"),
            ))
            .await
            .unwrap();
        ids.push(tk.id);
    }
    let when = at("2026-11-23T15:00:00Z");
    let sweepers: Vec<_> = (0..6)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut escalated = 0;
                loop {
                    let r = s.sweep_sla(when, 7).await.unwrap();
                    if r.examined == 0 {
                        break escalated;
                    }
                    escalated += r.escalated;
                }
            })
        })
        .collect();
    let mut total = 0;
    for h in sweepers {
        total += h.await.unwrap();
    }
    assert_eq!(total, 40);
    for id in ids {
        assert_eq!(s.escalations(id).await.unwrap().len(), 1, "ticket {id:?}");
    }
}

// ---------------------------------------------------------------------------------------
// 11. The webhook outbox
// ---------------------------------------------------------------------------------------

async fn story_webhook_outbox(db: &TestDb) {
    let s = &db.store;
    let ada = customer(s, "ada@example.com").await;
    let now = at("2026-11-23T10:00:00Z");
    // Events before the webhook existed are not sent to it.
    s.create_ticket(new_ticket(ada.id, "Before", "Hi", &[], now))
        .await
        .unwrap();
    let hook = s
        .create_webhook("http://127.0.0.1:9/hook", "whsec-1", &[], now)
        .await
        .unwrap();
    let tk = s
        .create_ticket(new_ticket(ada.id, "After", "Hi", &[], now))
        .await
        .unwrap();
    let claimed = s.claim_deliveries(now, 60_000, 100).await.unwrap();
    // ticket_created and message_added (nobody to route to: no assignee event).
    assert_eq!(
        claimed
            .iter()
            .map(|d| d.event.kind.name())
            .collect::<Vec<_>>(),
        ["ticket_created", "message_added"]
    );
    assert!(
        claimed
            .iter()
            .all(|d| d.event.ticket_id == Some(tk.id) && d.secret == "whsec-1" && d.attempt == 1)
    );
    // Claimed work is leased: nobody else gets it until the lease runs out.
    assert!(
        s.claim_deliveries(Millis(now.0 + 30_000), 60_000, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let first = claimed[0].id;
    s.finish_delivery(first, Ok(()), now).await.unwrap();
    s.finish_delivery(claimed[1].id, Err("the webhook answered 500".into()), now)
        .await
        .unwrap();
    // Retried with backoff: not after 5 s, but after 10 s.
    assert!(
        s.claim_deliveries(Millis(now.0 + 5_000), 60_000, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let retry = s
        .claim_deliveries(Millis(now.0 + 10_000), 60_000, 100)
        .await
        .unwrap();
    assert_eq!((retry.len(), retry[0].attempt), (1, 2));
    // A node that claims and dies: the delivery falls due again after the lease.
    let again = s
        .claim_deliveries(Millis(now.0 + 70_001), 60_000, 100)
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].attempt), (1, 3));
    s.finish_delivery(again[0].id, Ok(()), now).await.unwrap();
    let log = s.webhook_deliveries(hook.id, 10).await.unwrap();
    assert!(log.iter().all(|d| d.delivered_at.is_some()), "{log:?}");
    // Removing the webhook drops what is pending and queues nothing new.
    s.add_message(message(
        tk.id,
        MessageKind::Inbound,
        Actor::Customer(ada.id),
        "More",
        now,
    ))
    .await
    .unwrap();
    s.deactivate_webhook(hook.id, now).await.unwrap();
    s.add_message(message(
        tk.id,
        MessageKind::Inbound,
        Actor::Customer(ada.id),
        "Even more",
        now,
    ))
    .await
    .unwrap();
    assert!(
        s.claim_deliveries(Millis(now.0 + 1_000_000), 60_000, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        s.deactivate_webhook(hook.id + 100, now).await,
        Err(StoreError::NotFound(_))
    ));

    // A webhook that asked for some kinds gets exactly those: `message_added` does not
    // match `message_added_x`, and `_` is no wildcard.
    let picky = s
        .create_webhook(
            "http://127.0.0.1:9/picky",
            "whsec-2",
            &["message_added".to_owned(), "ticket_xreated".to_owned()],
            now,
        )
        .await
        .unwrap();
    let tk = s
        .create_ticket(new_ticket(ada.id, "Picky", "Hi", &[], now))
        .await
        .unwrap();
    let claimed = s
        .claim_deliveries(Millis(now.0 + 2_000_000), 60_000, 100)
        .await
        .unwrap();
    assert_eq!(
        claimed
            .iter()
            .map(|d| (d.event.kind.name(), d.event.ticket_id, d.secret.as_str()))
            .collect::<Vec<_>>(),
        [("message_added", Some(tk.id), "whsec-2")]
    );
    s.deactivate_webhook(picky.id, now).await.unwrap();
}

// ---------------------------------------------------------------------------------------
// 12. When we can't help
// ---------------------------------------------------------------------------------------

use recourse_domain::recovery::{CantHelp, CantHelpReason, SurveyAnswer, ThirdParty};
use recourse_store::{
    CantHelpRequest, CantHelpReview, NewAlternative, ReferralRequest, ReportQuery, TicketFlag,
    TransferRequest,
};

fn explained(partial: Option<&str>) -> CantHelp {
    CantHelp {
        reason: CantHelpReason::CompanyPolicy,
        explanation: "Opened food cannot be returned, for hygiene reasons.".into(),
        partial_solution: partial.map(String::from),
        no_partial_justification: partial
            .is_none()
            .then(|| "The customer wants a cash refund we are not allowed to give.".into()),
        third_party: None,
        handoff_summary: None,
    }
}

fn cant(ticket: TicketId, c: CantHelp, by: Actor, now: Millis) -> CantHelpRequest {
    CantHelpRequest {
        ticket_id: ticket,
        cant_help: c,
        channel: Channel::Console,
        actor: by,
        now,
    }
}

fn transfer_to(ticket: TicketId, agent: AgentId, by: Actor, now: Millis) -> TransferRequest {
    TransferRequest {
        ticket_id: ticket,
        to_agent: Some(agent),
        to_team: None,
        to_rung: None,
        customer_message: "Your case is with our billing specialist now; they can change invoices."
            .into(),
        channel: Channel::Console,
        actor: by,
        now,
    }
}

async fn story_recovery(db: &TestDb) {
    let s = &db.store;
    let jo = staff(s, "jo@example.com", "Jo", Role::Agent, Experience::Junior).await;
    let eve = staff(
        s,
        "eve@example.com",
        "Eve",
        Role::Agent,
        Experience::Experienced,
    )
    .await;
    let mia = staff(
        s,
        "mia@example.com",
        "Mia",
        Role::Manager,
        Experience::Senior,
    )
    .await;
    let ada = s
        .upsert_customer(&email("ada@example.com"), Some("Ada"), t(0))
        .await
        .unwrap();
    let (by_jo, by_mia) = (Actor::Agent(jo.id), Actor::Agent(mia.id));
    let now = at("2026-11-23T10:00:00Z");
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // With a partial solution the customer hears at once and the ticket resolves.
    let a = new("Return opened coffee", &[]).await;
    let (a2, rec) = s
        .cant_help(cant(
            a.id,
            explained(Some("We can send a voucher for your next order.")),
            by_jo,
            now,
        ))
        .await
        .unwrap();
    assert_eq!(
        (a2.status, a2.outcome),
        (Status::Resolved, Some(Outcome::Explained))
    );
    assert_eq!(a2.ended_at, Some(now));
    assert_eq!(rec.state, "sent");
    let sent = s.messages(a.id).await.unwrap().pop().unwrap();
    assert_eq!(Some(sent.id), rec.message_id);
    assert!(sent.body.starts_with("Hello Ada,"));
    assert!(sent.body.contains("for hygiene reasons"));
    assert!(
        sent.body
            .contains("What we can still do for you: We can send a voucher")
    );

    // Without one it waits for a manager, and the customer hears nothing yet.
    let b = new("Cash refund", &[]).await;
    let before = s.messages(b.id).await.unwrap().len();
    let (b2, rec) = s
        .cant_help(cant(b.id, explained(None), by_jo, now))
        .await
        .unwrap();
    assert!(b2.review_pending);
    assert_eq!(b2.status, Status::New);
    assert_eq!(rec.state, "pending_review");
    assert_eq!(s.messages(b.id).await.unwrap().len(), before);
    let queue = s.cant_help_records(None, 10).await.unwrap();
    assert_eq!(
        queue.iter().map(|r| r.ticket_id).collect::<Vec<_>>(),
        [b.id]
    );
    let flagged = TicketFilter {
        flag: Some(TicketFlag::ReviewPending),
        ..all(10)
    };
    assert_eq!(s.list_tickets(&flagged).await.unwrap().len(), 1);
    // The manager finds something after all and approves.
    let review = |ticket, approve, partial: Option<&str>| CantHelpReview {
        ticket_id: ticket,
        approve,
        note: Some("Offer store credit instead.".into()),
        partial_solution: partial.map(String::from),
        channel: Channel::Console,
        actor: by_mia,
        now,
    };
    let (b3, rec) = s
        .review_cant_help(review(
            b.id,
            true,
            Some("Store credit for the full amount."),
        ))
        .await
        .unwrap();
    assert_eq!(
        (b3.status, b3.outcome, b3.review_pending),
        (Status::Resolved, Some(Outcome::Explained), false)
    );
    assert_eq!(rec.state, "approved");
    let msgs = s.messages(b.id).await.unwrap();
    assert!(
        msgs.iter().any(|m| m.kind == MessageKind::Reply
            && m.body.contains("Store credit for the full amount."))
    );
    assert!(
        msgs.iter()
            .any(|m| m.kind == MessageKind::Note && m.body == "Offer store credit instead.")
    );
    assert!(s.cant_help_records(None, 10).await.unwrap().is_empty());
    assert!(matches!(
        s.review_cant_help(review(b.id, true, None)).await,
        Err(StoreError::NotFound(_))
    ));
    // Returned: back to the agent, nothing sent, still open.
    let c = new("Another cash refund", &[]).await;
    s.cant_help(cant(c.id, explained(None), by_jo, now))
        .await
        .unwrap();
    let (c2, rec) = s.review_cant_help(review(c.id, false, None)).await.unwrap();
    assert_eq!(
        (c2.status, c2.review_pending, rec.state.as_str()),
        (Status::New, false, "returned")
    );
    assert!(
        s.messages(c.id)
            .await
            .unwrap()
            .iter()
            .all(|m| m.kind != MessageKind::Reply)
    );
    // A third party: who, why theirs, and how to reach them all reach the customer.
    let d = new("Card declined", &[]).await;
    let mut tp = explained(Some("We will hold the order for 14 days."));
    tp.reason = CantHelpReason::ThirdParty;
    tp.third_party = Some(ThirdParty {
        who: "your card issuer".into(),
        why_theirs: "Only they can lift a block on your card".into(),
        how_to_reach: "the number on the back of the card".into(),
    });
    tp.handoff_summary = Some("Declined 3 times with code 05.".into());
    let (_, rec) = s.cant_help(cant(d.id, tp, by_jo, now)).await.unwrap();
    assert_eq!(
        rec.handoff_summary.as_deref(),
        Some("Declined 3 times with code 05.")
    );
    let text = s.messages(d.id).await.unwrap().pop().unwrap().body;
    assert!(
        text.contains("your card issuer. Only they can lift a block on your card."),
        "{text}"
    );
    assert!(text.contains("the number on the back of the card"));
    assert!(
        !text.contains("code 05"),
        "the handoff summary stays inside"
    );
    // A ticket that has ended takes no can't-help.
    assert!(matches!(
        s.cant_help(cant(a.id, explained(Some("x")), by_jo, now))
            .await,
        Err(StoreError::Ladder(LadderError::NotActive(_)))
    ));

    // Transfers: the customer is told each time; the third in a row without an answer
    // flags the ticket for managers, once.
    let e = new("Invoice address wrong", &[]).await;
    for (n, to) in [(1, eve.id), (2, jo.id)] {
        let moved = s.transfer(transfer_to(e.id, to, by_jo, now)).await.unwrap();
        assert_eq!(moved.assignee_id, Some(to));
        assert!(!moved.ping_pong, "after {n} transfers");
    }
    let third = s
        .transfer(transfer_to(e.id, eve.id, by_jo, now))
        .await
        .unwrap();
    assert!(third.ping_pong);
    let ping = TicketFilter {
        flag: Some(TicketFlag::PingPong),
        ..all(10)
    };
    assert_eq!(
        s.list_tickets(&ping)
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>(),
        [e.id]
    );
    let names = event_names(&s.events(e.id).await.unwrap());
    assert_eq!(names.iter().filter(|n| **n == "transferred").count(), 3);
    assert_eq!(
        names.iter().filter(|n| **n == "ping_pong_flagged").count(),
        1
    );
    let lines = s.messages(e.id).await.unwrap();
    assert_eq!(
        lines
            .iter()
            .filter(|m| m.body.contains("billing specialist"))
            .count(),
        3
    );
    // A real answer ends the run; the next transfer starts counting again.
    s.add_message(message(
        e.id,
        MessageKind::Reply,
        Actor::Agent(eve.id),
        "Fixed the address.",
        now,
    ))
    .await
    .unwrap();
    s.transfer(transfer_to(e.id, jo.id, by_jo, now))
        .await
        .unwrap();
    let names = event_names(&s.events(e.id).await.unwrap());
    assert_eq!(
        names.iter().filter(|n| **n == "ping_pong_flagged").count(),
        1
    );
    let mut nowhere = transfer_to(e.id, AgentId(9999), by_jo, now);
    assert!(matches!(
        s.transfer(nowhere.clone()).await,
        Err(StoreError::NotFound("assignee"))
    ));
    nowhere.to_agent = None;
    nowhere.to_rung = Some("attic".into());
    assert!(matches!(
        s.transfer(nowhere).await,
        Err(StoreError::Ladder(LadderError::UnknownRung(_)))
    ));

    // Referrals: from the top rung only, to a listed alternative, closing as referred.
    let alt = |name: &str, serves: &[&str], contact: &str| NewAlternative {
        name: name.into(),
        serves: tags(serves),
        contact: contact.into(),
        notes: String::new(),
        active: true,
    };
    let fixit = s
        .save_alternative(
            None,
            alt("FixIt Repairs", &["repairs"], "https://fixit.example"),
            now,
        )
        .await
        .unwrap();
    let grocer = s
        .save_alternative(None, alt("Fresh Grocer", &["refunds"], "0800 123 456"), now)
        .await
        .unwrap();
    assert_eq!(s.alternatives().await.unwrap().len(), 2);
    let f = new("Kettle needs repair", &["repairs"]).await;
    let refer = |ticket, alternative_id| ReferralRequest {
        ticket_id: ticket,
        alternative_id,
        reason: "We sell kettles but we do not repair them.".into(),
        message: None,
        agent_name: Some("Mia".into()),
        channel: Channel::Console,
        actor: by_mia,
        now,
    };
    assert!(matches!(
        s.refer(refer(f.id, fixit.id)).await,
        Err(StoreError::Conflict(_))
    ));
    s.escalate(escalation(
        f.id,
        EscalationReason::CustomerRequest,
        by_jo,
        now,
    ))
    .await
    .unwrap();
    s.escalate(escalation(
        f.id,
        EscalationReason::CustomerRequest,
        Actor::Agent(eve.id),
        now,
    ))
    .await
    .unwrap();
    assert!(matches!(
        s.refer(refer(f.id, 9999)).await,
        Err(StoreError::NotFound("alternative"))
    ));
    let mut closed_alt = alt("Gone Ltd", &["repairs"], "x");
    closed_alt.active = false;
    let gone = s.save_alternative(None, closed_alt, now).await.unwrap();
    assert!(matches!(
        s.refer(refer(f.id, gone.id)).await,
        Err(StoreError::NotFound("alternative"))
    ));
    let referred = s.refer(refer(f.id, fixit.id)).await.unwrap();
    assert_eq!(
        (referred.status, referred.outcome),
        (Status::Closed, Some(Outcome::Referred))
    );
    let told = s.messages(f.id).await.unwrap().pop().unwrap().body;
    assert!(
        told.contains("FixIt Repairs") && told.contains("https://fixit.example"),
        "{told}"
    );
    assert!(
        told.contains("We sell kettles but we do not repair them."),
        "{told}"
    );
    let _ = grocer;

    // Agent protection: abusive words are masked; revealing is recorded.
    let g = new("Refund NOW", &[]).await;
    let mut rude = message(
        g.id,
        MessageKind::Inbound,
        Actor::Customer(ada.id),
        "You are all useless idiots.",
        now,
    );
    rude.demeanor = Some(Demeanor::Abusive);
    let (m, g2) = s.add_message(rude).await.unwrap();
    assert!(m.masked);
    assert_eq!(g2.rung, "manager", "abuse moves the case to the top rung");
    assert!(
        s.messages(g.id)
            .await
            .unwrap()
            .iter()
            .any(|x| x.id == m.id && x.masked)
    );
    let shown = s.reveal_message(m.id, by_jo, now).await.unwrap();
    assert_eq!(shown.body, "You are all useless idiots.");
    assert!(event_names(&s.events(g.id).await.unwrap()).contains(&"message_revealed"));
    // An agent marking a message abusive masks it too; a correction unmasks it.
    let first = s.messages(g.id).await.unwrap()[0].id;
    s.set_demeanor(first, Demeanor::Abusive, by_jo, now)
        .await
        .unwrap();
    assert!(s.messages(g.id).await.unwrap()[0].masked);
    s.set_demeanor(first, Demeanor::Angry, by_jo, now)
        .await
        .unwrap();
    assert!(!s.messages(g.id).await.unwrap()[0].masked);
    assert_eq!(s.abuse_count(ada.id).await.unwrap(), 1);

    // Hand-off: the holder passes it on with no reason; nobody else can.
    let h = new("Rude again", &[]).await;
    let holder = h.assignee_id.unwrap();
    let other = if holder == jo.id { eve.id } else { jo.id };
    assert!(matches!(
        s.hand_off(h.id, other, now).await,
        Err(StoreError::Conflict(_))
    ));
    let passed = s.hand_off(h.id, holder, now).await.unwrap();
    assert_ne!(passed.assignee_id, Some(holder));
    assert!(event_names(&s.events(h.id).await.unwrap()).contains(&"handed_off"));

    // Supervision: new tickets start with a manager; the customer still gets through.
    let sup = s.set_supervised(ada.id, true, by_mia, now).await.unwrap();
    assert!(sup.supervised);
    let i = new("Another question", &[]).await;
    assert_eq!((i.rung.as_str(), i.assignee_id), ("manager", Some(mia.id)));
    s.set_supervised(ada.id, false, by_mia, now).await.unwrap();
    assert_eq!(new("And another", &[]).await.rung, "frontline");

    // Surveys: one per ended ticket, answered by token, editable for a week.
    assert!(
        s.open_survey(a.id, "hash-a", "How did we do? https://desk/survey/x", now)
            .await
            .unwrap()
    );
    assert!(
        !s.open_survey(a.id, "hash-a2", "again", now).await.unwrap(),
        "one survey per ticket"
    );
    assert!(
        !s.open_survey(e.id, "hash-e", "not ended", now)
            .await
            .unwrap()
    );
    let invite = s.messages(a.id).await.unwrap().pop().unwrap();
    assert_eq!(
        (invite.kind, invite.author),
        (MessageKind::Reply, Actor::System)
    );
    let survey = s.survey_by_token("hash-a").await.unwrap().unwrap();
    assert_eq!((survey.ticket_id, survey.answered_at), (a.id, None));
    assert!(s.survey_by_token("nope").await.unwrap().is_none());
    let answer = SurveyAnswer::parse(2, 5, 4, 8).unwrap();
    let done = s
        .answer_survey("hash-a", answer, Some("Nice people.".into()), now)
        .await
        .unwrap();
    assert_eq!((done.answer, done.answered_at), (Some(answer), Some(now)));
    let changed = SurveyAnswer::parse(3, 5, 4, 9).unwrap();
    let later = Millis(now.0 + 6 * 24 * 3_600_000);
    assert_eq!(
        s.answer_survey("hash-a", changed, None, later)
            .await
            .unwrap()
            .answered_at,
        Some(now)
    );
    let too_late = Millis(now.0 + 8 * 24 * 3_600_000);
    assert!(matches!(
        s.answer_survey("hash-a", answer, None, too_late).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(event_names(&s.events(a.id).await.unwrap()).contains(&"survey_answered"));
}

/// A known population of 1,000 ended tickets, written directly, and every figure of the
/// report checked exactly (and with a team filter).
async fn story_report(db: &TestDb) {
    let s = &db.store;
    let team = s.create_team("Billing").await.unwrap();
    let t0 = at("2026-10-01T00:00:00Z").0;
    let mut sql = String::from("INSERT INTO customers (id, email, created_at) VALUES ");
    sql.push_str(
        &(1..=1000)
            .map(|c| format!("({c}, 'c{c}@example.com', {t0})"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    db.raw_execute(&sql).await.unwrap();
    let mut rows = Vec::new();
    for i in 0..1000i64 {
        let ended = t0 + 86_400_000 + i * 60_000;
        let created = ended - 3_600_000;
        let outcome = match i {
            0..20 => "inconsolable",
            20..60 => "referred",
            60..160 => "explained",
            _ => "resolved",
        };
        let first = match i % 10 {
            0 => "'angry'",
            1 => "'frustrated'",
            _ => "'neutral'",
        };
        let last = if i % 40 <= 1 { "'pleased'" } else { first };
        rows.push(format!(
            "({id}, {number}, 'T{i}', 'closed', 'normal', 'frontline', {customer}, '[]', {created}, {ended}, {outcome}, {team_id}, {first}, {last}, {transfers}, {ping}, {breached}, {fr}, {ended})",
            id = i + 1,
            number = 2000 + i,
            customer = i + 1,
            outcome = format_args!("'{outcome}'"),
            team_id = if i < 500 { team.id.0.to_string() } else { "NULL".into() },
            transfers = if i % 4 == 0 { 1 } else { 0 },
            ping = if i % 100 == 0 { "TRUE" } else { "FALSE" },
            breached = if i % 25 == 0 { 1 } else { 0 },
            fr = created + 600_000,
        ));
    }
    // A return visit after a referral, for ten of the forty referred customers.
    for i in 20..30i64 {
        rows.push(format!(
            "({id}, {number}, 'Back again', 'open', 'normal', 'frontline', {customer}, '[]', {created}, NULL, NULL, NULL, NULL, NULL, 0, FALSE, 0, NULL, {created})",
            id = 2000 + i,
            number = 5000 + i,
            customer = i + 1,
            created = t0 + 40 * 86_400_000,
        ));
    }
    db.raw_execute(&format!(
        "INSERT INTO tickets (id, number, subject, status, priority, rung, customer_id, tags, created_at, ended_at, outcome, team_id, first_demeanor, last_demeanor, transfers, ping_pong, sla_breached, first_response_at, updated_at) VALUES {}",
        rows.join(", ")
    ))
    .await
    .unwrap();
    let in_range = t0 + 86_400_000;
    let mut esc = Vec::new();
    for k in 0..45i64 {
        let (dir, to, reason) = match k {
            0..30 => ("up", "experienced", "'agent_request'"),
            30..40 => ("up", "manager", "'abuse'"),
            _ => ("down", "frontline", "NULL"),
        };
        esc.push(format!(
            "({}, '{dir}', 'frontline', '{to}', {reason}, {})",
            k + 1,
            in_range + k
        ));
    }
    esc.push(format!(
        "(1, 'up', 'frontline', 'experienced', 'sla_breach', {})",
        t0 - 1
    ));
    db.raw_execute(&format!(
        "INSERT INTO escalations (ticket_id, direction, from_rung, to_rung, reason, at) VALUES {}",
        esc.join(", ")
    ))
    .await
    .unwrap();
    db.raw_execute(&format!("INSERT INTO alternatives (id, name, serves, contact, notes, active, created_at) VALUES (1, 'Elsewhere', '[]', 'x', '', TRUE, {t0})"))
        .await
        .unwrap();
    let refs: Vec<String> = (20..60i64)
        .map(|i| {
            format!(
                "({}, {}, 1, {})",
                i + 1,
                i + 1,
                t0 + 86_400_000 + i * 60_000
            )
        })
        .collect();
    db.raw_execute(&format!(
        "INSERT INTO referrals (ticket_id, customer_id, alternative_id, at) VALUES {}",
        refs.join(", ")
    ))
    .await
    .unwrap();
    // Surveys on every tenth ticket from 5: product 1–5, pleasantness 5, competence 4,
    // recommend cycling 0..=10.
    let mut surveys = Vec::new();
    let (mut product, mut promoters, mut detractors, mut answers) = (0, 0, 0, 0);
    for (n, i) in (5..1000i64).step_by(10).enumerate() {
        let n = n as i64;
        let (p, r) = (1 + n % 5, n % 11);
        product += p;
        answers += 1;
        promoters += i64::from(r >= 9);
        detractors += i64::from(r <= 6);
        surveys.push(format!("({}, 'tok{i}', {t0}, {t0}, {p}, 5, 4, {r})", i + 1));
    }
    db.raw_execute(&format!("INSERT INTO surveys (ticket_id, token_hash, created_at, answered_at, product, pleasantness, competence, recommend) VALUES {}", surveys.join(", ")))
        .await
        .unwrap();

    let whole = ReportQuery {
        from: Millis(t0),
        to: Millis(t0 + 30 * 86_400_000),
        team: None,
    };
    let r = s.report_summary(&whole).await.unwrap();
    assert_eq!(r.ended, 1000);
    assert_eq!(r.inconsolable, 20, "2% of 1,000");
    assert_eq!(
        r.outcomes,
        vec![
            ("explained".into(), 100),
            ("inconsolable".into(), 20),
            ("referred".into(), 40),
            ("resolved".into(), 840)
        ]
    );
    assert_eq!((r.started_negative, r.recovered), (200, 50));
    assert_eq!(
        r.escalations,
        vec![
            ("experienced".into(), "agent_request".into(), 30),
            ("manager".into(), "abuse".into(), 10)
        ]
    );
    assert_eq!((r.transfers, r.ping_pong), (250, 10));
    assert_eq!((r.referrals, r.returned_after_referral), (40, 10));
    assert_eq!(
        (
            r.survey_answers,
            r.product_sum,
            r.pleasantness_sum,
            r.competence_sum
        ),
        (answers, product, 5 * answers, 4 * answers)
    );
    assert_eq!(
        (r.survey_answers, r.promoters, r.detractors),
        (100, promoters, detractors)
    );
    assert_eq!(
        (r.first_responses, r.first_response_ms_sum),
        (1000, 1000 * 600_000)
    );
    assert_eq!(r.resolution_ms_sum, 1000 * 3_600_000);
    assert_eq!(r.sla_met, 960);
    // The team's half, and an empty range.
    let billing = s
        .report_summary(&ReportQuery {
            team: Some(team.id),
            ..whole
        })
        .await
        .unwrap();
    assert_eq!(
        (billing.ended, billing.inconsolable, billing.transfers),
        (500, 20, 125)
    );
    let none = s
        .report_summary(&ReportQuery {
            from: Millis(t0 + 31 * 86_400_000),
            to: Millis(t0 + 32 * 86_400_000),
            team: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (none.ended, none.referrals, none.escalations.len()),
        (0, 0, 0)
    );

    // Whole days come from the daily counts, partial days from the tickets: ranges that
    // cut through the day the tickets ended on add up, whichever way they are cut.
    let day1 = t0 + 86_400_000;
    let range = |from: i64, to: i64| ReportQuery {
        from: Millis(from),
        to: Millis(to),
        team: None,
    };
    let head = s
        .report_summary(&range(t0, day1 + 500 * 60_000))
        .await
        .unwrap();
    let tail = s
        .report_summary(&range(day1 + 500 * 60_000, t0 + 30 * 86_400_000))
        .await
        .unwrap();
    assert_eq!((head.ended, tail.ended), (500, 500));
    assert_eq!(
        (
            head.transfers + tail.transfers,
            head.recovered + tail.recovered,
            head.resolution_ms_sum + tail.resolution_ms_sum
        ),
        (r.transfers, r.recovered, r.resolution_ms_sum)
    );
    assert_eq!(
        (
            head.survey_answers + tail.survey_answers,
            head.product_sum + tail.product_sum,
            head.promoters + tail.promoters
        ),
        (r.survey_answers, r.product_sum, r.promoters)
    );
    let inside = s
        .report_summary(&range(day1 + 100 * 60_000, t0 + 3 * 86_400_000))
        .await
        .unwrap();
    assert_eq!((inside.ended, inside.inconsolable), (900, 0));

    // The daily counts follow a ticket that is reopened, and one that ends again on
    // another day with another outcome, taking its survey along (ticket 995's: product
    // 5, recommend 0).
    let last = day1 + 995 * 60_000;
    db.raw_execute(&format!(
        "UPDATE tickets SET ended_at = NULL, outcome = NULL, status = 'open' WHERE ended_at = {last}"
    ))
    .await
    .unwrap();
    let reopened = s.report_summary(&whole).await.unwrap();
    assert_eq!(reopened.ended, 999);
    assert_eq!(reopened.outcomes[3], ("resolved".into(), 839));
    assert_eq!(
        (
            reopened.survey_answers,
            reopened.product_sum,
            reopened.detractors
        ),
        (r.survey_answers - 1, r.product_sum - 5, r.detractors - 1)
    );
    let later = t0 + 5 * 86_400_000;
    db.raw_execute(&format!(
        "UPDATE tickets SET ended_at = {later}, outcome = 'explained', status = 'closed' WHERE ended_at IS NULL AND created_at = {}",
        last - 3_600_000
    ))
    .await
    .unwrap();
    let again = s.report_summary(&whole).await.unwrap();
    assert_eq!(
        (
            again.ended,
            again.outcomes[0].clone(),
            again.outcomes[3].clone()
        ),
        (1000, ("explained".into(), 101), ("resolved".into(), 839))
    );
    assert_eq!(
        again.resolution_ms_sum,
        r.resolution_ms_sum - 3_600_000 + (later - (last - 3_600_000))
    );
    assert_eq!(
        (again.survey_answers, again.product_sum, again.detractors),
        (r.survey_answers, r.product_sum, r.detractors)
    );
    let day5 = s
        .report_summary(&range(later - 1, later + 1))
        .await
        .unwrap();
    assert_eq!((day5.ended, day5.survey_answers), (1, 1));

    // Surveys answered, or changed, after their ticket ended count where it ended.
    db.raw_execute(&format!(
        "INSERT INTO surveys (ticket_id, token_hash, created_at) VALUES (1, 'tok-late', {t0})"
    ))
    .await
    .unwrap();
    assert_eq!(
        s.report_summary(&whole).await.unwrap().survey_answers,
        r.survey_answers,
        "not answered yet"
    );
    db.raw_execute(&format!(
        "UPDATE surveys SET answered_at = {later}, product = 4, pleasantness = 5, competence = 4, recommend = 10 WHERE ticket_id = 1"
    ))
    .await
    .unwrap();
    db.raw_execute("UPDATE surveys SET product = product + 1 WHERE ticket_id = 6")
        .await
        .unwrap();
    let answered = s.report_summary(&whole).await.unwrap();
    assert_eq!(
        (
            answered.survey_answers,
            answered.product_sum,
            answered.promoters
        ),
        (r.survey_answers + 1, r.product_sum + 5, r.promoters + 1)
    );
    let day1_report = s
        .report_summary(&range(day1, day1 + 86_400_000))
        .await
        .unwrap();
    assert_eq!(day1_report.survey_answers, r.survey_answers);
}

// ---------------------------------------------------------------------------------------
// 14. Email: received mail, Message-IDs, quarantine, the outbox
// ---------------------------------------------------------------------------------------

use recourse_store::{InboundOutcome, MailState, NewAttachment, NewInboundMail, OutboundResult};

fn inbound(raw: &str, now: Millis) -> NewInboundMail {
    NewInboundMail {
        source: "smtp".into(),
        envelope_from: Some("ada@acme.example".into()),
        envelope_to: vec!["help@desk.example".into()],
        raw: raw.as_bytes().to_vec(),
        sha256: format!("sha-{}", raw.len()),
        now,
    }
}

fn outcome(id: i64, state: MailState, now: Millis) -> InboundOutcome {
    InboundOutcome {
        id,
        state,
        message_id: None,
        from_address: None,
        subject: None,
        body_text: None,
        ticket_id: None,
        message_ref: None,
        reason: None,
        attachments: Vec::new(),
        bouncing: Vec::new(),
        team_id: None,
        now,
    }
}

async fn fill_mail(s: &Arc<Store>, ticket: TicketId, team: recourse_domain::TeamId) {
    s.save_mailbox(&email("help@desk.example"), Some(team), t(80))
        .await
        .unwrap();
    let id = s
        .store_inbound_mail(inbound("Subject: hi\r\n\r\nbinary \u{e9}", t(81)))
        .await
        .unwrap();
    assert!(
        s.claim_inbound_mail(id, t(81), 1000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.claim_message_id("m1@acme.example", id, t(81))
            .await
            .unwrap()
    );
    let mut done = outcome(id, MailState::Threaded, t(82));
    done.message_id = Some("m1@acme.example".into());
    done.ticket_id = Some(ticket);
    done.attachments = vec![NewAttachment {
        filename: Some("photo.jpg".into()),
        content_type: "image/jpeg".into(),
        sha256: "abc".into(),
        content: vec![0xff, 0xd8, 0x00, 0x01],
    }];
    done.bouncing = vec![("gone@example.com".into(), "5.1.1".into())];
    s.finish_inbound_mail(done).await.unwrap();

    // The IMAP cursor moves with the message it stores, once per UID and UIDVALIDITY.
    let account = "help@imap.example:993/INBOX";
    let at = |uid| recourse_store::ImapCursor {
        uidvalidity: 7,
        last_uid: uid,
    };
    assert!(s.imap_cursor(account).await.unwrap().is_none());
    let first = s.store_imap_mail(inbound("Subject: by imap\r\n\r\nx", t(83)), account, at(4));
    assert!(first.await.unwrap().is_some());
    let again = s.store_imap_mail(inbound("Subject: by imap\r\n\r\nx", t(83)), account, at(4));
    assert!(
        again.await.unwrap().is_none(),
        "a UID already taken stores nothing"
    );
    assert_eq!(s.imap_cursor(account).await.unwrap(), Some(at(4)));
    s.reset_imap_cursor(account, 8, t(84)).await.unwrap();
    let reset = s.imap_cursor(account).await.unwrap().unwrap();
    assert_eq!((reset.uidvalidity, reset.last_uid), (8, 0));
}

async fn story_mail(db: &TestDb) {
    let s = &db.store;
    let ada = customer(s, "ada@acme.example").await;
    let team = s.create_team("Mail").await.unwrap();

    // Mailboxes: saved, re-pointed, listed, removed.
    let mb = s
        .save_mailbox(&email("help@desk.example"), None, t(0))
        .await
        .unwrap();
    let again = s
        .save_mailbox(&email("help@desk.example"), Some(team.id), t(1))
        .await
        .unwrap();
    assert_eq!(mb.id, again.id);
    assert_eq!(s.mailboxes().await.unwrap()[0].team_id, Some(team.id));

    // A raw message (not valid UTF-8) comes back byte for byte; one worker claims it.
    let mut raw = inbound("x", t(2));
    raw.raw = vec![b'S', b':', 0xff, 0xfe, b'\r', b'\n'];
    let id = s.store_inbound_mail(raw.clone()).await.unwrap();
    assert_eq!(s.due_inbound_mail(t(3), 10).await.unwrap(), vec![id]);
    let claimed = s
        .claim_inbound_mail(id, t(3), 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.raw, raw.raw);
    assert_eq!(claimed.envelope_to, vec!["help@desk.example".to_owned()]);
    assert!(
        s.claim_inbound_mail(id, t(4), 10_000)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.due_inbound_mail(t(4), 10).await.unwrap().is_empty());
    // The lease runs out (the worker died): it is due again.
    assert_eq!(s.due_inbound_mail(t(14), 10).await.unwrap(), vec![id]);
    assert!(
        s.claim_inbound_mail(id, t(14), 10_000)
            .await
            .unwrap()
            .is_some()
    );

    // Message-IDs: the first message takes one, a second delivery cannot; the owner
    // may claim it again (a retry after a crash).
    assert!(s.claim_message_id("a@x", id, t(5)).await.unwrap());
    assert!(s.claim_message_id("a@x", id, t(5)).await.unwrap());
    let other = s.store_inbound_mail(inbound("y", t(5))).await.unwrap();
    assert!(!s.claim_message_id("a@x", other, t(5)).await.unwrap());

    // Handled: threaded to a ticket; the ID now finds the ticket, the team is set.
    let tk = ticket(s, ada.id, "By mail", "Hello", t(6)).await;
    let mut done = outcome(id, MailState::Ticket, t(7));
    done.message_id = Some("a@x".into());
    done.ticket_id = Some(tk.id);
    done.team_id = Some(team.id);
    done.subject = Some("By mail".into());
    done.attachments = vec![NewAttachment {
        filename: None,
        content_type: "application/pdf".into(),
        sha256: "h".into(),
        content: vec![1, 2, 3],
    }];
    s.finish_inbound_mail(done).await.unwrap();
    assert_eq!(
        s.thread_of(&["zzz".into(), "a@x".into()]).await.unwrap(),
        Some(tk.id)
    );
    assert_eq!(s.thread_of(&["zzz".into()]).await.unwrap(), None);
    assert_eq!(
        s.ticket_by_number(tk.number).await.unwrap().unwrap().id,
        tk.id
    );
    let files = s.attachments(tk.id).await.unwrap();
    assert_eq!(
        (files[0].size, files[0].content_type.as_str()),
        (3, "application/pdf")
    );
    assert!(s.due_inbound_mail(t(2000), 10).await.unwrap() == vec![other]);

    // Quarantine: listed with its reason, handed back, due again.
    let mut q = outcome(other, MailState::Quarantined, t(8));
    q.reason = Some("the message cannot be read".into());
    s.finish_inbound_mail(q).await.unwrap();
    let listed = s
        .inbound_mail(Some(MailState::Quarantined), None, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].reason.as_deref(),
        Some("the message cannot be read")
    );
    assert_eq!(s.inbound_mail_raw(other).await.unwrap(), b"y");
    s.requeue_inbound_mail(other).await.unwrap();
    assert!(matches!(
        s.requeue_inbound_mail(other).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.due_inbound_mail(t(9), 10).await.unwrap(), vec![other]);

    // The outbox: a reply queues mail in its own transaction; an agent's is not automatic.
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    s.add_message(message(
        tk.id,
        MessageKind::Reply,
        Actor::Agent(grace.id),
        "On its way.",
        t(10),
    ))
    .await
    .unwrap();
    s.add_message(message(
        tk.id,
        MessageKind::Note,
        Actor::Agent(grace.id),
        "internal",
        t(10),
    ))
    .await
    .unwrap();
    let queued = s.outbound_mail(tk.id).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert!(!queued[0].automatic);
    let claimed = s.claim_outbound_mail(t(11), 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let m = &claimed[0];
    assert_eq!(
        (m.to_address.as_str(), m.attempt, m.ticket_number),
        ("ada@acme.example", 1, tk.number)
    );
    assert_eq!(m.body, "On its way.");
    assert_eq!(m.last_inbound.as_deref(), Some("a@x"));
    assert!(
        s.claim_outbound_mail(t(12), 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Fails: retried after a backoff, not before.
    s.finish_outbound_mail(m.id, OutboundResult::Failed("relay down".into()), t(13))
        .await
        .unwrap();
    assert!(
        s.claim_outbound_mail(t(14), 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retry = s.claim_outbound_mail(t(24), 60_000, 10).await.unwrap();
    assert_eq!(retry[0].attempt, 2);
    s.finish_outbound_mail(m.id, OutboundResult::Sent("ours@desk".into()), t(20_000))
        .await
        .unwrap();
    let sent = &s.outbound_mail(tk.id).await.unwrap()[0];
    assert_eq!(
        (sent.state.as_str(), sent.message_id.as_deref()),
        ("sent", Some("ours@desk"))
    );
    // Our Message-ID now threads the customer's answer.
    assert_eq!(
        s.thread_of(&["ours@desk".into()]).await.unwrap(),
        Some(tk.id)
    );

    // Bounces mark the address; automatic mail (the desk's own) is flagged as such.
    let bounce = s
        .store_inbound_mail(inbound("bounce", t(21_000)))
        .await
        .unwrap();
    let mut b = outcome(bounce, MailState::Bounce, t(21_000));
    b.bouncing = vec![("ADA@acme.example".into(), "5.1.1 no such user".into())];
    s.finish_inbound_mail(b).await.unwrap();
    assert_eq!(
        s.bouncing_since("ada@acme.example").await.unwrap(),
        Some(t(21_000))
    );
    s.add_message(message(
        tk.id,
        MessageKind::Reply,
        Actor::System,
        "Automatic.",
        t(22_000),
    ))
    .await
    .unwrap();
    let auto = s.claim_outbound_mail(t(22_000), 60_000, 10).await.unwrap();
    assert!(auto[0].automatic && auto[0].bouncing);
    s.finish_outbound_mail(
        auto[0].id,
        OutboundResult::Suppressed("bounces".into()),
        t(22_001),
    )
    .await
    .unwrap();
    assert_eq!(s.outbound_mail(tk.id).await.unwrap()[1].state, "suppressed");
}

// ---------------------------------------------------------------------------------------
// SQLite group commit
// ---------------------------------------------------------------------------------------

/// Concurrent writes share commits; a write that fails in the middle of a shared batch
/// leaves nothing behind and takes no other write with it; what was acknowledged is in
/// the file when it is opened again.
#[tokio::test]
async fn sqlite_group_commit_shares_commits_and_isolates_failures() {
    let dir = std::env::temp_dir().join(format!("recourse-group-{}", unique_suffix()));
    let file = dir.join("recourse.db");
    let sqlite = Arc::new(Store::sqlite(&file).await.unwrap());
    let s: Arc<Store> = sqlite.clone();
    let ada = customer(&s, "ada@acme.example").await;
    let fixed = ticket(&s, ada.id, "Fixed", "stays as it is", t(1)).await;
    let before = sqlite
        .group_commit_stats()
        .expect("SQLite groups its commits");

    let mut tasks = Vec::new();
    for i in 0..64 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            if i % 4 == 0 {
                // Refused inside its transaction, after reading the ticket.
                let change = TicketChange {
                    outcome: Some(Outcome::Explained),
                    ..change()
                };
                s.update_ticket(fixed.id, change, Actor::Customer(ada.id), t(2))
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            } else {
                s.create_ticket(new_ticket(
                    ada.id,
                    &format!("Grouped {i}"),
                    "hello",
                    &[],
                    t(2),
                ))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
            }
        }));
    }
    let mut refused = 0;
    for task in tasks {
        if task.await.unwrap().is_err() {
            refused += 1;
        }
    }
    assert_eq!(refused, 16);
    let after = sqlite
        .group_commit_stats()
        .expect("SQLite groups its commits");
    let transactions = after.transactions - before.transactions;
    let batches = after.batches - before.batches;
    assert_eq!(
        transactions, 48,
        "only the successful writes were committed"
    );
    assert!(
        batches < transactions,
        "64 writers at once shared commits: {batches} commits for {transactions} writes"
    );
    assert_eq!(s.get_ticket(fixed.id).await.unwrap().status, fixed.status);
    assert_eq!(s.count_rows("tickets").await.unwrap(), 49);

    // Reopened from the file: every acknowledged ticket is there.
    drop(s);
    drop(sqlite);
    let reopened = Store::sqlite(&file).await.unwrap();
    assert_eq!(reopened.count_rows("tickets").await.unwrap(), 49);
    std::fs::remove_dir_all(dir).ok();
}

/// The benchmarks' bulk path: tickets with their messages, numbered after what exists,
/// searchable like any other.
async fn story_bulk_seed(db: &TestDb) {
    let s = &db.store;
    let ada = customer(s, "ada@acme.example").await;
    let first = ticket(s, ada.id, "Made by hand", "hello", t(1)).await;
    let seeded = s
        .seed_tickets(&recourse_store::SeedSpec {
            count: 40,
            customer_id: ada.id,
            tickets_per_customer: 0,
            created_at: t(10),
            due: 0,
            rung: "frontline".into(),
            ended: false,
            messages: 3,
        })
        .await
        .unwrap();
    assert_eq!(seeded, 40);
    assert_eq!(s.count_rows("tickets").await.unwrap(), 41);
    assert_eq!(s.count_rows("messages").await.unwrap(), 1 + 40 * 3);
    let hits = s.search(&search_for("Seeded", None)).await.unwrap();
    assert!(!hits.is_empty(), "seeded tickets are searchable");
    let numbers: BTreeSet<i64> = hits.iter().map(|h| h.ticket.number).collect();
    assert!(numbers.iter().all(|n| *n > first.number), "{numbers:?}");

    // Spread over customers of their own: 10 tickets, 4 each, make 3 new customers.
    let customers_before = s.count_rows("customers").await.unwrap();
    s.seed_tickets(&recourse_store::SeedSpec {
        count: 10,
        customer_id: ada.id,
        tickets_per_customer: 4,
        created_at: t(20),
        due: 0,
        rung: "frontline".into(),
        ended: false,
        messages: 1,
    })
    .await
    .unwrap();
    assert_eq!(
        s.count_rows("customers").await.unwrap(),
        customers_before + 3
    );
    let spread = s.list_tickets(&all(100)).await.unwrap();
    let mut per_customer = std::collections::BTreeMap::<CustomerId, usize>::new();
    for t in spread.iter().take(10) {
        *per_customer.entry(t.customer_id).or_default() += 1;
    }
    assert_eq!(
        per_customer.values().copied().collect::<Vec<_>>(),
        [4, 4, 2]
    );
    assert!(!per_customer.contains_key(&ada.id));
}

/// Writes that commit, interleaved with writes that give up half-way (their transaction
/// dropped without commit), all at once: every committed write is kept, none of the
/// abandoned ones.
#[tokio::test]
async fn sqlite_group_commit_keeps_commits_among_abandoned_writes() {
    let db = TestDb::sqlite().await;
    let s = db.store.clone();
    let mut known = Vec::new();
    for i in 0..40 {
        known.push(customer(&s, &format!("known{i}@acme.example")).await);
    }
    let mut tasks = Vec::new();
    for round in 0..5 {
        for i in 0..80 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                // Even: a known customer (commits); odd: unknown (returns before writing).
                let address = if i % 2 == 0 {
                    format!("known{}@acme.example", (i / 2) % 40)
                } else {
                    format!("stranger{round}-{i}@acme.example")
                };
                s.request_portal_link(&email(&address), 1000, 3_600_000, t(round))
                    .await
                    .unwrap()
            }));
        }
    }
    let mut queued = 0;
    for task in tasks {
        if task.await.unwrap() {
            queued += 1;
        }
    }
    assert_eq!(queued, 200);
    assert_eq!(s.count_rows("portal_links").await.unwrap(), 200);
    db.cleanup().await;
}
