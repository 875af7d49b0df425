//! How long one statement takes through sqlx's SQLite driver, which runs each
//! connection on its own thread: every statement is a hand-off there and back. This is
//! the floor under a write transaction's time on the single writer, so it bounds how
//! many write transactions per second SQLite can take, whatever the fsync does.
//!
//!   cargo run --release -p recourse-store --example sqlite_round_trip
//!
//! Not a test: it prints figures for BENCHMARKS.md.

use std::time::Instant;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

const N: u32 = 20_000;

#[tokio::main]
async fn main() -> Result<(), sqlx::Error> {
    let dir = std::env::temp_dir().join(format!("recourse-round-trip-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.join("rt.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&mut conn)
        .await?;

    let started = Instant::now();
    for _ in 0..N {
        sqlx::query("SELECT 1").fetch_one(&mut conn).await?;
    }
    report("SELECT 1, one statement per round trip", started, N);

    let mut tx = conn.begin().await?;
    let started = Instant::now();
    for i in 0..N {
        sqlx::query("INSERT INTO t (body) VALUES ($1)")
            .bind(format!("row {i}"))
            .execute(&mut *tx)
            .await?;
    }
    report("INSERT of one row, inside one transaction", started, N);
    tx.commit().await?;

    // The same inserts as one statement per 100 rows: what a round trip costs compared
    // with the work SQLite does for it.
    let mut tx = conn.begin().await?;
    let started = Instant::now();
    for chunk in 0..N / 100 {
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO t (body) ");
        qb.push_values(0..100, |mut row, i| {
            row.push_bind(format!("row {chunk} {i}"));
        });
        qb.build().execute(&mut *tx).await?;
    }
    report("INSERT of 100 rows per statement (per row)", started, N);
    tx.commit().await?;

    conn.close().await?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn report(what: &str, started: Instant, n: u32) {
    let per = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!(
        "{what:<48} {per:>8.1} µs each  ({:>9.0} per second)",
        1e6 / per
    );
}
