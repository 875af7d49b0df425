//! Storage for Recourse: one [`Store`] trait, implemented for SQLite (the embedded
//! default) and PostgreSQL (several nodes, one database). Each backend owns its
//! migrations and uses its own full-text engine (FTS5; tsvector + GIN). The
//! conformance suite in `tests/` runs one story against both.

mod common;
pub mod config;
mod console;
mod copy;
mod db;
mod decode;
mod input;
mod ladder;
mod mail;
mod mail_input;
mod people;
mod portal;
mod postgres;
mod practice;
mod recovery;
mod rows;
mod sqlite;
pub mod table;
mod tickets;
pub mod tx;
mod tx_recovery;

use std::sync::Arc;

pub use config::DeskConfig;
pub use console::{CannedReply, ConsoleQueue, NewCannedReply};
pub use db::{Db, Tx};
pub use input::*;
pub use mail_input::*;
pub use portal::{
    NewPortalAttachment, NewPortalSession, PortalAttachment, PortalLinkMail, PortalLinkState,
};
pub use practice::{
    NewPracticeAttempt, NewPracticeScenario, PracticeAttempt, PracticeScenario, PracticeTally,
};
pub use recourse_domain::TicketChange;
use recourse_domain::{ChangeError, LadderError};
pub use sqlite::GroupCommitStats;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule was hit (for example, an agent email already in use).
    #[error("{0}")]
    Conflict(String),
    /// A domain rule refused the change (e.g. an illegal status move).
    #[error(transparent)]
    Rule(#[from] ChangeError),
    /// A ladder rule refused the move (already at the top, no handoff message, …).
    #[error(transparent)]
    Ladder(#[from] LadderError),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Everything the desk persists, on SQLite or PostgreSQL. One type whatever the
/// backend: each area of the desk (`tickets`, `people`, `ladder`, `mail`, …) adds its
/// methods in its own module, and the SQL is shared wherever the dialects agree
/// ([`Backend`]'s fragments say where they don't). Every write is atomic: a change and
/// the events describing it commit together or not at all.
pub struct Store {
    backend: Backend,
    /// Reads outside a transaction (on SQLite, a pool of read-only connections).
    reader: db::Pool,
    /// Single statements that write (on SQLite, the one writer connection).
    writer: db::Pool,
    /// SQLite only: write transactions share durable commits through it.
    group: Option<Arc<sqlite::GroupCommit>>,
}

impl Store {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn reader(&self) -> &db::Pool {
        &self.reader
    }

    pub(crate) fn writer(&self) -> &db::Pool {
        &self.writer
    }

    /// A write transaction: on SQLite a savepoint in the single writer's open batch
    /// (which took the write lock up front, so a read-then-write transaction never fails
    /// half-way), on PostgreSQL an ordinary transaction whose ticket reads lock the row.
    pub async fn begin(&self) -> Result<Tx> {
        match (&self.group, &self.writer) {
            (Some(group), _) => Ok(Tx::sqlite(group.begin().await?)),
            (None, db::Pool::Postgres(pool)) => Ok(Tx::postgres(pool.begin().await?)),
            (None, db::Pool::Sqlite(_)) => unreachable!("a SQLite store always has its group"),
        }
    }

    /// Closes every connection (waiting for those in use to come back), e.g. so that a
    /// PostgreSQL database can serve as a template or be dropped.
    pub async fn close(&self) {
        for pool in [&self.reader, &self.writer] {
            match pool {
                db::Pool::Sqlite(p) => p.close().await,
                db::Pool::Postgres(p) => p.close().await,
            }
        }
    }

    /// Cheap round trip for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        db::query("SELECT 1").execute(self.reader()).await?;
        Ok(())
    }
}

/// Opens the store a URL names: `sqlite://PATH` (or a plain path) or `postgres://…`,
/// running migrations first.
pub async fn open(url: &str) -> Result<Arc<Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(Store::postgres(url).await?))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Arc::new(Store::sqlite(std::path::Path::new(path)).await?))
    }
}

/// Turns free text into terms both engines can match safely: letters and digits only,
/// so that no user input is ever read as query syntax.
pub(crate) fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(16)
        .map(|t| t.to_lowercase())
        .collect()
}
