//! Group commit for SQLite: write transactions that arrive while others run share one
//! `COMMIT`, and so one fsync, instead of paying one each.
//!
//! The single writer connection opens a batch with `BEGIN IMMEDIATE`; each write
//! transaction is a savepoint inside it. When a transaction commits, its savepoint is
//! released; if nobody else is waiting for the writer (or the batch is full), that
//! transaction commits the batch and tells everyone in it; otherwise it hands the open
//! batch to the next one and waits. Either way `commit` returns only once the batch is
//! durable, so a request is never acknowledged before its write is on disk. A failed
//! transaction rolls back to its savepoint and leaves the others in the batch alone.
//!
//! Between batches the connection goes back to the pool, so the few single statements
//! that use the writer pool directly still get their turn.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use sqlx::SqliteConnection;
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::{Result, StoreError};

/// Most transactions one batch holds before it is committed anyway, so a steady stream
/// of writers never keeps a batch (and the readers' view of it) open for long.
const MAX_BATCH: usize = 256;
/// Failed batches remembered for their waiters.
const FAILURES_KEPT: usize = 64;
/// How long a transaction waits for its batch to close before checking that someone
/// is still going to close it.
const NUDGE: std::time::Duration = std::time::Duration::from_millis(5);

/// Counts a transaction as waiting for the writer until it gets it or gives up.
struct InLine<'a>(&'a AtomicUsize);

impl<'a> InLine<'a> {
    fn join(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        InLine(count)
    }
}

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct Writer {
    /// The writer connection, inside `BEGIN IMMEDIATE`, while a batch is open.
    open: Option<PoolConnection<Sqlite>>,
    /// The number of the open (or last) batch.
    batch: u64,
    /// Transactions released into the open batch so far.
    members: usize,
    /// A transaction was dropped without commit; its savepoint is still to undo.
    undo: bool,
}

pub(crate) struct GroupCommit {
    pool: SqlitePool,
    writer: Arc<Mutex<Writer>>,
    /// Transactions waiting for the writer; when none are, a commit closes the batch.
    waiting: AtomicUsize,
    /// The last batch made durable (or given up).
    done: watch::Sender<u64>,
    failures: StdMutex<VecDeque<(u64, String)>>,
    batches_committed: AtomicU64,
    transactions_committed: AtomicU64,
}

/// How well writes are being grouped: transactions per durable commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Batches committed (one fsync each).
    pub batches: u64,
    /// Write transactions committed inside them.
    pub transactions: u64,
}

impl GroupCommit {
    pub(crate) fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            batches: self.batches_committed.load(Ordering::Relaxed),
            transactions: self.transactions_committed.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn new(pool: SqlitePool) -> Arc<Self> {
        Arc::new(GroupCommit {
            pool,
            writer: Arc::new(Mutex::new(Writer::default())),
            waiting: AtomicUsize::new(0),
            done: watch::channel(0).0,
            failures: StdMutex::new(VecDeque::new()),
            batches_committed: AtomicU64::new(0),
            transactions_committed: AtomicU64::new(0),
        })
    }

    pub(crate) async fn begin(self: &Arc<Self>) -> Result<WriteTx> {
        let in_line = InLine::join(&self.waiting);
        let mut guard = self.writer.clone().lock_owned().await;
        drop(in_line);
        if guard.undo {
            undo(&mut guard).await?;
        }
        if guard.open.is_none() {
            let mut conn = self.pool.acquire().await?;
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            guard.open = Some(conn);
            guard.batch += 1;
            guard.members = 0;
        }
        let conn = guard.open.as_mut().expect("a batch is open");
        if let Err(e) = sqlx::query("SAVEPOINT job").execute(&mut **conn).await {
            // The batch itself is broken: give it up so the next transaction starts clean.
            self.close(guard, Err(e.to_string())).await;
            return Err(e.into());
        }
        Ok(WriteTx {
            guard: Some(guard),
            group: self.clone(),
        })
    }

