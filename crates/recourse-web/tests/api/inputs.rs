//! Each kind of bad input gets its own 4xx code, and nothing is a 500; metacharacters
//! and NUL characters. These tests send malformed input on purpose, so they use the
//! raw `call`/`raw` rather than the typed client.

use crate::harness::*;

on_both!(
    bad_ticket_fields_get_their_own_422_codes,
    bad_message_and_intervention_fields_get_their_own_codes,
    impossible_ticket_changes_get_their_own_codes,
    bad_ids_and_queries_get_400_or_404,
    unknown_routes_and_methods_get_404_and_405,
    malformed_json_is_400,
    a_body_that_is_not_json_is_415,
    an_oversized_body_is_413,
    a_missing_token_is_401_unauthenticated,
    an_unknown_token_is_401_invalid_token,
    metacharacters_are_stored_and_returned_verbatim,
    answers_are_labelled_json,
    search_takes_query_syntax_as_plain_text,
    search_finds_non_ascii_words,
    nul_characters_are_refused_in_every_json_body,
);

async fn junior(app: &TestApp) -> String {
    app.agent("jo@example.com", Role::Agent, Experience::Junior)
        .await
        .1
}

/// An open ticket for the error cases that need one.
async fn open_ticket(app: &TestApp, token: &str) -> i64 {
    let id = app
        .open_ticket(
            token,
            &CreateTicket::for_customer("c@example.com", "ok", "ok"),
        )
        .await;
    app.client(token)
        .update_ticket(id, &TicketPatch::status("open"))
        .await;
    id
}

/// Runs each case, collecting every mismatch so that one failure does not hide another.
async fn expect_codes(app: &TestApp, token: &str, cases: Vec<(&str, String, Value, u16, &str)>) {
    let mut failures = Vec::new();
    for (method, path, body, want, want_code) in cases {
        let body = if body.is_null() { None } else { Some(body) };
        let (status, e) = app.call(method, &path, token, body).await;
        if (status.as_u16(), code(&e)) != (want, Some(want_code)) {
            failures.push(format!(
                "{method} {path}: expected {want} {want_code}, got {e}"
            ));
        } else if e["error"]["message"].as_str().unwrap().is_empty() {
            failures.push(format!("{method} {path}: no message"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn ok(subject: Value) -> Value {
    json!({"customer": {"email": "c@example.com"}, "subject": subject, "body": "hello"})
}

async fn bad_ticket_fields_get_their_own_422_codes(app: TestApp) {
    let token = junior(&app).await;
    let post =
        |body: Value, code: &'static str| ("POST", "/api/v1/tickets".to_string(), body, 422, code);
    expect_codes(
        &app,
        &token,
        vec![
            post(ok(json!("")), "empty_subject"),
            post(ok(json!("   \n ")), "empty_subject"),
            post(ok(json!("x".repeat(300))), "subject_too_long"),
            post(ok(json!(42)), "wrong_type"),
            post(
                json!({"customer": {"email": "not-an-email"}, "subject": "s", "body": "b"}),
                "invalid_email",
            ),
            post(
                json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "b", "priority": "asap"}),
                "invalid_enum_value",
            ),
            post(
                json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "b", "colour": "red"}),
                "unknown_field",
            ),
            post(
                json!({"customer": {"email": "c@example.com"}, "body": "b"}),
                "missing_field",
            ),
            post(json!({"subject": "s", "body": "b"}), "missing_customer"),
            post(
                json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "  "}),
                "empty_body",
            ),
            post(
                json!({"customer": {"email": "c@example.com"}, "subject": "s", "body": "b", "tags": ["two words"]}),
                "invalid_tag",
            ),
        ],
    )
    .await;
}

async fn bad_message_and_intervention_fields_get_their_own_codes(app: TestApp) {
    let token = junior(&app).await;
    let id = open_ticket(&app, &token).await;
    expect_codes(
        &app,
        &token,
        vec![
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
        ],
    )
    .await;
}

async fn impossible_ticket_changes_get_their_own_codes(app: TestApp) {
    let token = junior(&app).await;
    let id = open_ticket(&app, &token).await;
    expect_codes(
        &app,
        &token,
        vec![
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
        ],
    )
    .await;
}

async fn bad_ids_and_queries_get_400_or_404(app: TestApp) {
    let token = junior(&app).await;
    let get = |path: &str, want: u16, code: &'static str| {
        ("GET", path.to_string(), Value::Null, want, code)
    };
    expect_codes(
        &app,
        &token,
        vec![
            get("/api/v1/tickets/abc", 400, "invalid_id"),
            get("/api/v1/tickets/-1", 400, "invalid_id"),
            get("/api/v1/tickets/99999999", 404, "not_found"),
            get("/api/v1/tickets?status=lost", 400, "invalid_status"),
            get("/api/v1/tickets?limit=1000", 400, "invalid_limit"),
            get("/api/v1/tickets?cursor=garbage", 400, "invalid_cursor"),
            get("/api/v1/tickets?limit=ten", 400, "invalid_query"),
            get("/api/v1/search?q=", 400, "empty_query"),
        ],
    )
    .await;
}

