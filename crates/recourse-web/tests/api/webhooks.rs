//! Webhooks: created by admins, the secret shown once, each event delivered with an
//! HMAC-SHA256 signature the receiver can check, failures retried after a backoff, and
//! hooks limited to some event types.

use std::sync::Mutex;

use crate::harness::*;

on_both!(
    agents_cannot_create_webhooks,
    a_webhook_url_must_be_http,
    the_webhook_secret_is_shown_only_once,
    each_delivery_is_signed_with_the_secret,
    a_failed_delivery_is_logged_with_its_error,
    a_failed_delivery_waits_out_its_backoff_then_succeeds,
    an_unknown_event_type_is_refused,
    a_webhook_limited_to_some_events_gets_only_those,
);

/// A receiver on port 0 that fails its first delivery with 503 and records the rest.
struct Sink {
    url: String,
    received: Arc<Mutex<Vec<(String, String)>>>,
}

async fn sink() -> Sink {
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let fail_first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let router = {
        let received = received.clone();
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
    tokio::spawn(async move { axum::serve(listener, router).await });
    Sink { url, received }
}

async fn admin_and_agent(app: &TestApp) -> (String, String) {
    let (_, admin) = app
        .agent("root@example.com", Role::Admin, Experience::Senior)
        .await;
    let (_, agent) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    (admin, agent)
}

/// A hook to the sink, a ticket that makes events, and one round of deliveries: the
/// admin's token, the hook, and how many deliveries were attempted.
async fn one_round(app: &TestApp, sink: &Sink) -> (String, Value, usize) {
    let (admin, agent) = admin_and_agent(app).await;
    let (status, hook) = app
        .client(&admin)
        .create_webhook(&NewWebhook::to(&sink.url))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .client(&agent)
        .create_ticket(&CreateTicket::for_customer(
            "ada@example.com",
            "Hello",
            "Hi",
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let client = recourse_web::workers::webhook_client();
    // First round: the receiver fails the first delivery, accepts the rest.
    let attempted = recourse_web::workers::deliver_due(app.store.as_ref(), &client).await;
    assert!(attempted >= 2, "{attempted}");
    assert_eq!(sink.received.lock().unwrap().len(), attempted - 1);
    (admin, hook, attempted)
}

async fn agents_cannot_create_webhooks(app: TestApp) {
    let sink = sink().await;
    let (_, agent) = admin_and_agent(&app).await;
    assert_eq!(
        app.client(&agent)
            .create_webhook(&NewWebhook::to(&sink.url))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

async fn a_webhook_url_must_be_http(app: TestApp) {
    let (admin, _) = admin_and_agent(&app).await;
    let (status, err) = app
        .client(&admin)
        .create_webhook(&NewWebhook::to("ftp://example.com"))
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_url"))
    );
}

async fn the_webhook_secret_is_shown_only_once(app: TestApp) {
    let sink = sink().await;
    let (admin, _) = admin_and_agent(&app).await;
    let api = app.client(&admin);
    let (_, hook) = api.create_webhook(&NewWebhook::to(&sink.url)).await;
    assert!(hook["secret"].as_str().is_some());
    let (_, list) = api.webhooks().await;
    assert!(
        list[0].get("secret").is_none(),
        "the secret is shown only once"
    );
}

async fn each_delivery_is_signed_with_the_secret(app: TestApp) {
    let sink = sink().await;
    let (_, hook, _) = one_round(&app, &sink).await;
    let secret = hook["secret"].as_str().unwrap();
    let got = sink.received.lock().unwrap().clone();
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
}

async fn a_failed_delivery_is_logged_with_its_error(app: TestApp) {
    let sink = sink().await;
    let (admin, hook, _) = one_round(&app, &sink).await;
    let (_, log) = app.client(&admin).deliveries(&hook["id"]).await;
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
}

/// The retry waits out its backoff (10 s) instead of hammering the receiver.
async fn a_failed_delivery_waits_out_its_backoff_then_succeeds(app: TestApp) {
    let sink = sink().await;
    let (_, _, attempted) = one_round(&app, &sink).await;
    let client = recourse_web::workers::webhook_client();
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
    assert_eq!(sink.received.lock().unwrap().len(), attempted);
}

/// Webhooks limited to some event types get only those.
async fn an_unknown_event_type_is_refused(app: TestApp) {
    let (admin, _) = admin_and_agent(&app).await;
    let (status, e) = app
        .client(&admin)
        .create_webhook(&NewWebhook {
            url: "http://127.0.0.1:9/a".into(),
            events: Some(vec!["no_such_event".into()]),
        })
        .await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_event"))
    );
}

async fn a_webhook_limited_to_some_events_gets_only_those(app: TestApp) {
    let (admin, agent) = admin_and_agent(&app).await;
    let api = app.client(&admin);
    let (_, only) = api
        .create_webhook(&NewWebhook {
            url: "http://127.0.0.1:9/a".into(),
            events: Some(vec!["escalated".into(), "sla_breached".into()]),
        })
        .await;
    assert_eq!(only["events"], json!(["escalated", "sla_breached"]));
    let (_, all) = api
        .create_webhook(&NewWebhook::to("http://127.0.0.1:9/b"))
        .await;
    assert_eq!(all["events"], json!([]));
    app.client(&agent)
        .create_ticket(&CreateTicket::for_customer(
            "d@example.com",
            "Late",
            "Still late.",
        ))
        .await;
    let (_, got_only) = api.deliveries(&only["id"]).await;
    let (_, got_all) = api.deliveries(&all["id"]).await;
    assert_eq!(
        got_only,
        json!([]),
        "ticket_created is not among its events"
    );
    assert!(!got_all.as_array().unwrap().is_empty(), "{got_all}");
    let (_, hooks) = api.webhooks().await;
    assert_eq!(hooks[0]["events"], json!(["escalated", "sla_breached"]));
}
