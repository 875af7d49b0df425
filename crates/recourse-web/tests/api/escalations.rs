//! The ladder over HTTP: configuration, a draft that names what was tried, an escalation
//! the customer can read, the refusals, moving back down, abuse, and presence.

use crate::harness::*;

on_both!(
    the_ladder_lists_its_rungs_in_order,
    customers_cannot_read_the_ladder,
    agents_cannot_change_the_ladder,
    a_ladder_asking_less_at_the_top_is_refused,
    admins_save_the_ladder,
    a_template_with_an_unknown_variable_is_refused,
    an_unknown_time_zone_is_refused,
    a_customers_ticket_lands_with_the_junior_on_the_first_rung,
    customers_cannot_draft_an_escalation,
    an_escalation_reason_outside_the_list_is_refused,
    the_escalation_draft_tells_the_customer_what_was_tried,
    escalation_moves_the_ticket_up_to_the_chosen_agent,
    the_customer_sees_the_handoff_but_not_the_internal_note,
    each_escalation_step_is_in_the_history_and_the_list,
    the_junior_cannot_escalate_a_ticket_no_longer_theirs,
    an_escalation_from_the_second_rung_reaches_the_manager,
    escalating_at_the_top_rung_is_a_conflict,
    only_managers_send_a_ticket_down,
    a_descent_needs_a_note,
    a_descent_moves_the_ticket_down_one_rung,
    marking_a_message_abusive_moves_the_case_to_a_manager,
    a_message_from_another_ticket_is_not_found_under_this_one,
    agents_cannot_set_someone_elses_presence,
    stepping_away_reassigns_ones_tickets,
);

/// Jo (junior), Eve (experienced), Mia (manager), an admin kept out of routing, and a
/// customer.
struct Desk {
    admin: String,
    jo: i64,
    jo_token: String,
    eve: i64,
    eve_token: String,
    mia_token: String,
    customer: String,
}

async fn desk(app: &TestApp) -> Desk {
    let (_, admin) = app
        .agent("root@example.com", Role::Admin, Experience::Senior)
        .await;
    let (jo, jo_token) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    // Admins are agents too; keep this one out of routing.
    let root_id = app.store.list_agents().await.unwrap()[0].id;
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
    Desk {
        admin,
        jo,
        jo_token,
        eve,
        eve_token,
        mia_token,
        customer,
    }
}

