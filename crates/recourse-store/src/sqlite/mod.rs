//! The embedded default: one SQLite file in WAL mode under the data directory.
//!
//! All writes go through a pool of exactly one connection, so transactions never
//! race each other for SQLite's single write lock; reads use their own pool and see
//! committed data through WAL without waiting for the writer. Write transactions that
//! arrive together are committed together ([`group`]).

mod group;

use std::path::Path;
use std::time::Duration;

pub use group::GroupCommitStats;
pub(crate) use group::{GroupCommit, WriteTx};

use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::common::{search_filter, ticket_cols_of_t};
use crate::db::{self, Pool, SqlBuilder};
use crate::rows::push_filter;
use crate::{Backend, Result, SearchHit, SearchQuery, Store, StoreError, decode};

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
    (13, "practice", include_str!("migrations/0013_practice.sql")),
];

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn sqlite(path: &Path) -> Result<Self> {
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
        Ok(Store {
            backend: Backend::Sqlite,
            reader: Pool::Sqlite(reader),
            writer: Pool::Sqlite(writer),
            group: Some(group),
        })
    }

    /// How many write transactions have shared each durable commit so far.
    /// (`None` on PostgreSQL, which commits each transaction itself.)
    pub fn group_commit_stats(&self) -> Option<GroupCommitStats> {
        self.group.as_ref().map(|g| g.stats())
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
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "backup copies a SQLite database; use pg_dump for PostgreSQL".into(),
            ));
        }
        db::query("VACUUM INTO $1")
            .bind(dest.to_string_lossy().into_owned())
            .execute(self.reader())
            .await?;
        Ok(())
    }

    /// Checks that a database file is whole and consistent (`integrity_check`, foreign
    /// keys) without migrating or changing it; returns its ticket count.
    pub async fn verify_sqlite_file(path: &Path) -> Result<i64> {
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

/// SQLite's own full-text search: FTS5 over `search_docs`, ranked by bm25.
pub(crate) async fn search(store: &Store, q: &SearchQuery) -> Result<Vec<SearchHit>> {
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
    let mut qb = SqlBuilder::new(
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
    push_filter(&mut qb, &filter);
    // bm25 is lower-is-better; flip it so every backend reports higher-is-better.
    qb.push(" ORDER BY best.score ASC, t.id DESC LIMIT ")
        .push_bind(filter.limit);
    let rows = qb.build().fetch_all(store.reader()).await?;
    rows.iter()
        .map(|r| {
            Ok(SearchHit {
                ticket: decode::ticket(r)?,
                score: -r.try_get::<f64, _>("score")?,
            })
        })
        .collect()
}

/// Rebuilds the tag index and search documents after `db copy` wrote rows directly.
pub(crate) async fn finish_import(store: &Store) -> Result<()> {
    let mut tx = store.begin().await?;
    db::raw_execute(
        "DELETE FROM ticket_tags;
         INSERT INTO ticket_tags (ticket_id, tag) SELECT t.id, j.value FROM tickets t, json_each(t.tags) j;
         DELETE FROM search_docs;
         INSERT INTO search_docs (ticket_id, kind, subject, body) SELECT id, 'subject', subject, '' FROM tickets;
         INSERT INTO search_docs (ticket_id, kind, subject, body) SELECT ticket_id, kind, '', body FROM messages;",
        &mut tx,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn migrate(pool: &SqlitePool) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    crate::rows::apply_migrations(&mut *tx, MIGRATIONS).await?;
    tx.commit().await?;
    Ok(())
}
