//! PostgreSQL: for deployments that outgrow one machine. Several `recourse serve`
//! nodes share one database; ticket changes lock their row (`FOR UPDATE`), so two
//! nodes editing one ticket apply their changes one after the other.

use std::time::Duration;

use crate::common::{search_filter, ticket_cols_of_t};
use crate::db::{self, Pool, SqlBuilder};
use crate::rows::push_filter;
use crate::{Backend, Result, SearchHit, SearchQuery, Store, decode};
use sqlx::postgres::{PgPool, PgPoolOptions};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("migrations/0001_init.sql")),
    (
        2,
        "events_no_truncate",
        include_str!("migrations/0002_events_no_truncate.sql"),
    ),
    (3, "ladder", include_str!("migrations/0003_ladder.sql")),
    (4, "recovery", include_str!("migrations/0004_recovery.sql")),
    (5, "mail", include_str!("migrations/0005_mail.sql")),
    (
        6,
        "report_index",
        include_str!("migrations/0006_report_index.sql"),
    ),
    (7, "portal", include_str!("migrations/0007_portal.sql")),
    (8, "console", include_str!("migrations/0008_console.sql")),
    (9, "admin", include_str!("migrations/0009_admin.sql")),
    (10, "imap", include_str!("migrations/0010_imap.sql")),
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

/// Any constant works; it only has to be the same on every node.
const MIGRATION_LOCK: i64 = 0x7265_636f_7572_7365; // "recourse"

impl Store {
    /// Connects and brings the schema up to date. Safe to call from several nodes at
    /// once: migrations run under an advisory lock, so exactly one node applies them.
    /// One pool serves reads and writes: PostgreSQL handles concurrency itself.
    pub async fn postgres(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        migrate(&pool).await?;
        Ok(Store {
            backend: Backend::Postgres,
            reader: Pool::Postgres(pool.clone()),
            writer: Pool::Postgres(pool),
            group: None,
        })
    }
}

/// The search columns are generated; only the number sequence must catch up after a
/// bulk seed.
pub(crate) async fn after_seed(tx: &mut db::Tx) -> Result<()> {
    db::query(
        "SELECT setval('ticket_number_seq', (SELECT COALESCE(MAX(number), 1000) FROM tickets) + 1, false)",
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// PostgreSQL's own full-text search: tsvector columns with GIN, ranked by ts_rank_cd.
pub(crate) async fn search(store: &Store, q: &SearchQuery) -> Result<Vec<SearchHit>> {
    let terms = crate::search_terms(&q.text);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    // Terms joined with `&`: every word must match; prefix-free so input is never syntax.
    let tsquery = terms.join(" & ");
    let mut qb = SqlBuilder::new("WITH q AS (SELECT to_tsquery('english', ");
    qb.push_bind(tsquery);
    qb.push(
            ") AS q),
             hits AS (
               SELECT t.id AS ticket_id, 3 * ts_rank_cd(t.search, q.q) AS score FROM tickets t, q WHERE t.search @@ q.q
               UNION ALL
               SELECT m.ticket_id, ts_rank_cd(m.search, q.q) FROM messages m, q WHERE m.search @@ q.q",
        );
    if q.customer.is_some() {
        qb.push(" AND m.kind <> 'note'");
    }
    qb.push(format!(
            "), best AS (SELECT ticket_id, MAX(score)::float8 AS score FROM hits GROUP BY ticket_id)
             SELECT {}, best.score AS score FROM best JOIN tickets t ON t.id = best.ticket_id WHERE 1 = 1",
            ticket_cols_of_t()
        ));
    let filter = search_filter(q);
    push_filter(&mut qb, &filter);
    qb.push(" ORDER BY best.score DESC, t.id DESC LIMIT ")
        .push_bind(filter.limit);
    let rows = qb.build().fetch_all(store.reader()).await?;
    rows.iter()
        .map(|r| {
            Ok(SearchHit {
                ticket: decode::ticket(r)?,
                score: r.try_get::<f64, _>("score")?,
            })
        })
        .collect()
}

/// Brings id sequences and the tag index up to date after `db copy`.
pub(crate) async fn finish_import(store: &Store) -> Result<()> {
    let mut tx = store.begin().await?;
    for t in crate::table::TABLES {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE((SELECT MAX(id) FROM {0}), 0) + 1, false)",
            t.name
        );
        db::query(sql).execute(&mut tx).await?;
    }
    db::raw_execute(
            "SELECT setval('ticket_number_seq', COALESCE((SELECT MAX(number) FROM tickets), 1000) + 1, false);
             DELETE FROM ticket_tags;
             INSERT INTO ticket_tags (ticket_id, tag) SELECT t.id, j.tag FROM tickets t, jsonb_array_elements_text(t.tags::jsonb) AS j(tag);",
            &mut tx,
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn migrate(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    crate::rows::apply_migrations(&mut *tx, MIGRATIONS).await?;
    tx.commit().await?;
    Ok(())
}
