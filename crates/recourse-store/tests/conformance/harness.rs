//! The harness: one fresh, migrated database per test, on each backend, and the
//! fixtures several areas share.

use crate::usecases::UseCases;
use recourse_domain::recovery::{CantHelp, CantHelpReason};
use recourse_domain::{
    Actor, Agent, Body, Channel, Customer, CustomerId, EmailAddress, EscalationReason, Experience,
    MessageKind, Millis, Need, PersonName, Priority, Role, Subject, Tag, Ticket, TicketId,
};
use recourse_store::{
    Backend, CantHelpRequest, EscalationRequest, NewAgent, NewMessage, NewTicket, SearchQuery,
    Store, TicketChange, TicketFilter,
};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// The store every test talks to. This alias and [`shared`] are the only places that say
/// what a store is, so changing its type touches the harness alone.
pub type S = Arc<Store>;

/// Puts a freshly opened store of either backend behind [`S`].
pub fn shared(store: Store) -> S {
    Arc::new(store)
}

/// [`S`] for a SQLite store the test also holds as itself (to read its group-commit
/// statistics).
pub fn shared_sqlite(store: &Arc<Store>) -> S {
    store.clone()
}

/// Opens (creating and migrating) the SQLite store in `file`, for what only it has (its
/// group-commit statistics). Tests otherwise use [`TestDb`].
pub async fn open_sqlite(file: &Path) -> Arc<Store> {
    Arc::new(Store::sqlite(file).await.expect("open SQLite store"))
}

/// Where a test database lives, so a story can reach it without going through the store.
pub enum Location {
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
pub struct TestDb {
    pub store: S,
    pub location: Location,
}

pub fn unique_suffix() -> String {
    format!("{}_{:016x}", std::process::id(), rand::random::<u64>())
}

/// `url` with its database name replaced by `db` (query string kept).
pub fn with_database(url: &str, db: &str) -> String {
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
pub fn pg_admin_url() -> Option<String> {
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

/// The database every PostgreSQL test database is copied from: created and migrated
/// once per test run (process), then left without connections so it can be copied.
static PG_TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn pg_template(admin_url: &str) -> String {
    PG_TEMPLATE
        .get_or_init(|| async {
            let name = format!("recourse_template_{}", unique_suffix());
            let mut admin = PgConnection::connect(admin_url)
                .await
                .expect("connect to RECOURSE_TEST_PG_URL");
            sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .expect("create the template database");
            admin.close().await.ok();
            let store = Store::postgres(&with_database(admin_url, &name))
                .await
                .expect("migrate the template database");
            store.close().await;
            name
        })
        .await
        .clone()
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("recourse-conformance-{}", unique_suffix()));
        let file = dir.join("recourse.db");
        let store = Store::sqlite(&file).await.expect("open SQLite store");
        assert_eq!(store.backend(), Backend::Sqlite);
        TestDb {
            store: shared(store),
            location: Location::Sqlite { dir, file },
        }
    }

    /// `None` when PostgreSQL is not configured (and we are not under CI).
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = pg_admin_url()?;
        let name = format!("recourse_test_{}", unique_suffix());
        let template = pg_template(&admin_url).await;
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to RECOURSE_TEST_PG_URL");
        // A copy of a database migrated once per run: far quicker than migrating each.
        // Copies of one template may collide for a moment; try again shortly.
        let mut attempt = 0;
        loop {
            let created = sqlx::raw_sql(AssertSqlSafe(format!(
                "CREATE DATABASE {name} TEMPLATE {template}"
            )))
            .execute(&mut admin)
            .await;
            match created {
                Ok(_) => break,
                Err(e) if attempt < 20 => {
                    attempt += 1;
                    eprintln!("creating {name} from {template} (attempt {attempt}): {e}");
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        admin.close().await.ok();
        eprintln!("PostgreSQL test database: {name}");
        let url = with_database(&admin_url, &name);
        let store = Store::postgres(&url).await.expect("open PostgreSQL store");
        assert_eq!(store.backend(), Backend::Postgres);
        Some(TestDb {
            store: shared(store),
            location: Location::Postgres {
                admin_url,
                name,
                url,
            },
        })
    }

    /// Removes the database. Only called once a story passed, so a failing story's
    /// database stays behind for inspection (its name is in the test output).
    pub async fn cleanup(self) {
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
    pub async fn raw_execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
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

/// Makes two tests out of each named `async fn(&TestDb)` of the calling module: one on a
/// fresh SQLite file (`<module>::sqlite::<name>`) and one on a fresh PostgreSQL database
/// (`<module>::postgres::<name>`; skipped without `RECOURSE_TEST_PG_URL` outside CI).
/// A test's database is removed only when it passes, so a failure leaves it to inspect.
macro_rules! on_both {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let db = $crate::harness::TestDb::sqlite().await;
                    super::$test(&db).await;
                    db.cleanup().await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    let Some(db) = $crate::harness::TestDb::postgres().await else {
                        return;
                    };
                    super::$test(&db).await;
                    db.cleanup().await;
                }
            )+
        }
    };
}

/// Makes two tests out of each named `async fn(source: &TestDb, target: &TestDb)` of the
/// calling module: from SQLite to PostgreSQL (`<module>::sqlite_to_postgres::<name>`) and
/// back (`<module>::postgres_to_sqlite::<name>`). Both need PostgreSQL.
macro_rules! both_directions {
    ($($test:ident),+ $(,)?) => {
        mod sqlite_to_postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    let Some(target) = $crate::harness::TestDb::postgres().await else {
                        return;
                    };
                    let source = $crate::harness::TestDb::sqlite().await;
                    super::$test(&source, &target).await;
                    source.cleanup().await;
                    target.cleanup().await;
                }
            )+
        }

        mod postgres_to_sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let Some(source) = $crate::harness::TestDb::postgres().await else {
                        return;
                    };
                    let target = $crate::harness::TestDb::sqlite().await;
                    super::$test(&source, &target).await;
                    source.cleanup().await;
                    target.cleanup().await;
                }
            )+
        }
    };
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A fixed clock: `t(n)` is `n` seconds after an arbitrary start.
pub fn t(n: i64) -> Millis {
    Millis(1_750_000_000_000 + n * 1000)
}

