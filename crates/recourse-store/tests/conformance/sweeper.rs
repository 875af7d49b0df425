//! The sweeper under concurrency.

use crate::usecases::UseCases;
use recourse_domain::{Experience, Role};

use crate::harness::*;

on_both! {
    many_sweepers_at_once_escalate_each_due_ticket_exactly_once,
}

/// Many sweepers at once (threads here; processes in the CLI test) escalate each due
/// ticket exactly once.
async fn many_sweepers_at_once_escalate_each_due_ticket_exactly_once(db: &TestDb) {
    let s = &db.store;
    staff(s, "jo@example.com", "Jo", Role::Agent, Experience::Junior).await;
    staff(
        s,
        "eve@example.com",
        "Eve",
        Role::Agent,
        Experience::Experienced,
    )
    .await;
    let ada = customer(s, "ada@example.com").await;
    let mut ids = Vec::new();
    for i in 0..40 {
        let tk = s
            .create_ticket(new_ticket(
                ada.id,
                &format!("Due {i}"),
                "Hello",
                &[],
                at("2026-11-23T10:00:00Z"),
            ))
            .await
            .unwrap();
        ids.push(tk.id);
    }
    let when = at("2026-11-23T15:00:00Z");
    let sweepers: Vec<_> = (0..6)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut escalated = 0;
                loop {
                    let r = s.sweep_sla(when, 7).await.unwrap();
                    if r.examined == 0 {
                        break escalated;
                    }
                    escalated += r.escalated;
                }
            })
        })
        .collect();
    let mut total = 0;
    for h in sweepers {
        total += h.await.unwrap();
    }
    assert_eq!(total, 40);
    for id in ids {
        assert_eq!(s.escalations(id).await.unwrap().len(), 1, "ticket {id:?}");
    }
}
