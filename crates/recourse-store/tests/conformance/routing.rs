//! Routing on arrival: who a new ticket goes to, and which rung it starts on.

use crate::usecases::UseCases;
use recourse_domain::{Actor, PersonName};
use recourse_store::TicketFor;

use crate::harness::*;

on_both! {
    a_new_ticket_is_routed_to_the_one_agent_present_on_the_first_rung,
    a_supervised_customers_ticket_opened_by_address_starts_on_the_top_rung,
}

async fn a_new_ticket_is_routed_to_the_one_agent_present_on_the_first_rung(db: &TestDb) {
    let s = &db.store;
    let ada = s
        .upsert_customer(&email("ada@example.com"), Some("Ada Lovelace"), t(0))
        .await
        .unwrap();
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    let created = kettle(s, &ada).await;
    // Routed on arrival to the one agent present on the first rung.
    assert_eq!(
        (created.assignee_id, created.team_id, created.outcome),
        (Some(grace.id), None, None)
    );
}

async fn a_supervised_customers_ticket_opened_by_address_starts_on_the_top_rung(db: &TestDb) {
    let s = &db.store;
    let ada = s
        .upsert_customer(&email("ada@example.com"), Some("Ada Lovelace"), t(0))
        .await
        .unwrap();
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    let by_address = |address: &str, name: Option<&str>| {
        let mut new = new_ticket(ada.id, "By address", "Hello", &[], t(12));
        new.customer = TicketFor::Address {
            email: email(address),
            name: name.map(|n| PersonName::parse(n).unwrap()),
        };
        new
    };
    s.create_ticket(by_address("carol@example.com", Some("Carol")))
        .await
        .unwrap();
    let carol = s
        .customer_by_email(&email("carol@example.com"))
        .await
        .unwrap()
        .expect("added with the ticket");
    // A supervised customer's ticket, opened by address, starts on the top rung.
    s.set_supervised(carol.id, true, Actor::Agent(grace.id), t(12))
        .await
        .unwrap();
    let supervised = s
        .create_ticket(by_address("carol@example.com", None))
        .await
        .unwrap();
    assert_eq!(
        (supervised.customer_id, supervised.rung.as_str()),
        (carol.id, "manager")
    );
}
