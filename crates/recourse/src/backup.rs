//! `recourse backup` and `recourse restore` for the embedded SQLite database.
//! PostgreSQL deployments use PostgreSQL's own tools (`pg_dump` / `pg_restore`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use recourse_store::Store;

const PG_ADVICE: &str = "this desk runs on PostgreSQL: back it up with `pg_dump --format=custom --file=recourse.dump DBURL` and restore with `pg_restore --clean --dbname=DBURL recourse.dump` (see README)";

fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        bail!("{PG_ADVICE}");
    }
    Ok(PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url)))
}

/// Copies the live database to `to` (safe while the desk is serving) and checks the copy.
pub async fn backup(url: &str, to: &Path) -> anyhow::Result<()> {
    let path = sqlite_path(url)?;
    if !path.exists() {
        bail!("there is no database at {} to back up", path.display());
    }
    let store = Store::sqlite(&path).await?;
    store
        .backup_to(to)
        .await
        .with_context(|| format!("backing up to {}", to.display()))?;
    let tickets = Store::verify_sqlite_file(to)
        .await
        .context("checking the backup")?;
    println!(
        "backed up {} ({tickets} tickets) to {}",
        path.display(),
        to.display()
    );
    Ok(())
}

/// Replaces the database with a checked backup. The desk must be stopped: a running
/// server keeps its own view of the file it opened.
pub async fn restore(url: &str, from: &Path, force: bool) -> anyhow::Result<()> {
    let path = sqlite_path(url)?;
    let tickets = Store::verify_sqlite_file(from)
        .await
        .with_context(|| format!("{} is not a sound Recourse database", from.display()))?;
    if path.exists() && !force {
        bail!(
            "{} already holds a database; stop the desk and pass --force to replace it",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // Copy beside the target, flush, then rename: a crash midway leaves either the old
    // database or the new one, never half of each.
    let staging = path.with_extension("db.restoring");
    std::fs::copy(from, &staging).with_context(|| format!("copying {}", from.display()))?;
    std::fs::File::open(&staging)?.sync_all()?;
    // A write-ahead log left from the old database must not be replayed into the new one.
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            std::fs::remove_file(&side)
                .with_context(|| format!("removing the old {}", side.display()))?;
        }
    }
    std::fs::rename(&staging, &path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    // Opening migrates a backup taken by an older version.
    Store::sqlite(&path).await?;
    println!(
        "restored {} ({tickets} tickets) from {}",
        path.display(),
        from.display()
    );
    Ok(())
}
