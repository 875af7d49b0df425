//! Concurrent writers: every change applies to the latest state, none is lost.

use crate::usecases::UseCases;
use recourse_domain::{Actor, EventKind, MessageKind, Priority, TicketId};
use recourse_store::TicketChange;
use std::collections::BTreeSet;

use crate::harness::*;

on_both! {
    concurrent_changes_to_one_ticket_all_apply_and_none_is_lost,
}

async fn concurrent_changes_to_one_ticket_all_apply_and_none_is_lost(db: &TestDb) {
    let s = &db.store;
    let ada = customer(s, "ada@example.com").await;
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    let shared = ticket(s, ada.id, "Busy ticket", "Everyone is on this one.", t(0)).await;

    let mut tasks = Vec::new();
    for i in 0..8i64 {
        let s = s.clone();
        let by = Actor::Agent(grace.id);
        tasks.push(tokio::spawn(async move {
            let mut created = Vec::new();
            for j in 0..3i64 {
                let now = t(10 + i * 10 + j);
                s.add_message(message(
                    shared.id,
                    MessageKind::Note,
                    by,
                    &format!("note {i}-{j}"),
                    now,
                ))
                .await
                .unwrap();
                let priority = Priority::ALL[((i + j) % 4) as usize];
                s.update_ticket(
                    shared.id,
                    TicketChange {
                        priority: Some(priority),
                        ..change()
                    },
                    by,
                    now,
                )
                .await
                .unwrap();
                created.push(
                    s.create_ticket(new_ticket(
                        ada.id,
                        &format!("Parallel {i}-{j}"),
                        "hello",
                        &[],
                        now,
                    ))
                    .await
                    .unwrap(),
                );
            }
            created
        }));
    }
    let mut created = Vec::new();
    for task in tasks {
        created.extend(task.await.unwrap());
    }

    // Each new ticket got its own id and number.
    let numbers: BTreeSet<i64> = created.iter().map(|t| t.number).collect();
    let ids: BTreeSet<TicketId> = created.iter().map(|t| t.id).collect();
    assert_eq!((numbers.len(), ids.len()), (24, 24));
    assert!(numbers.iter().all(|n| *n > shared.number));
    assert_eq!(s.count_rows("tickets").await.unwrap(), 25);

    // No message is lost, and the priority events form one unbroken chain: every change
    // saw the state the previous one left behind.
    assert_eq!(s.messages(shared.id).await.unwrap().len(), 25);
    let events = s.events(shared.id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind.name() == "message_added")
            .count(),
        25
    );
    let mut current = Priority::Normal;
    for e in &events {
        if let EventKind::PriorityChanged { from, to } = e.kind {
            assert_eq!(from, current, "a change was applied to a stale ticket");
            assert_ne!(from, to);
            current = to;
        }
    }
    assert_eq!(s.get_ticket(shared.id).await.unwrap().priority, current);
}
