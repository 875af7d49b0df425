//! The embedded default: one SQLite file in WAL mode under the data directory.
//!
//! All writes go through a pool of exactly one connection, so transactions never
//! race each other for SQLite's single write lock; reads use their own pool and see
//! committed data through WAL without waiting for the writer. Write transactions that
//! arrive together are committed together ([`group`]).

mod group;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use group::GroupCommitStats;
use group::{GroupCommit, WriteTx};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::common::{impl_store, search_filter, ticket_cols_of_t};
use crate::{Backend, Result, SearchHit, SearchQuery, StoreError, decode};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("migrations/0001_init.sql")),
    (2, "ladder", include_str!("migrations/0002_ladder.sql")),
    (3, "recovery", include_str!("migrations/0003_recovery.sql")),
    (4, "mail", include_str!("migrations/0004_mail.sql")),
    (
        5,
        "report_index",
        include_str!("migrations/0005_report_index.sql"),
    ),
    (6, "portal", include_str!("migrations/0006_portal.sql")),
    (7, "console", include_str!("migrations/0007_console.sql")),
    (8, "admin", include_str!("migrations/0008_admin.sql")),
    (9, "imap", include_str!("migrations/0009_imap.sql")),
    (
        10,
        "search_triggers",
        include_str!("migrations/0010_search_triggers.sql"),
    ),
    (
        11,
        "webhook_outbox",
        include_str!("migrations/0011_webhook_outbox.sql"),
    ),
    (
        12,
        "report_days",
        include_str!("migrations/0012_report_days.sql"),
    ),
];

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    group: Arc<GroupCommit>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Migration(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk (fsync'd) before it returns, so an acknowledged
            // write survives power loss too. Group commit (group.rs) shares that fsync
            // among the writes that arrive together.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        migrate(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        let group = GroupCommit::new(writer.clone());
        Ok(SqliteStore {
            writer,
            reader,
            group,
        })
    }

    /// How many write transactions have shared each durable commit so far.
    pub fn group_commit_stats(&self) -> GroupCommitStats {
        self.group.stats()
    }

    /// Writes a consistent copy of the live database to `dest` with `VACUUM INTO`, while
    /// the desk keeps serving (in WAL mode the copy reads a snapshot; writers go on).
    pub async fn backup_to(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists; a backup never overwrites a file",
                dest.display()
            )));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(dest.to_string_lossy().into_owned())
            .execute(&self.reader)
            .await?;
        Ok(())
    }

    /// Checks that a database file is whole and consistent (`integrity_check`, foreign
    /// keys) without migrating or changing it; returns its ticket count.
    pub async fn verify_file(path: &Path) -> Result<i64> {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .connect()
            .await?;
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await?;
        if integrity != "ok" {
            return Err(StoreError::Corrupt(format!("integrity check: {integrity}")));
        }
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut conn)
            .await?;
        if let Some(row) = broken.first() {
            let table: String = row.try_get(0)?;
            return Err(StoreError::Corrupt(format!(
                "a foreign key in {table} points nowhere"
            )));
        }
        let tickets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
            .fetch_one(&mut conn)
            .await?;
        conn.close().await?;
        Ok(tickets)
    }
}

/// What SQLite does its own way; the rest of `Store` comes from [`impl_store!`].
impl SqliteStore {
    const BACKEND: Backend = Backend::Sqlite;

    /// Nothing to add: the IMMEDIATE transaction already holds the database's write lock.
    const ROW_LOCK: &str = "";
    /// The single writer already keeps claims apart.
    const CLAIM_LOCK: &str = "";
    /// `instr` on two blobs compares bytes (`X'…'` is `text/html`).
    const RAW_HAS_HTML: &str = "(instr(i.raw, X'746578742f68746d6c') > 0)";

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    async fn begin(&self) -> Result<WriteTx> {
        // A savepoint in the writer's open batch, which took the write lock up front
        // (BEGIN IMMEDIATE): a read-then-write transaction never fails half-way because
        // another process wrote in between.
        self.group.begin().await
    }

    /// Only the writer's lock serialises numbering: the IMMEDIATE batch holds it.
    const NEXT_TICKET_NUMBER: &str = "(SELECT COALESCE(MAX(number), 1000) + 1 FROM tickets)";

    /// Nothing to do: the triggers indexed the seeded rows as they were written.
    async fn after_seed(_conn: &mut SqliteConnection, _after: i64) -> Result<()> {
        Ok(())
    }

    async fn search_impl(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let terms = crate::search_terms(&q.text);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        // Every term quoted: user text is matched as words, never parsed as FTS syntax.
        let fts = terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" ");
        // MATERIALIZED keeps SQLite from flattening `hits` into the grouped query below,
        // where bm25() fails with "unable to use function bm25 in the requested context".
        let mut qb = QueryBuilder::<Sqlite>::new(
            "WITH hits AS MATERIALIZED (SELECT CAST(ticket_id AS INTEGER) AS ticket_id, bm25(search_docs, 0.0, 0.0, 3.0, 1.0) AS score
               FROM search_docs WHERE search_docs MATCH ",
        );
        qb.push_bind(fts);
        if q.customer.is_some() {
            qb.push(" AND kind <> 'note'");
        }
        qb.push(format!(
            "), best AS (SELECT ticket_id, MIN(score) AS score FROM hits GROUP BY ticket_id)
             SELECT {}, best.score AS score FROM best JOIN tickets t ON t.id = best.ticket_id WHERE 1 = 1",
            ticket_cols_of_t()
        ));
        let filter = search_filter(q);
        shared::push_filter(&mut qb, &filter);
        // bm25 is lower-is-better; flip it so every backend reports higher-is-better.
        qb.push(" ORDER BY best.score ASC, t.id DESC LIMIT ")
            .push_bind(filter.limit);
        let rows = qb.build().fetch_all(&self.reader).await?;
        rows.iter()
            .map(|r| {
                Ok(SearchHit {
                    ticket: decode::ticket(r)?,
                    score: -r.try_get::<f64, _>("score")?,
                })
            })
            .collect()
    }

    async fn finish_import_impl(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::raw_sql(
            "DELETE FROM ticket_tags;
             INSERT INTO ticket_tags (ticket_id, tag) SELECT t.id, j.value FROM tickets t, json_each(t.tags) j;
             DELETE FROM search_docs;
             INSERT INTO search_docs (ticket_id, kind, subject, body) SELECT id, 'subject', subject, '' FROM tickets;
             INSERT INTO search_docs (ticket_id, kind, subject, body) SELECT ticket_id, kind, '', body FROM messages;",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl_store!(SqliteStore, Sqlite, SqliteConnection);

async fn migrate(pool: &SqlitePool) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    shared::apply_migrations(&mut tx, MIGRATIONS).await?;
    tx.commit().await?;
    Ok(())
}
