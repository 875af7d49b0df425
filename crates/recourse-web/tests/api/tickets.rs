//! Tickets: creating, replying, notes, interventions, editing, search, listing, closing.

use crate::harness::*;

on_both!(
    creating_a_ticket_lands_it_new_on_the_first_rung_with_tags_normalised,
    an_agent_reply_opens_a_new_ticket,
    an_intervention_is_recorded_with_its_agent,
    patching_assigns_and_changes_status,
    search_finds_message_text,
    search_does_not_read_interventions,
    listing_with_q_searches_bodies_too,
    the_detail_shows_need_messages_and_interventions,
    the_history_records_each_step_in_order,
    closing_needs_an_outcome_unless_resolved_first,
    a_resolved_ticket_closes_as_resolved,
    a_closed_ticket_refuses_replies,
    cursor_pagination_walks_every_ticket_once_newest_first,
    listing_filters_by_status,
    listing_filters_by_tag_and_own_assignee,
    arrivals_are_routed_so_nothing_waits_unassigned,
    stepping_away_returns_open_tickets_to_the_queue,
);

fn kettle() -> CreateTicket {
    CreateTicket::for_customer(
        "Grace@Example.com",
        "Kettle arrived with a cracked lid",
        "The lid is cracked right across; water leaks when it boils.",
    )
    .customer_name("Grace Brennan")
    .need("A kettle that does not leak")
    .priority("high")
    .tags(&["Delivery", "product"])
}

fn courier() -> NewIntervention {
    NewIntervention::new("replacement", "Sent a new kettle by tracked courier").result("accepted")
}

/// An experienced agent (the only one, so every arrival is routed to her) and her token.
async fn eli(app: &TestApp) -> (i64, String) {
    app.agent("eli@example.com", Role::Agent, Experience::Experienced)
        .await
}

/// The kettle ticket after a reply, a note, an intervention, and assignment with
/// "pending customer": the whole working of one ticket.
async fn worked_kettle(app: &TestApp, agent_id: i64, token: &str) -> i64 {
    let api = app.client(token);
    let id = app.open_ticket(token, &kettle()).await;
    let reply = NewMessage::reply("I'm sorry about the lid. I can send a new kettle today.");
    assert_eq!(api.add_message(id, &reply).await.0, StatusCode::CREATED);
    let note = NewMessage::note("Batch 42 lids are fragile.");
    assert_eq!(api.add_message(id, &note).await.0, StatusCode::CREATED);
    assert_eq!(
        api.record_intervention(id, &courier()).await.0,
        StatusCode::CREATED
    );
    let patch = TicketPatch {
        assignee_id: Some(agent_id),
        status: Some("pending_customer".into()),
        ..Default::default()
    };
    assert_eq!(api.update_ticket(id, &patch).await.0, StatusCode::OK);
    id
}

/// The kettle ticket resolved and closed, and four more open ones.
async fn one_closed_four_open(app: &TestApp, agent_id: i64, token: &str) -> i64 {
    let api = app.client(token);
    let id = worked_kettle(app, agent_id, token).await;
    api.update_ticket(id, &TicketPatch::status("resolved"))
        .await;
    let (status, _) = api.update_ticket(id, &TicketPatch::status("closed")).await;
    assert_eq!(status, StatusCode::OK);
    for n in 0..4 {
        let page = CreateTicket::for_customer("x@example.com", &format!("Page test {n}"), "hello");
        api.create_ticket(&page).await;
    }
    id
}

async fn creating_a_ticket_lands_it_new_on_the_first_rung_with_tags_normalised(app: TestApp) {
    let (_, token) = eli(&app).await;
    let (status, t) = app.client(&token).create_ticket(&kettle()).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!(t["status"], "new");
    assert_eq!(t["rung"], "frontline");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["tags"], json!(["delivery", "product"]));
    assert!(t["number"].as_i64().unwrap() >= 1001);
}

async fn an_agent_reply_opens_a_new_ticket(app: TestApp) {
    let (_, token) = eli(&app).await;
    let id = app.open_ticket(&token, &kettle()).await;
    let (status, m) = app
        .client(&token)
        .add_message(
            id,
            &NewMessage::reply("I'm sorry about the lid. I can send a new kettle today."),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["ticket"]["status"], "open", "a reply opens a new ticket");
}

async fn an_intervention_is_recorded_with_its_agent(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    let id = app.open_ticket(&token, &kettle()).await;
    let (status, i) = app.client(&token).record_intervention(id, &courier()).await;
    assert_eq!(status, StatusCode::CREATED, "{i}");
    assert_eq!(i["kind"], "replacement");
    assert_eq!(i["agent_id"], agent_id);
}

