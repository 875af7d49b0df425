//! `recourse db copy`: move a desk from one database to another, e.g. from the
//! embedded SQLite file to PostgreSQL, then prove it by comparing row counts.

use anyhow::{Context, bail};
use recourse_store::table::TABLES;

use crate::redact;

const PAGE: i64 = 2000;

pub async fn run(from: &str, to: &str) -> anyhow::Result<()> {
    let source = recourse_store::open(from)
        .await
        .with_context(|| format!("opening {}", redact(from)))?;
    let target = recourse_store::open(to)
        .await
        .with_context(|| format!("opening {}", redact(to)))?;
    for t in TABLES {
        if target.count_rows(t.name).await? != 0 {
            bail!(
                "the target already has {}; copy only into an empty database",
                t.name
            );
        }
    }
    for t in TABLES {
        let mut after = 0;
        let mut copied = 0;
        loop {
            let rows = source.export_rows(t, after, PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = match last.first() {
                Some(recourse_store::table::Cell::Int(Some(id))) => *id,
                _ => bail!("{} has a row without an id", t.name),
            };
            target
                .import_rows(t, &rows)
                .await
                .with_context(|| format!("writing {}", t.name))?;
            copied += rows.len();
        }
        println!("{:<14} {copied:>9} rows", t.name);
    }
    target.finish_import().await?;
    let mut mismatched = Vec::new();
    for t in TABLES {
        let (a, b) = (
            source.count_rows(t.name).await?,
            target.count_rows(t.name).await?,
        );
        if a != b {
            mismatched.push(format!("{}: {a} in source, {b} in target", t.name));
        }
    }
    if !mismatched.is_empty() {
        bail!("copy verification failed:\n{}", mismatched.join("\n"));
    }
    println!("verified: every table has the same number of rows in both databases");
    Ok(())
}
