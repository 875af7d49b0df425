//! The API's JSON bodies: arbitrary bytes sent as the body of every route that takes
//! one, through the real router (extractors, handlers, the domain's validations, the
//! store on SQLite), as an admin, a junior agent or a customer. Whatever the bytes,
//! nothing may panic and nothing may be answered `500`: a body is either accepted or
//! refused with a typed 4xx error.
//!
//! The routes come from the OpenAPI document, so a new route with a body is fuzzed
//! without touching this file. Path parameters name live rows: a ticket the harness
//! opens afresh every few hundred inputs (so tickets in every state get fuzzed, not
//! only one closed long ago), its first message, the seeded agent.
#![no_main]

use std::sync::{Mutex, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use recourse_domain::{EmailAddress, Experience, Millis, PersonName, Role};
use recourse_store::{NewAgent, NewApiToken, Principal, Store};
use recourse_web::{AppState, WebConfig, auth};
use tower::ServiceExt;

struct Harness {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    /// Admin, junior agent, customer.
    tokens: [String; 3],
    routes: Vec<(String, String)>,
    /// `RECOURSE_FUZZ_VERBOSE=1` prints each request's route and answer (to check seeds).
    verbose: bool,
    /// The ticket and its first message for path parameters, and how often used.
    ticket: Mutex<(i64, i64, u32)>,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = std::env::temp_dir().join(format!("recourse-fuzz-api-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("fuzz.db").display());
        let (app, tokens) = rt.block_on(async {
            let store = recourse_store::open(&url).await.unwrap();
            let admin = agent(&store, "admin@example.com", Role::Admin).await;
            let junior = agent(&store, "junior@example.com", Role::Agent).await;
            let customer = store
                .upsert_customer(
                    &EmailAddress::parse("pat@example.com").unwrap(),
                    None,
                    Millis(1),
                )
                .await
                .unwrap();
            let tokens = [
                token(&store, Principal::Agent(admin)).await,
                token(&store, Principal::Agent(junior)).await,
                token(&store, Principal::Customer(customer.id)).await,
            ];
            let config = WebConfig {
                // The fuzzer is one very fast client; limits are tested elsewhere.
                rate_per_credential: recourse_web::ratelimit::Rate {
                    per_second: 1e9,
                    burst: 1e9,
                },
                rate_per_address: recourse_web::ratelimit::Rate {
                    per_second: 1e9,
                    burst: 1e9,
                },
                ..WebConfig::default()
            };
            (recourse_web::app(AppState::new(store, config)), tokens)
        });
        let h = Harness {
            rt,
            app,
            tokens,
            routes: routes_with_bodies(),
            verbose: std::env::var_os("RECOURSE_FUZZ_VERBOSE").is_some(),
            ticket: Mutex::new((0, 0, 0)),
        };
        assert!(h.routes.len() >= 20, "too few routes: {:?}", h.routes);
        h
    })
}

async fn agent(
    store: &std::sync::Arc<dyn Store>,
    email: &str,
    role: Role,
) -> recourse_domain::AgentId {
    store
        .create_agent(NewAgent {
            email: EmailAddress::parse(email).unwrap(),
            name: PersonName::parse("Fuzz Agent").unwrap(),
            role,
            experience: Experience::Junior,
            skills: vec![],
            team_id: None,
            capacity: 1_000_000,
            password_hash: auth::hash_password("correct horse battery").unwrap(),
            now: Millis(1),
        })
        .await
        .unwrap()
        .id
}

async fn token(store: &std::sync::Arc<dyn Store>, principal: Principal) -> String {
    let secret = auth::new_secret("rct");
    store
        .create_api_token(NewApiToken {
            principal,
            name: "fuzz".into(),
            token_hash: auth::sha256_hex(&secret),
            scope: "full".into(),
            now: Millis(1),
        })
        .await
        .unwrap();
    secret
}

/// Every (method, path) of the OpenAPI document whose operation takes a request body.
fn routes_with_bodies() -> Vec<(String, String)> {
    let doc = serde_json::to_value(recourse_web::openapi()).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["post", "put", "patch", "delete"] {
            if item[method]["requestBody"].is_object() {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

/// A ticket and its first message for path parameters, opened afresh every 256 inputs.
async fn current_ticket(h: &Harness) -> (i64, i64) {
    let (id, message, uses) = *h.ticket.lock().unwrap();
    if id != 0 && uses < 256 {
        h.ticket.lock().unwrap().2 += 1;
        return (id, message);
    }
    let body = br#"{"subject":"The kettle leaks","body":"It leaks all over the counter. This is the second one!"}"#;
    let (status, answer) = send(
        &h.app,
        "POST",
        "/api/v1/tickets",
        &h.tokens[2],
        body.to_vec(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let v: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let id = v["id"].as_i64().unwrap();
    let (status, answer) = send(
        &h.app,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        &h.tokens[0],
        Vec::new(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let v: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let message = v["messages"][0]["id"].as_i64().unwrap();
    *h.ticket.lock().unwrap() = (id, message, 0);
    (id, message)
}

fn fill(path: &str, ticket: i64, message: i64) -> String {
    path.replace("{id}", &ticket.to_string())
        .replace("{message_id}", &message.to_string())
        .replace("{key}", "handoff")
        .replace("{token}", "not-a-survey-token")
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let h = harness();
    let caller = &h.tokens[data[0] as usize % h.tokens.len()];
    let (method, path) = &h.routes[data[1] as usize % h.routes.len()];
    let body = data[2..].to_vec();
    h.rt.block_on(async {
        let (ticket, message) = current_ticket(h).await;
        let path = fill(path, ticket, message);
        let (status, answer) = send(&h.app, method, &path, caller, body).await;
        if h.verbose {
            let answer = String::from_utf8_lossy(&answer);
            eprintln!(
                "{method} {path} as {} -> {status} {}",
                data[0] % 3,
                &answer[..answer.len().min(160)]
            );
        }
        assert!(
            !status.is_server_error(),
            "{method} {path} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
        if !answer.is_empty() && status != StatusCode::NO_CONTENT {
            // Every answer of the API is JSON, errors included.
            let v: Result<serde_json::Value, _> = serde_json::from_slice(&answer);
            assert!(
                v.is_ok(),
                "{method} {path} answered {status} with non-JSON: {}",
                String::from_utf8_lossy(&answer)
            );
            if status.is_client_error() {
                let v = v.unwrap();
                assert!(
                    v["error"]["code"].is_string() && v["error"]["message"].is_string(),
                    "{method} {path} answered {status} without an error body: {v}"
                );
            }
        }
    });
});
