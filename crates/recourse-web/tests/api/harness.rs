//! The test server and its fixtures: each test starts the real app on 127.0.0.1 port 0
//! over a fresh database (SQLite, or PostgreSQL when `RECOURSE_TEST_PG_URL` is set) and
//! talks HTTP to it, through the typed client in `client.rs` or, for input that is
//! meant to be malformed, through `call`/`raw`.

pub use std::sync::Arc;

pub use recourse_domain::{EmailAddress, Experience, Millis, PersonName, Role};
pub use recourse_store::{NewAgent, NewApiToken, Principal, Store};
pub use recourse_web::{AppState, WebConfig, auth};
pub use reqwest::StatusCode;
pub use serde_json::{Value, json};

pub use crate::client::*;

/// Generates a SQLite and a PostgreSQL test for each named `async fn(TestApp)` of the
/// module it is used in; the PostgreSQL one is skipped (outside CI) without a database.
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { if let Some(app) = crate::harness::TestApp::start(crate::harness::Db::Sqlite).await { super::$name(app).await } })+
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { if let Some(app) = crate::harness::TestApp::start(crate::harness::Db::Postgres).await { super::$name(app).await } })+
        }
    };
}
pub(crate) use on_both;

pub struct TestApp {
    pub base: String,
    pub store: Arc<Store>,
    pub http: reqwest::Client,
    _dir: Option<TempDir>,
}

pub struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        t % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub async fn open_store(db: Db) -> Option<(Arc<Store>, Option<TempDir>)> {
    match db {
        Db::Sqlite => {
            let dir = std::env::temp_dir().join(format!("recourse-web-test-{}", unique()));
            let store =
                recourse_store::open(&format!("sqlite://{}", dir.join("recourse.db").display()))
                    .await
                    .unwrap();
            Some((store, Some(TempDir(dir))))
        }
        Db::Postgres => {
            let Ok(url) = std::env::var("RECOURSE_TEST_PG_URL") else {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI must set RECOURSE_TEST_PG_URL"
                );
                eprintln!("RECOURSE_TEST_PG_URL not set: skipping the PostgreSQL run");
                return None;
            };
            use sqlx::Connection;
            let name = format!("recourse_web_{}", unique());
            let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
            // Copy the migrated template (see `pg_template`); fresh migrations in the
            // rare case that the copy is refused.
            let copied = match pg_template(&url) {
                Some(template) => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE {name} TEMPLATE {template}"
                )))
                .execute(&mut admin)
                .await
                .is_ok(),
                None => false,
            };
            if !copied {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .unwrap();
            }
            let (prefix, _) = url.rsplit_once('/').unwrap();
            Some((
                recourse_store::open(&format!("{prefix}/{name}"))
                    .await
                    .unwrap(),
                None,
            ))
        }
    }
}

/// A PostgreSQL database migrated once per test binary, for each test's database to be
/// copied from (`CREATE DATABASE … TEMPLATE`), so that hundreds of tests do not each run
/// every migration. Built on a thread of its own with its own runtime, whose end closes
/// the store's connections; any left are ended, since a template must have none.
fn pg_template(url: &str) -> Option<&'static str> {
    static TEMPLATE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let url = url.to_owned();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    use sqlx::Connection;
                    let name = format!("recourse_web_template_{}", unique());
                    let mut admin = sqlx::PgConnection::connect(&url).await.ok()?;
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut admin)
                        .await
                        .ok()?;
                    let (prefix, _) = url.rsplit_once('/').unwrap();
                    let store = recourse_store::open(&format!("{prefix}/{name}"))
                        .await
                        .ok()?;
                    drop(store);
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                    )))
                    .execute(&mut admin)
                    .await
                    .ok()?;
                    Some(name)
                })
            })
            .join()
            .ok()
            .flatten()
        })
        .as_deref()
}

impl TestApp {
    pub async fn start(db: Db) -> Option<TestApp> {
        Self::start_with(db, WebConfig::default()).await
    }

