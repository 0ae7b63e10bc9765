//! Test harness: runs one scenario on a fresh SQLite file and on a fresh
//! PostgreSQL database (when `QUOTE_TEST_POSTGRES_URL` is set).

use std::sync::Arc;

use crate::store::{self, PoolOptionsConfig, Store};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use uuid::Uuid;

/// What a scenario gets.
pub struct Ctx {
    /// The store under test (already migrated).
    pub store: Arc<dyn Store>,
    /// Its URL, to open a second store on the same database.
    pub url: String,
}

/// Keeps the database alive for the test and removes it afterwards.
pub enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, db: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, db } = self {
            let (admin_url, db) = (admin_url.clone(), db.clone());
            // Best effort, on its own runtime (Drop cannot await), also on panic.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                            .execute(&mut conn)
                            .await;
                        let _ = conn.close().await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn options() -> PoolOptionsConfig {
    PoolOptionsConfig {
        max_connections: 8,
        ..PoolOptionsConfig::default()
    }
}

pub async fn sqlite() -> (Ctx, Cleanup) {
    let dir = tempfile::tempdir().unwrap();
    // A nested, not yet existing directory: connect must create it.
    let url = format!("sqlite:{}/nested/dir/quote.db", dir.path().display());
    let store = store::connect(&url, &options()).await.expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    (Ctx { store, url }, Cleanup::Sqlite(dir))
}

pub async fn postgres() -> Option<(Ctx, Cleanup)> {
    let Ok(admin_url) = std::env::var("QUOTE_TEST_POSTGRES_URL") else {
        // Straight to the stderr handle: not swallowed by the test harness's
        // output capture, so the skip is visible in a normal `cargo test`.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: QUOTE_TEST_POSTGRES_URL not set (PostgreSQL half of this test did not run)"
        );
        return None;
    };
    let db = format!("qh_test_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("QUOTE_TEST_POSTGRES_URL is set but the server is unreachable: {e}")
    });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    // Test speed only: commits need not wait for the WAL flush.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{db}\" SET synchronous_commit = off"
    )))
    .execute(&mut admin)
    .await
    .expect("tune test database");
    admin.close().await.ok();
    let cleanup = Cleanup::Postgres {
        admin_url: admin_url.clone(),
        db: db.clone(),
    };
    let url = with_database(&admin_url, &db);
    let store = store::connect(&url, &options())
        .await
        .expect("open postgres");
    store.migrate().await.expect("migrate postgres");
    Some((Ctx { store, url }, cleanup))
}

/// `scheme://authority/<db>?query` with the database replaced.
fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("url scheme");
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap();
    format!("{scheme}://{authority}/{db}{query}")
}

/// Runs `$scenario(&Ctx)` as two tests, `sqlite` and `postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $scenario:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let (ctx, _cleanup) = $crate::harness::sqlite().await;
                super::$scenario(&ctx).await;
                ctx.store.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some((ctx, _cleanup)) = $crate::harness::postgres().await else {
                    return;
                };
                super::$scenario(&ctx).await;
                ctx.store.close().await;
            }
        }
    };
}
