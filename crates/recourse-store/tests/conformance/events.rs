//! The event log is append-only, even for SQL that bypasses the store.

use crate::usecases::UseCases;
use recourse_domain::Ticket;
use recourse_domain::{Actor, Priority};
use recourse_store::TicketChange;

use crate::harness::*;

on_both! {
    raw_sql_may_append_to_the_event_log,
    raw_sql_cannot_update_or_delete_events,
    postgres_refuses_truncating_the_event_log,
}

/// A ticket with three events, and a fourth appended over a raw connection of our own.
async fn appended(db: &TestDb) -> (Ticket, Vec<recourse_domain::Event>) {
    let s = &db.store;
    let ada = customer(s, "ada@example.com").await;
    let tk = ticket(s, ada.id, "History", "is not editable", t(0)).await;
    s.update_ticket(
        tk.id,
        TicketChange {
            priority: Some(Priority::High),
            ..change()
        },
        Actor::System,
        t(1),
    )
    .await
    .unwrap();
    let events = s.events(tk.id).await.unwrap();
    assert_eq!(events.len(), 3);

    // Our raw connection works and may append (the log only refuses edits).
    assert_eq!(
        db.raw_execute(&format!(
            "UPDATE tickets SET updated_at = updated_at WHERE id = {}",
            tk.id.0
        ))
        .await
        .unwrap(),
        1
    );
    let append = format!(
        "INSERT INTO events (ticket_id, actor_kind, actor_id, kind, data, at) VALUES ({}, 'system', NULL, 'priority_changed', '{{\"type\":\"priority_changed\",\"from\":\"high\",\"to\":\"low\"}}', {})",
        tk.id.0,
        t(2).0
    );
    assert_eq!(db.raw_execute(&append).await.unwrap(), 1);
    let events = s.events(tk.id).await.unwrap();
    assert_eq!(events.len(), 4);
    (tk, events)
}

async fn raw_sql_may_append_to_the_event_log(db: &TestDb) {
    let s = &db.store;
    let (tk, events) = appended(db).await;
    assert_eq!(s.events(tk.id).await.unwrap(), events);
    assert_eq!(s.count_rows("events").await.unwrap(), 4);
    assert_eq!(s.count_rows("tickets").await.unwrap(), 1);
}

async fn raw_sql_cannot_update_or_delete_events(db: &TestDb) {
    let s = &db.store;
    let (tk, events) = appended(db).await;
    let first = events[0].id.0;
    for sql in [
        "UPDATE events SET kind = 'tampered'".to_owned(),
        format!("UPDATE events SET data = '{{}}', at = 0 WHERE id = {first}"),
        format!(
            "UPDATE events SET ticket_id = NULL WHERE ticket_id = {}",
            tk.id.0
        ),
        "DELETE FROM events".to_owned(),
        format!("DELETE FROM events WHERE id = {first}"),
    ] {
        let err = db.raw_execute(&sql).await.expect_err(&sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(s.events(tk.id).await.unwrap(), events);
    assert_eq!(s.count_rows("events").await.unwrap(), 4);
    assert_eq!(s.count_rows("tickets").await.unwrap(), 1);
}

/// Row triggers do not see TRUNCATE, so the log refuses it on its own (PostgreSQL only:
/// SQLite has no TRUNCATE).
async fn postgres_refuses_truncating_the_event_log(db: &TestDb) {
    let s = &db.store;
    let (tk, events) = appended(db).await;
    if matches!(db.location, Location::Postgres { .. }) {
        // Row triggers do not see TRUNCATE; the log must refuse it as well.
        // (A plain TRUNCATE already fails on the webhook outbox's foreign key.)
        db.raw_execute("TRUNCATE events")
            .await
            .expect_err("TRUNCATE events");
        for sql in ["TRUNCATE events CASCADE", "TRUNCATE tickets CASCADE"] {
            let err = db.raw_execute(sql).await.expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
    }
    assert_eq!(s.events(tk.id).await.unwrap(), events);
    assert_eq!(s.count_rows("events").await.unwrap(), 4);
    assert_eq!(s.count_rows("tickets").await.unwrap(), 1);
}