async fn patching_assigns_and_changes_status(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    let id = app.open_ticket(&token, &kettle()).await;
    let patch = TicketPatch {
        assignee_id: Some(agent_id),
        status: Some("pending_customer".into()),
        ..Default::default()
    };
    let (status, p) = app.client(&token).update_ticket(id, &patch).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["assignee_id"], agent_id);
}

async fn search_finds_message_text(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    let id = worked_kettle(&app, agent_id, &token).await;
    let (status, s) = app.client(&token).search("cracked lid").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["hits"][0]["ticket"]["id"], id, "{s}");
}

async fn search_does_not_read_interventions(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    worked_kettle(&app, agent_id, &token).await;
    let (_, s) = app.client(&token).search("courier").await;
    assert!(
        s["hits"].as_array().unwrap().is_empty(),
        "interventions are not message text: {s}"
    );
}

async fn listing_with_q_searches_bodies_too(app: TestApp) {
    let (_, token) = eli(&app).await;
    let id = app.open_ticket(&token, &kettle()).await;
    let (_, s) = app.client(&token).tickets("q=leaks").await;
    assert_eq!(
        s["tickets"][0]["id"], id,
        "list with q searches bodies too: {s}"
    );
}

async fn the_detail_shows_need_messages_and_interventions(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    let id = worked_kettle(&app, agent_id, &token).await;
    let (status, d) = app.client(&token).ticket(id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["need"], "A kettle that does not leak");
    assert_eq!(d["messages"].as_array().unwrap().len(), 3);
    assert_eq!(d["messages"][0]["kind"], "inbound");
    assert_eq!(
        d["interventions"][0]["description"],
        "Sent a new kettle by tracked courier"
    );
}

async fn the_history_records_each_step_in_order(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    let id = worked_kettle(&app, agent_id, &token).await;
    let (_, d) = app.client(&token).ticket(id).await;
    assert_eq!(
        history_kinds(&d),
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
}

/// Closing needs an outcome unless resolved first; the rule answers 409 with its code.
async fn closing_needs_an_outcome_unless_resolved_first(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    let id = worked_kettle(&app, agent_id, &token).await;
    let (status, e) = app
        .client(&token)
        .update_ticket(id, &TicketPatch::status("closed"))
        .await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::CONFLICT, Some("outcome_required"))
    );
}

async fn a_resolved_ticket_closes_as_resolved(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    let id = worked_kettle(&app, agent_id, &token).await;
    let api = app.client(&token);
    let (status, _) = api
        .update_ticket(id, &TicketPatch::status("resolved"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, c) = api.update_ticket(id, &TicketPatch::status("closed")).await;
    assert_eq!(
        (status, c["outcome"].as_str()),
        (StatusCode::OK, Some("resolved"))
    );
}

async fn a_closed_ticket_refuses_replies(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    let id = one_closed_four_open(&app, agent_id, &token).await;
    let (status, e) = app
        .client(&token)
        .add_message(id, &NewMessage::reply("one more thing"))
        .await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::CONFLICT, Some("ticket_closed"))
    );
}

/// Cursor pagination walks every ticket once.
async fn cursor_pagination_walks_every_ticket_once_newest_first(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    one_closed_four_open(&app, agent_id, &token).await;
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .client(&token)
            .tickets(&format!("limit=2{cursor}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(ticket_ids(&page));
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
}

async fn listing_filters_by_status(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    one_closed_four_open(&app, agent_id, &token).await;
    let (_, closed) = app.client(&token).tickets("status=closed").await;
    assert_eq!(closed["tickets"].as_array().unwrap().len(), 1);
}

async fn listing_filters_by_tag_and_own_assignee(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    let id = one_closed_four_open(&app, agent_id, &token).await;
    let (_, tagged) = app.client(&token).tickets("tag=product&assignee=me").await;
    assert_eq!(tagged["tickets"][0]["id"], id);
}

/// Every arrival was routed to the one agent present, so nothing waits unassigned...
async fn arrivals_are_routed_so_nothing_waits_unassigned(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    one_closed_four_open(&app, agent_id, &token).await;
    let (_, unassigned) = app.client(&token).tickets("assignee=none").await;
    assert_eq!(unassigned["tickets"].as_array().unwrap().len(), 0);
}

/// ...until she steps away: her open tickets go back to the rung's queue.
async fn stepping_away_returns_open_tickets_to_the_queue(app: TestApp) {
    let (agent_id, token) = eli(&app).await;
    one_closed_four_open(&app, agent_id, &token).await;
    let api = app.client(&token);
    let (status, away) = api.set_presence(agent_id, false).await;
    assert_eq!(status, StatusCode::OK, "{away}");
    let (_, unassigned) = api.tickets("assignee=none").await;
    assert_eq!(unassigned["tickets"].as_array().unwrap().len(), 4);
}
