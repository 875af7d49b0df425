//! A customer's token reaches their own tickets and nothing else.

use crate::harness::*;

on_both!(
    another_customers_ticket_answers_404,
    another_customers_ticket_reads_exactly_like_a_missing_one,
    customers_cannot_edit_a_ticket,
    customers_cannot_add_notes,
    customers_cannot_record_interventions,
    customers_cannot_open_tickets_for_others,
    customers_cannot_list_agents,
    a_customers_list_holds_only_their_tickets,
    a_customers_search_finds_only_their_tickets,
    a_customers_search_does_not_read_internal_notes,
    an_agents_search_reads_internal_notes,
    internal_notes_are_hidden_from_the_customer,
    a_customer_reply_reopens_a_ticket_waiting_on_them,
);

/// Alice and Bob with a ticket each, an agent's note on Bob's.
struct Two {
    agent: String,
    alice: String,
    bob: String,
    alice_ticket: i64,
    bob_ticket: i64,
}

async fn two_customers(app: &TestApp) -> Two {
    let (_, agent) = app
        .agent("sam@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, alice) = app.customer_token("alice@example.com").await;
    let (_, bob) = app.customer_token("bob@example.com").await;
    let alice_ticket = app
        .open_ticket(
            &alice,
            &CreateTicket::new("Alice's broken heater", "The heater rattles."),
        )
        .await;
    let bob_ticket = app
        .open_ticket(
            &bob,
            &CreateTicket::new("Bob's heater invoice", "Invoice for the heater is wrong."),
        )
        .await;
    app.client(&agent)
        .add_message(bob_ticket, &NewMessage::note("Bob is a heater reseller"))
        .await;
    Two {
        agent,
        alice,
        bob,
        alice_ticket,
        bob_ticket,
    }
}

/// Someone else's ticket looks exactly like a missing one.
async fn another_customers_ticket_answers_404(app: TestApp) {
    let t = two_customers(&app).await;
    let alice = app.client(&t.alice);
    for (what, (status, e)) in [
        ("GET", alice.ticket(t.bob_ticket).await),
        (
            "POST messages",
            alice
                .add_message(t.bob_ticket, &NewMessage::plain("let me in"))
                .await,
        ),
    ] {
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {e}");
        assert_eq!(e["error"]["code"], "not_found");
    }
}

async fn another_customers_ticket_reads_exactly_like_a_missing_one(app: TestApp) {
    let t = two_customers(&app).await;
    let alice = app.client(&t.alice);
    let (missing_status, missing) = alice.ticket(999999).await;
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
    let (_, other) = alice.ticket(t.bob_ticket).await;
    assert_eq!(
        missing, other,
        "no difference between someone else's ticket and no ticket"
    );
}

async fn customers_cannot_edit_a_ticket(app: TestApp) {
    let t = two_customers(&app).await;
    let patch = TicketPatch {
        priority: Some("urgent".into()),
        ..Default::default()
    };
    let (status, _) = app
        .client(&t.alice)
        .update_ticket(t.alice_ticket, &patch)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn customers_cannot_add_notes(app: TestApp) {
    let t = two_customers(&app).await;
    let (status, _) = app
        .client(&t.alice)
        .add_message(t.alice_ticket, &NewMessage::note("sneaky"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn customers_cannot_record_interventions(app: TestApp) {
    let t = two_customers(&app).await;
    let (status, _) = app
        .client(&t.alice)
        .record_intervention(t.alice_ticket, &NewIntervention::new("refund", "gimme"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn customers_cannot_open_tickets_for_others(app: TestApp) {
    let t = two_customers(&app).await;
    let (status, _) = app
        .client(&t.alice)
        .create_ticket(&CreateTicket::for_customer("bob@example.com", "x", "y"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn customers_cannot_list_agents(app: TestApp) {
    let t = two_customers(&app).await;
    let (status, _) = app.client(&t.alice).agents().await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Lists and search are scoped to the caller; notes stay internal.
async fn a_customers_list_holds_only_their_tickets(app: TestApp) {
    let t = two_customers(&app).await;
    let (_, list) = app.client(&t.alice).tickets("").await;
    assert_eq!(ticket_ids(&list), [t.alice_ticket]);
}

async fn a_customers_search_finds_only_their_tickets(app: TestApp) {
    let t = two_customers(&app).await;
    let (_, s) = app.client(&t.alice).search("heater").await;
    let ids: Vec<i64> = s["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["ticket"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [t.alice_ticket]);
}

async fn a_customers_search_does_not_read_internal_notes(app: TestApp) {
    let t = two_customers(&app).await;
    let (_, s) = app.client(&t.bob).search("reseller").await;
    assert!(
        s["hits"].as_array().unwrap().is_empty(),
        "a customer's search must not read internal notes"
    );
}

async fn an_agents_search_reads_internal_notes(app: TestApp) {
    let t = two_customers(&app).await;
    let (_, s) = app.client(&t.agent).search("reseller").await;
    assert_eq!(s["hits"][0]["ticket"]["id"], t.bob_ticket);
}

async fn internal_notes_are_hidden_from_the_customer(app: TestApp) {
    let t = two_customers(&app).await;
    let (_, d) = app.client(&t.bob).ticket(t.bob_ticket).await;
    assert_eq!(
        d["messages"].as_array().unwrap().len(),
        1,
        "the note is hidden from the customer: {d}"
    );
}

async fn a_customer_reply_reopens_a_ticket_waiting_on_them(app: TestApp) {
    let t = two_customers(&app).await;
    app.client(&t.agent)
        .update_ticket(t.alice_ticket, &TicketPatch::status("pending_customer"))
        .await;
    let (status, m) = app
        .client(&t.alice)
        .add_message(t.alice_ticket, &NewMessage::plain("Still rattling."))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["message"]["kind"], "inbound");
    assert_eq!(m["ticket"]["status"], "open");
}