pub fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

pub fn body(s: &str) -> Body {
    Body::parse(s).unwrap()
}

pub fn tags(items: &[&str]) -> Vec<Tag> {
    Tag::parse_all(items).unwrap()
}

pub async fn customer(store: &S, address: &str) -> Customer {
    store
        .upsert_customer(&email(address), None, t(0))
        .await
        .unwrap()
}

pub fn new_agent(address: &str, name: &str, now: Millis) -> NewAgent {
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

pub async fn agent(store: &S, address: &str, name: &str) -> Agent {
    store
        .create_agent(new_agent(address, name, t(0)))
        .await
        .unwrap()
}

pub fn new_ticket(
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

pub async fn ticket(
    store: &S,
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

pub fn message(
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

pub fn change() -> TicketChange {
    TicketChange::default()
}

pub fn all(limit: i64) -> TicketFilter {
    TicketFilter {
        limit,
        ..TicketFilter::default()
    }
}

pub fn search_for(text: &str, customer: Option<CustomerId>) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        customer,
        filter: all(100),
    }
}

pub async fn search_ids(store: &S, text: &str, customer: Option<CustomerId>) -> Vec<TicketId> {
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

pub fn set(ids: &[TicketId]) -> BTreeSet<TicketId> {
    ids.iter().copied().collect()
}

pub fn event_names(events: &[recourse_domain::Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.name()).collect()
}

// ---------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------
// Fixtures shared by several areas
// ---------------------------------------------------------------------------------------

/// A moment by its RFC 3339 name, for the business-hours stories.
pub fn at(s: &str) -> Millis {
    recourse_domain::sla::parse_instant(s).unwrap()
}

pub async fn staff(s: &S, address: &str, name: &str, role: Role, experience: Experience) -> Agent {
    let mut a = new_agent(address, name, t(0));
    a.role = role;
    a.experience = experience;
    a.skills = Vec::new();
    s.create_agent(a).await.unwrap()
}

pub fn escalation(
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

/// Ada's ticket about a broken kettle, with messy subject and tags, at `t(10)`.
pub async fn kettle(s: &S, ada: &Customer) -> Ticket {
    let mut new = new_ticket(
        ada.id,
        "  Kettle\r\n arrived   broken ",
        "The spout came off.\n\nPhotos attached.",
        &["Billing", "billing", " Late-Delivery "],
        t(10),
    );
    new.need = Need::parse("a kettle that pours").unwrap();
    s.create_ticket(new).await.unwrap()
}

pub fn explained(partial: Option<&str>) -> CantHelp {
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

pub fn cant(ticket: TicketId, c: CantHelp, by: Actor, now: Millis) -> CantHelpRequest {
    CantHelpRequest {
        ticket_id: ticket,
        cant_help: c,
        channel: Channel::Console,
        actor: by,
        now,
    }
}