    /// Ends the open batch with COMMIT (or ROLLBACK if `outcome` is already an error)
    /// and tells its waiters.
    async fn close(
        &self,
        mut guard: OwnedMutexGuard<Writer>,
        outcome: std::result::Result<(), String>,
    ) {
        let batch = guard.batch;
        let outcome = match (guard.open.take(), outcome) {
            (Some(mut conn), Ok(())) => match sqlx::query("COMMIT").execute(&mut *conn).await {
                Ok(_) => Ok(()),
                Err(e) => {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    Err(e.to_string())
                }
            },
            (Some(mut conn), Err(e)) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e)
            }
            (None, outcome) => outcome,
        };
        let members = std::mem::take(&mut guard.members) as u64;
        if outcome.is_ok() && members > 0 {
            self.batches_committed.fetch_add(1, Ordering::Relaxed);
            self.transactions_committed
                .fetch_add(members, Ordering::Relaxed);
        }
        if let Err(e) = outcome {
            let mut failures = self.failures.lock().expect("not poisoned");
            failures.push_back((batch, e));
            if failures.len() > FAILURES_KEPT {
                failures.pop_front();
            }
        }
        drop(guard);
        self.done.send_replace(batch);
    }

    async fn wait_durable(&self, batch: u64) -> Result<()> {
        let mut done = self.done.subscribe();
        loop {
            // (The watch's guard is dropped at once: it must not live across an await.)
            let closed = tokio::time::timeout(NUDGE, done.wait_for(|d| *d >= batch))
                .await
                .map(|r| r.map(|_| ()));
            match closed {
                Ok(Ok(_)) => break,
                Ok(Err(_)) => return Err(StoreError::Corrupt("the writer went away".into())),
                // The one we handed the batch to gave up before taking it (its request was
                // cancelled): if the writer is free and our batch still open, close it.
                Err(_) => {
                    if let Ok(guard) = self.writer.clone().try_lock_owned()
                        && guard.batch == batch
                        && guard.open.is_some()
                    {
                        self.close(guard, Ok(())).await;
                    }
                }
            }
        }
        let failures = self.failures.lock().expect("not poisoned");
        match failures.iter().find(|(b, _)| *b == batch) {
            Some((_, e)) => Err(StoreError::Corrupt(format!(
                "the group commit this write was part of failed: {e}"
            ))),
            None => Ok(()),
        }
    }
}

/// Undoes what a dropped transaction left in the open batch.
async fn undo(guard: &mut Writer) -> Result<()> {
    guard.undo = false;
    if let Some(conn) = guard.open.as_mut() {
        sqlx::query("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")
            .execute(&mut **conn)
            .await?;
    }
    Ok(())
}

/// One write transaction: a savepoint in the open batch. Dropped without `commit`, it
/// rolls back, like sqlx's own transactions.
pub(crate) struct WriteTx {
    guard: Option<OwnedMutexGuard<Writer>>,
    group: Arc<GroupCommit>,
}

impl WriteTx {
    /// Keeps this transaction's writes and returns once they are durable.
    pub(crate) async fn commit(mut self) -> Result<()> {
        let mut guard = self.guard.take().expect("a live transaction");
        let conn = guard.open.as_mut().expect("a batch is open");
        if let Err(e) = sqlx::query("RELEASE SAVEPOINT job")
            .execute(&mut **conn)
            .await
        {
            guard.undo = true;
            let _ = undo(&mut guard).await;
            self.hand_on(guard).await;
            return Err(e.into());
        }
        guard.members += 1;
        let batch = guard.batch;
        self.hand_on(guard).await;
        self.group.wait_durable(batch).await
    }

    /// Leaves the batch open for the next transaction, or commits it when nobody is
    /// waiting or it is full.
    async fn hand_on(&self, guard: OwnedMutexGuard<Writer>) {
        let nobody_next = self.group.waiting.load(Ordering::SeqCst) == 0;
        if nobody_next || guard.members >= MAX_BATCH {
            self.group.close(guard, Ok(())).await;
        }
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.guard
            .as_ref()
            .and_then(|g| g.open.as_ref())
            .expect("a live transaction")
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.guard
            .as_mut()
            .and_then(|g| g.open.as_mut())
            .expect("a live transaction")
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else {
            return;
        };
        // Rolling back needs the connection, which needs an await: mark it, and let a
        // task finish the job (and the batch, if nobody else will) while it still holds
        // the writer.
        guard.undo = true;
        let group = self.group.clone();
        let finish = async move {
            if undo(&mut guard).await.is_err() {
                group
                    .close(guard, Err("undoing a dropped write failed".into()))
                    .await;
                return;
            }
            // Close the batch if nobody else will, or if it holds nothing worth keeping
            // open; otherwise the next transaction carries on with it.
            let nobody_next = group.waiting.load(Ordering::SeqCst) == 0;
            if nobody_next || guard.members == 0 {
                group.close(guard, Ok(())).await;
            }
        };
        // Without a runtime (shutting down) there is nothing to spawn on: the connection
        // closes with the pool and SQLite rolls the open batch back; it only held undone
        // work, or work whose writers are gone too.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(finish);
        }
    }
}
