//! The benchmarks' bulk seeding path.

use recourse_domain::CustomerId;
use std::collections::BTreeSet;

use crate::harness::*;

on_both! {
    seeded_tickets_are_numbered_after_existing_ones_and_searchable,
    seeding_spreads_tickets_over_customers_of_their_own,
}

/// The benchmarks' bulk path: tickets with their messages, numbered after what exists,
/// searchable like any other.
async fn seeded_tickets_are_numbered_after_existing_ones_and_searchable(db: &TestDb) {
    let s = &db.store;
    let ada = customer(s, "ada@acme.example").await;
    let first = ticket(s, ada.id, "Made by hand", "hello", t(1)).await;
    let seeded = s
        .seed_tickets(&recourse_store::SeedSpec {
            count: 40,
            customer_id: ada.id,
            tickets_per_customer: 0,
            created_at: t(10),
            due: 0,
            rung: "frontline".into(),
            ended: false,
            messages: 3,
        })
        .await
        .unwrap();
    assert_eq!(seeded, 40);
    assert_eq!(s.count_rows("tickets").await.unwrap(), 41);
    assert_eq!(s.count_rows("messages").await.unwrap(), 1 + 40 * 3);
    let hits = s.search(&search_for("Seeded", None)).await.unwrap();
    assert!(!hits.is_empty(), "seeded tickets are searchable");
    let numbers: BTreeSet<i64> = hits.iter().map(|h| h.ticket.number).collect();
    assert!(numbers.iter().all(|n| *n > first.number), "{numbers:?}");
}

async fn seeding_spreads_tickets_over_customers_of_their_own(db: &TestDb) {
    let s = &db.store;
    let ada = customer(s, "ada@acme.example").await;
    // Spread over customers of their own: 10 tickets, 4 each, make 3 new customers.
    let customers_before = s.count_rows("customers").await.unwrap();
    s.seed_tickets(&recourse_store::SeedSpec {
        count: 10,
        customer_id: ada.id,
        tickets_per_customer: 4,
        created_at: t(20),
        due: 0,
        rung: "frontline".into(),
        ended: false,
        messages: 1,
    })
    .await
    .unwrap();
    assert_eq!(
        s.count_rows("customers").await.unwrap(),
        customers_before + 3
    );
    let spread = s.list_tickets(&all(100)).await.unwrap();
    let mut per_customer = std::collections::BTreeMap::<CustomerId, usize>::new();
    for t in spread.iter().take(10) {
        *per_customer.entry(t.customer_id).or_default() += 1;
    }
    assert_eq!(
        per_customer.values().copied().collect::<Vec<_>>(),
        [4, 4, 2]
    );
    assert!(!per_customer.contains_key(&ada.id));
}
