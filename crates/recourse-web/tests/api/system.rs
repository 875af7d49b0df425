//! Health, readiness, metrics and the OpenAPI document.

use crate::harness::*;

on_both!(
    healthz_answers_ok,
    readyz_answers_ready,
    metrics_count_created_tickets_and_answers_by_route,
);

async fn healthz_answers_ok(app: TestApp) {
    assert_eq!(
        app.client("").healthz().await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
}

async fn readyz_answers_ready(app: TestApp) {
    assert_eq!(
        app.client("").readyz().await,
        (StatusCode::OK, json!({"status": "ready"}))
    );
}

async fn metrics_count_created_tickets_and_answers_by_route(app: TestApp) {
    let (_, token) = app
        .agent("ops@example.com", Role::Admin, Experience::Senior)
        .await;
    app.client(&token)
        .create_ticket(&CreateTicket::for_customer("c@example.com", "s", "b"))
        .await;
    let (status, text) = app.client("").metrics().await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap();
    assert!(text.contains("recourse_tickets_created_total 1"), "{text}");
    assert!(
        text.contains("route=\"/api/v1/tickets\",status=\"201\"} 1"),
        "{text}"
    );
}

/// The OpenAPI document as served, and an admin's token to probe with.
async fn openapi_doc() -> (TestApp, String, Value) {
    let app = TestApp::start(Db::Sqlite).await.unwrap();
    let (_, token) = app
        .agent("ada@example.com", Role::Admin, Experience::Senior)
        .await;
    let (status, doc) = app.client("").openapi().await;
    assert_eq!(status, StatusCode::OK);
    (app, token, doc)
}

fn documented(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for method in methods.as_object().unwrap().keys() {
            ops.push((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

#[tokio::test]
async fn the_served_openapi_document_is_the_codes_own() {
    let (_, _, doc) = openapi_doc().await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc, serde_json::to_value(recourse_web::openapi()).unwrap());
}

/// Every documented operation is routed.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let (app, token, doc) = openapi_doc().await;
    for (method, path) in documented(&doc) {
        let concrete = path.replace("{id}", "999999");
        let (status, body) = app.call(&method, &concrete, &token, None).await;
        assert_ne!(
            body["error"]["code"], "no_such_route",
            "{method} {path} is documented but not routed"
        );
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
}

/// Every route the API promises is documented.
#[tokio::test]
async fn every_promised_route_is_documented() {
    let (_, _, doc) = openapi_doc().await;
    let documented: Vec<String> = documented(&doc)
        .into_iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
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
}

/// Paths that exist but are not in the document would be answered with something
/// other than no_such_route; probe the neighbours of documented ones.
#[tokio::test]
async fn neighbours_of_documented_routes_are_not_routed() {
    let (app, token, _) = openapi_doc().await;
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