async fn unknown_routes_and_methods_get_404_and_405(app: TestApp) {
    let token = junior(&app).await;
    expect_codes(
        &app,
        &token,
        vec![
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
        ],
    )
    .await;
}

async fn expect_raw(app: &TestApp, ct: &str, body: Vec<u8>, want: u16, want_code: &str) {
    let token = junior(app).await;
    expect_raw_as(app, &token, ct, body, want, want_code).await;
}

async fn expect_raw_as(
    app: &TestApp,
    token: &str,
    ct: &str,
    body: Vec<u8>,
    want: u16,
    want_code: &str,
) {
    let (status, e) = app.raw("POST", "/api/v1/tickets", token, ct, body).await;
    assert_eq!(
        (status.as_u16(), code(&e)),
        (want, Some(want_code)),
        "{ct}: {e}"
    );
}

async fn malformed_json_is_400(app: TestApp) {
    let token = junior(&app).await;
    for body in [
        b"{\"subject\": ".to_vec(),
        b"{\"subject\": \"a\" \"body\": 1}".to_vec(),
    ] {
        expect_raw_as(
            &app,
            &token,
            "application/json",
            body,
            400,
            "malformed_json",
        )
        .await;
    }
}

async fn a_body_that_is_not_json_is_415(app: TestApp) {
    expect_raw(
        &app,
        "text/plain",
        b"{}".to_vec(),
        415,
        "unsupported_media_type",
    )
    .await;
}

async fn an_oversized_body_is_413(app: TestApp) {
    expect_raw(
        &app,
        "application/json",
        vec![b' '; 10 * 1024 * 1024],
        413,
        "body_too_large",
    )
    .await;
}

async fn a_missing_token_is_401_unauthenticated(app: TestApp) {
    let (status, e) = app.client("").tickets("").await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
}

async fn an_unknown_token_is_401_invalid_token(app: TestApp) {
    let (status, e) = app.client("rct_not_a_real_token").tickets("").await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
}

// Metacharacters are data: stored verbatim, returned verbatim in JSON (escaped by JSON itself).
const NASTY: &str =
    "<script>alert('x')</script> '; DROP TABLE tickets; -- \" OR 1=1 NEAR( * 日本語 Größe";

async fn nasty_ticket(app: &TestApp, token: &str) -> i64 {
    app.open_ticket(
        token,
        &CreateTicket::for_customer("c@example.com", NASTY, NASTY),
    )
    .await
}

async fn metacharacters_are_stored_and_returned_verbatim(app: TestApp) {
    let token = junior(&app).await;
    let id = nasty_ticket(&app, &token).await;
    let (_, d) = app.client(&token).ticket(id).await;
    assert_eq!(d["subject"], NASTY);
    assert_eq!(d["messages"][0]["body"], NASTY);
}

async fn answers_are_labelled_json(app: TestApp) {
    let token = junior(&app).await;
    let id = nasty_ticket(&app, &token).await;
    let resp = app
        .http
        .get(format!("{}/api/v1/tickets/{id}", app.base))
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
}

async fn search_takes_query_syntax_as_plain_text(app: TestApp) {
    let token = junior(&app).await;
    nasty_ticket(&app, &token).await;
    for q in [NASTY, "\"", "OR", "*", "NEAR(", "a AND", "'"] {
        let (status, _) = app.client(&token).search(q).await;
        assert_eq!(status, StatusCode::OK, "search for {q:?}");
    }
}

async fn search_finds_non_ascii_words(app: TestApp) {
    let token = junior(&app).await;
    let id = nasty_ticket(&app, &token).await;
    let (_, s) = app.client(&token).search("Größe").await;
    assert_eq!(s["hits"][0]["ticket"]["id"], id);
}

/// NUL characters are refused for every JSON body, whatever the field (PostgreSQL could
/// not store them; nobody types them).
async fn nul_characters_are_refused_in_every_json_body(app: TestApp) {
    let (_, mia) = app
        .agent("mia@example.com", Role::Manager, Experience::Senior)
        .await;
    let id = app
        .open_ticket(
            &mia,
            &CreateTicket::for_customer("ada@example.com", "Hi", "Hello"),
        )
        .await;
    let api = app.client(&mia);
    let mut failures = Vec::new();
    for (what, (status, err)) in [
        (
            "alternatives",
            api.create_alternative(&NewAlternative {
                name: "Bad\u{0}Name".into(),
                contact: "x".into(),
                ..Default::default()
            })
            .await,
        ),
        (
            "escalations",
            api.escalate(
                id,
                &Escalate {
                    note: Some("a\u{0}b".into()),
                    ..Escalate::because("agent_request")
                },
            )
            .await,
        ),
        (
            "cant-help",
            api.cant_help(
                id,
                &CantHelp {
                    reason: "other".into(),
                    explanation: "no\u{0}".into(),
                    partial_solution: Some("x".into()),
                    ..Default::default()
                },
            )
            .await,
        ),
    ] {
        if (status, code(&err)) != (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_characters")) {
            failures.push(format!("{what}: {status} {err}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