    pub async fn start_with(db: Db, config: WebConfig) -> Option<TestApp> {
        let (store, dir) = open_store(db).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState::new(store.clone(), config);
        tokio::spawn(recourse_web::serve(listener, state, std::future::pending()));
        let http = reqwest::Client::builder().build().unwrap();
        Some(TestApp {
            base,
            store,
            http,
            _dir: dir,
        })
    }

    /// An agent straight in the store, with a full-scope token.
    pub async fn agent(&self, email: &str, role: Role, experience: Experience) -> (i64, String) {
        let agent = self
            .store
            .create_agent(NewAgent {
                email: EmailAddress::parse(email).unwrap(),
                name: PersonName::parse("Test Agent").unwrap(),
                role,
                experience,
                skills: vec![],
                team_id: None,
                capacity: 20,
                password_hash: password_hash(),
                now: Millis(1),
            })
            .await
            .unwrap();
        let token = self.token(Principal::Agent(agent.id), "full").await;
        (agent.id.0, token)
    }

    pub async fn token(&self, principal: Principal, scope: &str) -> String {
        let secret = auth::new_secret("rct");
        self.store
            .create_api_token(NewApiToken {
                principal,
                name: "test".into(),
                token_hash: auth::sha256_hex(&secret),
                scope: scope.into(),
                now: Millis(1),
            })
            .await
            .unwrap();
        secret
    }

    pub async fn customer_token(&self, email: &str) -> (i64, String) {
        let c = self
            .store
            .upsert_customer(&EmailAddress::parse(email).unwrap(), None, Millis(1))
            .await
            .unwrap();
        (c.id.0, self.token(Principal::Customer(c.id), "full").await)
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let resp = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}
impl TestApp {
    /// The typed client acting with `token` (empty: no credential).
    pub fn client(&self, token: &str) -> Client<'_> {
        Client {
            app: self,
            token: token.to_owned(),
        }
    }

    /// A client that does not follow redirects, so each 303 can be looked at.
    pub fn no_redirect(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Signs in by password through the API: the session cookie and its CSRF token.
    pub async fn sign_in(&self, email: &str) -> (String, String) {
        let resp = self
            .no_redirect()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": email, "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let cookie = resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let csrf = resp.json::<Value>().await.unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .to_owned();
        (cookie, csrf)
    }

    /// A cookie for a session of `principal`, made straight in the store (how the console
    /// and the portal sign people in is tested elsewhere).
    pub async fn session_cookie(&self, principal: Principal) -> String {
        let secret = auth::new_secret("rcs");
        self.store
            .create_session(recourse_store::NewSession {
                id_hash: auth::sha256_hex(&secret),
                principal,
                csrf_token: auth::new_secret("csrf"),
                now: recourse_web::now(),
                expires_at: Millis(recourse_web::now().0 + 3_600_000),
            })
            .await
            .unwrap();
        format!("{}={secret}", auth::SESSION_COOKIE)
    }

    /// Opens a ticket as `token` (a customer's, or an agent's for `c@example.com`) and
    /// returns its id.
    pub async fn open_ticket(&self, token: &str, ticket: &CreateTicket) -> i64 {
        let (status, t) = self.client(token).create_ticket(ticket).await;
        assert_eq!(status, StatusCode::CREATED, "{t}");
        t["id"].as_i64().unwrap()
    }
}

/// The hash of every test agent's password, "correct horse battery", computed once per
/// test binary: hashing is slow on purpose, and hundreds of tests make agents.
pub fn password_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password("correct horse battery").unwrap())
        .clone()
}

/// The error code of an answer, if it is an error.
pub fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

/// The ids of a list of tickets (`{"tickets": [...]}`).
pub fn ticket_ids(list: &Value) -> Vec<i64> {
    list["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

/// The event types of a ticket's history, oldest first.
pub fn history_kinds(detail: &Value) -> Vec<&str> {
    detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect()
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
