//! What every desk test shares: a fresh store on each database, and `on_both!`, which
//! runs a behaviour once on SQLite and (when `RECOURSE_TEST_PG_URL` is set, always under
//! CI) once on PostgreSQL in a database of its own.

use std::sync::Arc;

use recourse_store::Store;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

pub fn unique() -> String {
    format!("{}_{:016x}", std::process::id(), rand::random::<u64>())
}

pub async fn sqlite() -> Arc<Store> {
    let dir = std::env::temp_dir().join(format!("recourse-desk-{}", unique()));
    Arc::new(Store::sqlite(&dir.join("recourse.db")).await.unwrap())
}

pub async fn postgres() -> Option<Arc<Store>> {
    let Some(admin) = std::env::var("RECOURSE_TEST_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "RECOURSE_TEST_PG_URL is not set, but CI must always test PostgreSQL"
        );
        eprintln!("RECOURSE_TEST_PG_URL is not set: skipping PostgreSQL");
        return None;
    };
    let name = format!("recourse_desk_{}", unique());
    let mut conn = PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(Arc::new(
        Store::postgres(&format!("{base}/{name}")).await.unwrap(),
    ))
}

/// Runs a behaviour once per database.
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(crate::support::sqlite().await).await })+
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                if let Some(store) = crate::support::postgres().await { super::$name(store).await }
            })+
        }
    };
}
