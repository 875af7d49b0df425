//! Who may do what: sessions and CSRF, roles and token scopes, rate limits, and the
//! authorisation matrix of every route against every kind of caller.

use crate::harness::*;

on_both!(
    signing_in_sets_an_http_only_lax_session_cookie,
    a_session_reads_who_is_signed_in,
    a_cookie_alone_cannot_write,
    a_wrong_csrf_token_cannot_write,
    a_session_with_its_csrf_token_writes_in_the_console_channel,
    signing_out_kills_the_session,
    each_sign_in_gets_a_new_session_id,
    a_wrong_password_reads_like_an_unknown_email,
    repeated_failed_sign_ins_are_limited_with_retry_after,
    agents_cannot_create_agents,
    admins_create_agents_without_showing_the_password,
    a_second_agent_with_the_same_email_is_a_conflict,
    read_only_tokens_can_read,
    read_only_tokens_cannot_write,
    an_agent_makes_a_token_that_works,
    agents_cannot_revoke_tokens,
    a_revoked_token_is_401_invalid_token,
    every_route_refuses_exactly_the_callers_it_should,
);

async fn manager_maria(app: &TestApp) {
    app.agent("maria@example.com", Role::Manager, Experience::Senior)
        .await;
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Maria signed in: the `Set-Cookie` header, the cookie, and the answer's body.
async fn maria_signed_in(app: &TestApp) -> (String, String, Value) {
    manager_maria(app).await;
    let resp = login(app, "maria@example.com", "correct horse battery").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie_header = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = cookie_header.split(';').next().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    (cookie_header, cookie, body)
}

fn with_cookie(app: &TestApp, cookie: &str, method: &str, path: &str) -> reqwest::RequestBuilder {
    app.http
        .request(method.parse().unwrap(), format!("{}{path}", app.base))
        .header("cookie", cookie)
}

fn a_ticket() -> CreateTicket {
    CreateTicket::for_customer("c@example.com", "s", "b")
}

/// Signing in gives a session cookie; writes with it need the CSRF token; signing out ends it.
async fn signing_in_sets_an_http_only_lax_session_cookie(app: TestApp) {
    let (cookie_header, _, body) = maria_signed_in(&app).await;
    assert!(
        cookie_header.contains("HttpOnly") && cookie_header.contains("SameSite=Lax"),
        "{cookie_header}"
    );
    assert!(body["csrf_token"].as_str().is_some());
    assert_eq!(body["agent"]["role"], "manager");
}

async fn a_session_reads_who_is_signed_in(app: TestApp) {
    let (_, cookie, _) = maria_signed_in(&app).await;
    let me: Value = with_cookie(&app, &cookie, "GET", "/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "maria@example.com");
}

async fn a_cookie_alone_cannot_write(app: TestApp) {
    let (_, cookie, _) = maria_signed_in(&app).await;
    let resp = with_cookie(&app, &cookie, "POST", "/api/v1/tickets")
        .json(&a_ticket())
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
}

async fn a_wrong_csrf_token_cannot_write(app: TestApp) {
    let (_, cookie, _) = maria_signed_in(&app).await;
    let resp = with_cookie(&app, &cookie, "POST", "/api/v1/tickets")
        .header("x-csrf-token", "csrf_wrong")
        .json(&a_ticket())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

async fn a_session_with_its_csrf_token_writes_in_the_console_channel(app: TestApp) {
    let (_, cookie, body) = maria_signed_in(&app).await;
    let csrf = body["csrf_token"].as_str().unwrap();
    let resp = with_cookie(&app, &cookie, "POST", "/api/v1/tickets")
        .header("x-csrf-token", csrf)
        .json(&a_ticket())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    let detail: Value = with_cookie(
        &app,
        &cookie,
        "GET",
        &format!("/api/v1/tickets/{}", created["id"]),
    )
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
}

async fn signing_out_kills_the_session(app: TestApp) {
    let (_, cookie, body) = maria_signed_in(&app).await;
    let csrf = body["csrf_token"].as_str().unwrap();
    let resp = with_cookie(&app, &cookie, "POST", "/api/v1/auth/logout")
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = with_cookie(&app, &cookie, "GET", "/api/v1/me")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "the old cookie must be dead after logout"
    );
}

/// A second sign-in gets a different session id (no fixation).
async fn each_sign_in_gets_a_new_session_id(app: TestApp) {
    let (_, cookie, _) = maria_signed_in(&app).await;
    let again = login(&app, "maria@example.com", "correct horse battery").await;
    let cookie2 = again.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(cookie, cookie2);
}

/// Wrong password and unknown email read the same.
async fn a_wrong_password_reads_like_an_unknown_email(app: TestApp) {
    manager_maria(&app).await;
    let wrong: Value = login(&app, "maria@example.com", "nope nope nope")
        .await
        .json()
        .await
        .unwrap();
    let unknown: Value = login(&app, "nobody@example.com", "nope nope nope")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["error"]["code"], "invalid_credentials");
}

/// After five failures, 429 with Retry-After; even the right password waits then.
async fn repeated_failed_sign_ins_are_limited_with_retry_after(app: TestApp) {
    manager_maria(&app).await;
    for email in ["maria@example.com", "nobody@example.com"] {
        login(&app, email, "nope nope nope").await;
    }
    let mut limited = None;
    for _ in 0..6 {
        let resp = login(&app, "maria@example.com", "still wrong").await;
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(resp);
            break;
        }
    }
    let resp = limited.expect("login attempts must be limited");
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(
        login(&app, "maria@example.com", "correct horse battery")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Agents cannot do admin work; read-only tokens cannot write; revoked tokens stop working.
struct Roles {
    admin: String,
    agent_id: i64,
    agent: String,
}

async fn roles(app: &TestApp) -> Roles {
    let (_, admin) = app
        .agent("ada@example.com", Role::Admin, Experience::Senior)
        .await;
    let (agent_id, agent) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    Roles {
        admin,
        agent_id,
        agent,
    }
}

fn new_person() -> CreateAgent {
    CreateAgent {
        email: "new@example.com".into(),
        name: "New Person".into(),
        role: "agent".into(),
        experience: "junior".into(),
        password: "long enough password".into(),
    }
}

async fn agents_cannot_create_agents(app: TestApp) {
    let r = roles(&app).await;
    let (status, _) = app.client(&r.agent).create_agent(&new_person()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn admins_create_agents_without_showing_the_password(app: TestApp) {
    let r = roles(&app).await;
    let (status, a) = app.client(&r.admin).create_agent(&new_person()).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert!(a.get("password").is_none() && a.get("password_hash").is_none());
}

async fn a_second_agent_with_the_same_email_is_a_conflict(app: TestApp) {
    let r = roles(&app).await;
    let admin = app.client(&r.admin);
    assert_eq!(
        admin.create_agent(&new_person()).await.0,
        StatusCode::CREATED
    );
    let (status, e) = admin.create_agent(&new_person()).await;
    assert_eq!((status, code(&e)), (StatusCode::CONFLICT, Some("conflict")));
}

async fn read_only(app: &TestApp, r: &Roles) -> String {
    app.token(
        Principal::Agent(recourse_domain::AgentId(r.agent_id)),
        "read",
    )
    .await
}

async fn read_only_tokens_can_read(app: TestApp) {
    let r = roles(&app).await;
    let read_only = read_only(&app, &r).await;
    let (status, _) = app.client(&read_only).tickets("").await;
    assert_eq!(status, StatusCode::OK);
}

async fn read_only_tokens_cannot_write(app: TestApp) {
    let r = roles(&app).await;
    let read_only = read_only(&app, &r).await;
    let (status, _) = app.client(&read_only).create_ticket(&a_ticket()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The agent's own new token: its id and secret.
async fn laptop_token(app: &TestApp, r: &Roles) -> (Value, String) {
    let (status, t) = app
        .client(&r.agent)
        .create_token(&NewToken::named("laptop"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    (t["id"].clone(), t["token"].as_str().unwrap().to_owned())
}

async fn an_agent_makes_a_token_that_works(app: TestApp) {
    let r = roles(&app).await;
    let (_, secret) = laptop_token(&app, &r).await;
    assert_eq!(app.client(&secret).me().await.0, StatusCode::OK);
}

async fn agents_cannot_revoke_tokens(app: TestApp) {
    let r = roles(&app).await;
    let (id, _) = laptop_token(&app, &r).await;
    let (status, _) = app.client(&r.agent).revoke_token(&id).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn a_revoked_token_is_401_invalid_token(app: TestApp) {
    let r = roles(&app).await;
    let (id, secret) = laptop_token(&app, &r).await;
    let (status, _) = app.client(&r.admin).revoke_token(&id).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, e) = app.client(&secret).me().await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
}

/// Over the limit a caller gets 429 with Retry-After: per credential, and per address
/// for requests without one. Other callers are not held back.
async fn rate_limited_app() -> (TestApp, String, String) {
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
    (app, one, two)
}

/// Uses up token `one`'s burst, then checks the answer past it.
async fn exhaust(app: &TestApp, one: &str) {
    for _ in 0..5 {
        assert_eq!(app.client(one).me().await.0, StatusCode::OK);
    }
    let resp = app
        .http
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(one)
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
}

#[tokio::test]
async fn a_token_over_its_rate_gets_429_with_retry_after() {
    let (app, one, _) = rate_limited_app().await;
    exhaust(&app, &one).await;
}

#[tokio::test]
async fn another_token_is_not_held_back_by_a_limited_one() {
    let (app, one, two) = rate_limited_app().await;
    exhaust(&app, &one).await;
    assert_eq!(
        app.client(&two).me().await.0,
        StatusCode::OK,
        "another token is unaffected"
    );
}

#[tokio::test]
async fn callers_without_a_credential_are_limited_per_address() {
    let (app, _, _) = rate_limited_app().await;
    for _ in 0..3 {
        assert_eq!(app.client("").healthz().await.0, StatusCode::OK);
    }
    assert_eq!(
        app.client("").healthz().await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// The authorisation matrix: every route × every kind of caller, with the exact
/// outcome class expected. `ok` means the caller got past authorisation (a 2xx, or a
/// 409/422 about the request itself); `401`, `403` and `404` are refusals, and a
/// customer asking about someone else's ticket always gets the 404 a missing ticket
/// gets (no existence leak). Each check runs on a fresh ticket of customer A.
async fn every_route_refuses_exactly_the_callers_it_should(app: TestApp) {
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