/// The customer writes in (the ticket lands with Jo), and Jo tries two things.
async fn tried_twice(app: &TestApp, d: &Desk) -> i64 {
    let id = app
        .open_ticket(
            &d.customer,
            &CreateTicket::new("Kettle arrived broken", "The spout fell off."),
        )
        .await;
    for (kind, desc, result) in [
        ("refund", "half the delivery charge", "declined"),
        ("replacement", "a new kettle by courier", "pending"),
    ] {
        let (status, _) = app
            .client(&d.jo_token)
            .record_intervention(id, &NewIntervention::new(kind, desc).result(result))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    id
}

/// Jo's edited draft with Eve chosen and an internal note, as sent.
fn to_eve(d: &Desk, draft: &str) -> Escalate {
    Escalate {
        reason: "needs_experience".into(),
        message: Some(format!("{draft}\n\nP.S. Your courier reference is KT-42.")),
        assignee_id: Some(d.eve),
        note: Some("Wants a full refund.".into()),
    }
}

/// `tried_twice`, then escalated by Jo to Eve with the edited draft: the ticket and
/// the escalation's answer.
async fn escalated(app: &TestApp, d: &Desk) -> (i64, Value) {
    let id = tried_twice(app, d).await;
    let jo = app.client(&d.jo_token);
    let (_, draft) = jo.escalation_draft(id).await;
    let (status, done) = jo
        .escalate(id, &to_eve(d, draft["body"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    (id, done)
}

/// `escalated`, then sent up again by Eve: on the manager rung.
async fn at_the_top(app: &TestApp, d: &Desk) -> i64 {
    let (id, _) = escalated(app, d).await;
    let (status, top) = app
        .client(&d.eve_token)
        .escalate(id, &Escalate::because("customer_request"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{top}");
    id
}

async fn the_ladder_lists_its_rungs_in_order(app: TestApp) {
    let d = desk(&app).await;
    let (status, ladder) = app.client(&d.jo_token).ladder().await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = ladder["rungs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["frontline", "experienced", "manager"]);
}

async fn customers_cannot_read_the_ladder(app: TestApp) {
    let d = desk(&app).await;
    assert_eq!(
        app.client(&d.customer).ladder().await.0,
        StatusCode::FORBIDDEN
    );
}

async fn agents_cannot_change_the_ladder(app: TestApp) {
    let d = desk(&app).await;
    let (_, ladder) = app.client(&d.jo_token).ladder().await;
    assert_eq!(
        app.client(&d.jo_token).put_ladder(&ladder).await.0,
        StatusCode::FORBIDDEN
    );
}

/// A ladder whose top asks less than the rung below is refused with its own code.
async fn a_ladder_asking_less_at_the_top_is_refused(app: TestApp) {
    let d = desk(&app).await;
    let (_, mut weak) = app.client(&d.admin).ladder().await;
    weak["rungs"][2]["role"] = json!("agent");
    weak["rungs"][2]["min_experience"] = json!("junior");
    let (status, err) = app.client(&d.admin).put_ladder(&weak).await;
    assert_eq!(
        (status, code(&err)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("rung_weaker_than_below")
        )
    );
}

async fn admins_save_the_ladder(app: TestApp) {
    let d = desk(&app).await;
    let (_, ladder) = app.client(&d.admin).ladder().await;
    assert_eq!(
        app.client(&d.admin).put_ladder(&ladder).await.0,
        StatusCode::OK
    );
}

async fn a_template_with_an_unknown_variable_is_refused(app: TestApp) {
    let d = desk(&app).await;
    let (status, err) = app
        .client(&d.admin)
        .put_template("handoff", "Hi {{nickname}}")
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_variable"))
    );
}

async fn an_unknown_time_zone_is_refused(app: TestApp) {
    let d = desk(&app).await;
    let (status, cal) = app
        .client(&d.admin)
        .put_calendar(&Calendar {
            time_zone: "Nowhere/Atlantis".into(),
            hours: vec![],
        })
        .await;
    assert_eq!(
        (status, code(&cal)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_time_zone"))
    );
}

/// The customer writes in; the ticket lands with the junior on the first rung.
async fn a_customers_ticket_lands_with_the_junior_on_the_first_rung(app: TestApp) {
    let d = desk(&app).await;
    let (status, t) = app
        .client(&d.customer)
        .create_ticket(&CreateTicket::new(
            "Kettle arrived broken",
            "The spout fell off.",
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (t["rung"].as_str(), t["assignee_id"].as_i64()),
        (Some("frontline"), Some(d.jo))
    );
    assert!(t["sla"]["first_response_due"].is_string());
}

/// Customers cannot draft or escalate.
async fn customers_cannot_draft_an_escalation(app: TestApp) {
    let d = desk(&app).await;
    let id = tried_twice(&app, &d).await;
    assert_eq!(
        app.client(&d.customer).escalation_draft(id).await.0,
        StatusCode::FORBIDDEN
    );
}

/// A reason outside the list has its own code.
async fn an_escalation_reason_outside_the_list_is_refused(app: TestApp) {
    let d = desk(&app).await;
    let id = tried_twice(&app, &d).await;
    let (status, err) = app
        .client(&d.jo_token)
        .escalate(id, &Escalate::because("because"))
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_enum_value"))
    );
}

async fn the_escalation_draft_tells_the_customer_what_was_tried(app: TestApp) {
    let d = desk(&app).await;
    let id = tried_twice(&app, &d).await;
    let (status, draft) = app.client(&d.jo_token).escalation_draft(id).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["to_rung"], "experienced");
    assert_eq!(draft["assignee"]["id"].as_i64(), Some(d.eve));
    let text = draft["body"].as_str().unwrap();
    for needle in [
        "half the delivery charge",
        "a new kettle by courier",
        "Test Agent, one of our most experienced support colleagues",
        "You will hear from us by",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from {text}");
    }
}

async fn escalation_moves_the_ticket_up_to_the_chosen_agent(app: TestApp) {
    let d = desk(&app).await;
    let (_, done) = escalated(&app, &d).await;
    assert_eq!(done["ticket"]["rung"], "experienced");
    assert_eq!(done["ticket"]["assignee_id"].as_i64(), Some(d.eve));
    assert_eq!(done["ticket"]["needs_experience"], true);
    assert_eq!(done["escalation"]["reason"], "needs_experience");
}

/// The customer sees the handoff in their conversation, and not the internal note.
async fn the_customer_sees_the_handoff_but_not_the_internal_note(app: TestApp) {
    let d = desk(&app).await;
    let (id, _) = escalated(&app, &d).await;
    let (_, seen) = app.client(&d.customer).ticket(id).await;
    let last = seen["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "reply");
    assert!(last["body"].as_str().unwrap().contains("KT-42"));
    assert!(!seen.to_string().contains("Wants a full refund"));
}

/// The agent's view shows each step in the history.
async fn each_escalation_step_is_in_the_history_and_the_list(app: TestApp) {
    let d = desk(&app).await;
    let (id, _) = escalated(&app, &d).await;
    let eve = app.client(&d.eve_token);
    let (_, full) = eve.ticket(id).await;
    let kinds = history_kinds(&full);
    assert!(
        kinds.ends_with(&[
            "message_added",
            "status_changed",
            "escalated",
            "assignee_changed"
        ]),
        "{kinds:?}"
    );
    let (_, steps) = eve.escalations(id).await;
    assert_eq!(steps.as_array().unwrap().len(), 1);
}

/// The junior no longer works it (not assignee, rung above them): 403.
async fn the_junior_cannot_escalate_a_ticket_no_longer_theirs(app: TestApp) {
    let d = desk(&app).await;
    let (id, _) = escalated(&app, &d).await;
    let (status, _) = app
        .client(&d.jo_token)
        .escalate(id, &Escalate::because("agent_request"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Eve sends it up with the drafted text.
async fn an_escalation_from_the_second_rung_reaches_the_manager(app: TestApp) {
    let d = desk(&app).await;
    let (id, _) = escalated(&app, &d).await;
    let (status, top) = app
        .client(&d.eve_token)
        .escalate(id, &Escalate::because("customer_request"))
        .await;
    assert_eq!(
        (status, top["ticket"]["rung"].as_str()),
        (StatusCode::CREATED, Some("manager"))
    );
}

/// At the top, a further step is a 409.
async fn escalating_at_the_top_rung_is_a_conflict(app: TestApp) {
    let d = desk(&app).await;
    let id = at_the_top(&app, &d).await;
    let (status, err) = app
        .client(&d.mia_token)
        .escalate(id, &Escalate::because("agent_request"))
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::CONFLICT, Some("already_at_top_rung"))
    );
}

/// Down again: managers only, and never without a note.
async fn only_managers_send_a_ticket_down(app: TestApp) {
    let d = desk(&app).await;
    let id = at_the_top(&app, &d).await;
    assert_eq!(
        app.client(&d.eve_token).descend(id, "yours").await.0,
        StatusCode::FORBIDDEN
    );
}

async fn a_descent_needs_a_note(app: TestApp) {
    let d = desk(&app).await;
    let id = at_the_top(&app, &d).await;
    let (status, err) = app.client(&d.mia_token).descend(id, " ").await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("note_required"))
    );
}

async fn a_descent_moves_the_ticket_down_one_rung(app: TestApp) {
    let d = desk(&app).await;
    let id = at_the_top(&app, &d).await;
    let (status, down) = app
        .client(&d.mia_token)
        .descend(id, "Refund approved; please arrange it.")
        .await;
    assert_eq!(
        (status, down["ticket"]["rung"].as_str()),
        (StatusCode::CREATED, Some("experienced"))
    );
}

/// A ticket with a rude first message (read by the judge as it arrives) and that
/// message's id.
async fn rude(app: &TestApp, d: &Desk) -> (i64, i64) {
    let id2 = app
        .open_ticket(
            &d.customer,
            &CreateTicket::new("Refund", "You people are idiots."),
        )
        .await;
    let (_, d2) = app.client(&d.jo_token).ticket(id2).await;
    (id2, d2["messages"][0]["id"].as_i64().unwrap())
}

/// Marking a customer message abusive moves the case to the manager rung.
async fn marking_a_message_abusive_moves_the_case_to_a_manager(app: TestApp) {
    let d = desk(&app).await;
    let (id2, mid) = rude(&app, &d).await;
    let (status, marked) = app
        .client(&d.jo_token)
        .mark_demeanor(id2, mid, "abusive")
        .await;
    assert_eq!(
        (status, marked["rung"].as_str()),
        (StatusCode::OK, Some("manager"))
    );
}

async fn a_message_from_another_ticket_is_not_found_under_this_one(app: TestApp) {
    let d = desk(&app).await;
    let id = tried_twice(&app, &d).await;
    let (_, mid) = rude(&app, &d).await;
    let (status, _) = app
        .client(&d.jo_token)
        .mark_demeanor(id, mid, "angry")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Presence: one's own, or a manager for anyone.
async fn agents_cannot_set_someone_elses_presence(app: TestApp) {
    let d = desk(&app).await;
    assert_eq!(
        app.client(&d.jo_token).set_presence(d.eve, false).await.0,
        StatusCode::FORBIDDEN
    );
}

async fn stepping_away_reassigns_ones_tickets(app: TestApp) {
    let d = desk(&app).await;
    let id = at_the_top(&app, &d).await;
    let (status, _) = app
        .client(&d.mia_token)
        .descend(id, "Refund approved; please arrange it.")
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, away) = app.client(&d.eve_token).set_presence(d.eve, false).await;
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
