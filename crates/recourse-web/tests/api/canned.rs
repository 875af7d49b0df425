//! Canned replies over HTTP: managers keep them, the template rules check them when
//! saved, and any agent renders one for a ticket with its variables filled in (values
//! stay plain text, never read again as template).

use crate::harness::*;

on_both!(
    a_saved_canned_reply_is_trimmed_and_lists_its_variables,
    a_refused_canned_reply_gets_its_own_code,
    agents_cannot_write_canned_replies,
    agents_read_the_canned_replies,
    rendering_fills_values_in_once_never_as_template,
    rendering_for_a_missing_ticket_or_reply_is_404,
    a_canned_reply_is_replaced,
    replacing_a_missing_canned_reply_is_404,
    a_deleted_canned_reply_is_gone,
);

const LATE_PARCEL: &str = "Hello {{customer_name}},\n\nAbout #{{ticket_number}} ({{subject}}): I can sort out {{need}} today.\n\n{{ agent_name }}";

/// The manager's and Kim's (an agent's) tokens.
async fn desk(app: &TestApp) -> (String, String) {
    let (_, manager) = app
        .agent("lead@example.com", Role::Manager, Experience::Senior)
        .await;
    let (_, agent) = app
        .agent("kim@example.com", Role::Agent, Experience::Junior)
        .await;
    (manager, agent)
}

/// "Late parcel" saved by the manager: the answer.
async fn late_parcel(app: &TestApp, manager: &str) -> Value {
    let (status, made) = app
        .client(manager)
        .create_canned(&CannedReply::new("  Late parcel  ", LATE_PARCEL))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made
}

async fn a_saved_canned_reply_is_trimmed_and_lists_its_variables(app: TestApp) {
    let (manager, _) = desk(&app).await;
    let made = late_parcel(&app, &manager).await;
    assert_eq!(made["title"], "Late parcel", "titles are trimmed");
    assert!(
        made["variables"]
            .as_array()
            .unwrap()
            .contains(&json!("need"))
    );
}

/// Refusals, each with its own code.
async fn a_refused_canned_reply_gets_its_own_code(app: TestApp) {
    let (manager, _) = desk(&app).await;
    late_parcel(&app, &manager).await;
    let api = app.client(&manager);
    let mut failures = Vec::new();
    for (reply, status, want) in [
        (
            CannedReply::new("X", "Hi {{survey_link}}"),
            422,
            "unknown_variable",
        ),
        (
            CannedReply::new("X", "Hi {{customer_name"),
            422,
            "unclosed_variable",
        ),
        (CannedReply::new("", "Hi"), 422, "invalid_title"),
        (CannedReply::new("X", "   "), 422, "invalid_template"),
        (CannedReply::new("Late parcel", "Hi"), 409, "conflict"),
    ] {
        let (s, e) = api.create_canned(&reply).await;
        if s.as_u16() != status || e["error"]["code"] != want {
            failures.push(format!("{reply:?} → {s} {e}"));
        }
    }
    // Malformed on purpose (no body), so sent raw.
    let payload = json!({"title": "X"});
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/canned-replies",
            &manager,
            Some(payload.clone()),
        )
        .await;
    if s.as_u16() != 422 || e["error"]["code"] != "missing_field" {
        failures.push(format!("{payload} → {s} {e}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn agents_cannot_write_canned_replies(app: TestApp) {
    let (_, agent) = desk(&app).await;
    let (s, _) = app
        .client(&agent)
        .create_canned(&CannedReply::new("Mine", "Hi"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "agents read, managers write");
}

/// Any agent reads the list and renders a reply for a ticket.
async fn agents_read_the_canned_replies(app: TestApp) {
    let (manager, agent) = desk(&app).await;
    late_parcel(&app, &manager).await;
    let (_, list) = app.client(&agent).canned_replies().await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

async fn rendering_fills_values_in_once_never_as_template(app: TestApp) {
    let (manager, agent) = desk(&app).await;
    let id = late_parcel(&app, &manager).await["id"].as_i64().unwrap();
    let api = app.client(&agent);
    let (s, t) = api
        .create_ticket(
            &CreateTicket::for_customer("odd@example.com", "Parcel <b>late</b>", "Where is it?")
                .customer_name("Ann {{agent_name}}")
                .need("a new delivery date"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let (s, r) = api.render_canned(id, t["id"].as_i64().unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        r["text"],
        format!(
            "Hello Ann {{{{agent_name}}}},\n\nAbout #{} (Parcel <b>late</b>): I can sort out a new delivery date today.\n\nTest Agent",
            t["number"]
        ),
        "values are filled in once and never read as template"
    );
}

async fn rendering_for_a_missing_ticket_or_reply_is_404(app: TestApp) {
    let (manager, agent) = desk(&app).await;
    let id = late_parcel(&app, &manager).await["id"].as_i64().unwrap();
    let api = app.client(&agent);
    assert_eq!(api.render_canned(id, 999999).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.render_canned(999999, 1).await.0, StatusCode::NOT_FOUND);
}

async fn a_canned_reply_is_replaced(app: TestApp) {
    let (manager, _) = desk(&app).await;
    let id = late_parcel(&app, &manager).await["id"].as_i64().unwrap();
    let (s, u) = app
        .client(&manager)
        .replace_canned(
            id,
            &CannedReply::new("Late parcel, second time", "Sorry, {{customer_name}}."),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(u["title"], "Late parcel, second time");
}

async fn replacing_a_missing_canned_reply_is_404(app: TestApp) {
    let (manager, _) = desk(&app).await;
    let (s, _) = app
        .client(&manager)
        .replace_canned(999999, &CannedReply::new("Z", "Z"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn a_deleted_canned_reply_is_gone(app: TestApp) {
    let (manager, agent) = desk(&app).await;
    let id = late_parcel(&app, &manager).await["id"].as_i64().unwrap();
    let api = app.client(&manager);
    assert_eq!(api.delete_canned(id).await.0, StatusCode::NO_CONTENT);
    assert_eq!(api.delete_canned(id).await.0, StatusCode::NOT_FOUND);
    let (_, list) = app.client(&agent).canned_replies().await;
    assert_eq!(list, json!([]));
}
