//! The webhook outbox.

use crate::usecases::UseCases;
use recourse_domain::Ticket;
use recourse_domain::{Actor, Customer, MessageKind, Millis};
use recourse_store::StoreError;

use crate::harness::*;

on_both! {
    a_webhook_gets_the_events_after_it_was_added_and_not_before,
    claimed_deliveries_are_leased,
    a_failed_delivery_is_retried_with_backoff,
    a_delivery_claimed_by_a_node_that_died_falls_due_after_the_lease,
    removing_a_webhook_drops_pending_deliveries_and_queues_nothing_new,
    a_webhook_for_some_kinds_gets_exactly_those,
}

/// A ticket from before the webhook was added, the webhook, and a ticket after it.
struct Hooked {
    ada: Customer,
    now: Millis,
    hook: recourse_store::Webhook,
    tk: Ticket,
}

async fn hooked(s: &S) -> Hooked {
    let ada = customer(s, "ada@example.com").await;
    let now = at("2026-11-23T10:00:00Z");
    // Events before the webhook existed are not sent to it.
    s.create_ticket(new_ticket(ada.id, "Before", "Hi", &[], now))
        .await
        .unwrap();
    let hook = s
        .create_webhook("http://127.0.0.1:9/hook", "whsec-1", &[], now)
        .await
        .unwrap();
    let tk = s
        .create_ticket(new_ticket(ada.id, "After", "Hi", &[], now))
        .await
        .unwrap();
    Hooked { ada, now, hook, tk }
}

async fn a_webhook_gets_the_events_after_it_was_added_and_not_before(db: &TestDb) {
    let s = &db.store;
    let Hooked { now, tk, .. } = hooked(s).await;
    let claimed = s.claim_deliveries(now, 60_000, 100).await.unwrap();
    // ticket_created and message_added (nobody to route to: no assignee event).
    assert_eq!(
        claimed
            .iter()
            .map(|d| d.event.kind.name())
            .collect::<Vec<_>>(),
        ["ticket_created", "message_added"]
    );
    assert!(
        claimed
            .iter()
            .all(|d| d.event.ticket_id == Some(tk.id) && d.secret == "whsec-1" && d.attempt == 1)
    );
}

async fn claimed_deliveries_are_leased(db: &TestDb) {
    let s = &db.store;
    let Hooked { now, .. } = hooked(s).await;
    let _claimed = s.claim_deliveries(now, 60_000, 100).await.unwrap();
    // Claimed work is leased: nobody else gets it until the lease runs out.
    assert!(
        s.claim_deliveries(Millis(now.0 + 30_000), 60_000, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_failed_delivery_is_retried_with_backoff(db: &TestDb) {
    let s = &db.store;
    let Hooked { now, .. } = hooked(s).await;
    let claimed = s.claim_deliveries(now, 60_000, 100).await.unwrap();
    let first = claimed[0].id;
    s.finish_delivery(first, Ok(()), now).await.unwrap();
    s.finish_delivery(claimed[1].id, Err("the webhook answered 500".into()), now)
        .await
        .unwrap();
    // Retried with backoff: not after 5 s, but after 10 s.
    assert!(
        s.claim_deliveries(Millis(now.0 + 5_000), 60_000, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let retry = s
        .claim_deliveries(Millis(now.0 + 10_000), 60_000, 100)
        .await
        .unwrap();
    assert_eq!((retry.len(), retry[0].attempt), (1, 2));
}

async fn a_delivery_claimed_by_a_node_that_died_falls_due_after_the_lease(db: &TestDb) {
    let s = &db.store;
    let Hooked { now, hook, .. } = hooked(s).await;
    let claimed = s.claim_deliveries(now, 60_000, 100).await.unwrap();
    let first = claimed[0].id;
    s.finish_delivery(first, Ok(()), now).await.unwrap();
    s.finish_delivery(claimed[1].id, Err("the webhook answered 500".into()), now)
        .await
        .unwrap();
    s.claim_deliveries(Millis(now.0 + 10_000), 60_000, 100)
        .await
        .unwrap();
    // A node that claims and dies: the delivery falls due again after the lease.
    let again = s
        .claim_deliveries(Millis(now.0 + 70_001), 60_000, 100)
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].attempt), (1, 3));
    s.finish_delivery(again[0].id, Ok(()), now).await.unwrap();
    let log = s.webhook_deliveries(hook.id, 10).await.unwrap();
    assert!(log.iter().all(|d| d.delivered_at.is_some()), "{log:?}");
}

async fn removing_a_webhook_drops_pending_deliveries_and_queues_nothing_new(db: &TestDb) {
    let s = &db.store;
    let Hooked {
        ada, now, hook, tk, ..
    } = hooked(s).await;
    // Removing the webhook drops what is pending and queues nothing new.
    s.add_message(message(
        tk.id,
        MessageKind::Inbound,
        Actor::Customer(ada.id),
        "More",
        now,
    ))
    .await
    .unwrap();
    s.deactivate_webhook(hook.id, now).await.unwrap();
    s.add_message(message(
        tk.id,
        MessageKind::Inbound,
        Actor::Customer(ada.id),
        "Even more",
        now,
    ))
    .await
    .unwrap();
    assert!(
        s.claim_deliveries(Millis(now.0 + 1_000_000), 60_000, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        s.deactivate_webhook(hook.id + 100, now).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_webhook_for_some_kinds_gets_exactly_those(db: &TestDb) {
    let s = &db.store;
    let ada = customer(s, "ada@example.com").await;
    let now = at("2026-11-23T10:00:00Z");
    // A webhook that asked for some kinds gets exactly those: `message_added` does not
    // match `message_added_x`, and `_` is no wildcard.
    let picky = s
        .create_webhook(
            "http://127.0.0.1:9/picky",
            "whsec-2",
            &["message_added".to_owned(), "ticket_xreated".to_owned()],
            now,
        )
        .await
        .unwrap();
    let tk = s
        .create_ticket(new_ticket(ada.id, "Picky", "Hi", &[], now))
        .await
        .unwrap();
    let claimed = s
        .claim_deliveries(Millis(now.0 + 2_000_000), 60_000, 100)
        .await
        .unwrap();
    assert_eq!(
        claimed
            .iter()
            .map(|d| (d.event.kind.name(), d.event.ticket_id, d.secret.as_str()))
            .collect::<Vec<_>>(),
        [("message_added", Some(tk.id), "whsec-2")]
    );
    s.deactivate_webhook(picky.id, now).await.unwrap();
}
