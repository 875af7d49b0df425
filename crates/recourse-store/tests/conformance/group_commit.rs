//! SQLite group commit (SQLite only: PostgreSQL commits each transaction itself).

use crate::usecases::UseCases;
use recourse_domain::{Actor, Outcome};
use recourse_store::TicketChange;

use crate::harness::*;

/// Concurrent writes share commits; a write that fails in the middle of a shared batch
/// leaves nothing behind and takes no other write with it; what was acknowledged is in
/// the file when it is opened again.
#[tokio::test]
async fn concurrent_writes_share_commits_and_a_failing_one_takes_no_other_with_it() {
    let dir = std::env::temp_dir().join(format!("recourse-group-{}", unique_suffix()));
    let file = dir.join("recourse.db");
    let sqlite = open_sqlite(&file).await;
    let s = shared_sqlite(&sqlite);
    let ada = customer(&s, "ada@acme.example").await;
    let fixed = ticket(&s, ada.id, "Fixed", "stays as it is", t(1)).await;
    let before = sqlite
        .group_commit_stats()
        .expect("SQLite groups its commits");

    let mut tasks = Vec::new();
    for i in 0..64 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            if i % 4 == 0 {
                // Refused inside its transaction, after reading the ticket.
                let change = TicketChange {
                    outcome: Some(Outcome::Explained),
                    ..change()
                };
                s.update_ticket(fixed.id, change, Actor::Customer(ada.id), t(2))
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            } else {
                s.create_ticket(new_ticket(
                    ada.id,
                    &format!("Grouped {i}"),
                    "hello",
                    &[],
                    t(2),
                ))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
            }
        }));
    }
    let mut refused = 0;
    for task in tasks {
        if task.await.unwrap().is_err() {
            refused += 1;
        }
    }
    assert_eq!(refused, 16);
    let after = sqlite
        .group_commit_stats()
        .expect("SQLite groups its commits");
    let transactions = after.transactions - before.transactions;
    let batches = after.batches - before.batches;
    assert_eq!(
        transactions, 48,
        "only the successful writes were committed"
    );
    assert!(
        batches < transactions,
        "64 writers at once shared commits: {batches} commits for {transactions} writes"
    );
    assert_eq!(s.get_ticket(fixed.id).await.unwrap().status, fixed.status);
    assert_eq!(s.count_rows("tickets").await.unwrap(), 49);

    // Reopened from the file: every acknowledged ticket is there.
    drop(s);
    drop(sqlite);
    let reopened = shared_sqlite(&open_sqlite(&file).await);
    assert_eq!(reopened.count_rows("tickets").await.unwrap(), 49);
    std::fs::remove_dir_all(dir).ok();
}

/// Writes that commit, interleaved with writes that give up half-way (their transaction
/// dropped without commit), all at once: every committed write is kept, none of the
/// abandoned ones.
#[tokio::test]
async fn committed_writes_are_kept_among_abandoned_ones() {
    let db = TestDb::sqlite().await;
    let s = db.store.clone();
    let mut known = Vec::new();
    for i in 0..40 {
        known.push(customer(&s, &format!("known{i}@acme.example")).await);
    }
    let mut tasks = Vec::new();
    for round in 0..5 {
        for i in 0..80 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                // Even: a known customer (commits); odd: unknown (returns before writing).
                let address = if i % 2 == 0 {
                    format!("known{}@acme.example", (i / 2) % 40)
                } else {
                    format!("stranger{round}-{i}@acme.example")
                };
                s.request_portal_link(&email(&address), 1000, 3_600_000, t(round))
                    .await
                    .unwrap()
            }));
        }
    }
    let mut queued = 0;
    for task in tasks {
        if task.await.unwrap() {
            queued += 1;
        }
    }
    assert_eq!(queued, 200);
    assert_eq!(s.count_rows("portal_links").await.unwrap(), 200);
    db.cleanup().await;
}
