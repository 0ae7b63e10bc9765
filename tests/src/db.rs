//! Fresh databases for tests: a SQLite file in a temporary folder, or a new database
//! on the PostgreSQL server named by `QUOTE_TEST_POSTGRES_URL`, dropped afterwards.

use quote_host::store::{PoolOptionsConfig, Store};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server for tests, or `None` when `QUOTE_TEST_POSTGRES_URL` is unset
/// (the PostgreSQL variants are then built `#[ignore]`d; see `build.rs`).
pub fn postgres_url() -> Option<String> {
    std::env::var("QUOTE_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The PostgreSQL server for a test that runs only there. Panics when the variable is
/// unset: such a test is only built un-ignored when it was set (see `build.rs`).
pub fn require_postgres_url() -> String {
    postgres_url().unwrap_or_else(|| {
        panic!(
            "QUOTE_TEST_POSTGRES_URL is unset: set it to run the PostgreSQL tests \
             (e.g. postgres://postgres@127.0.0.1:5432/postgres)"
        )
    })
}

/// A fresh database with the store open on it and migrated.
pub async fn migrated_store(backend: Backend) -> (Arc<dyn Store>, TestDatabase) {
    let database = TestDatabase::create(backend).await;
    let store = quote_host::store::connect(&database.url, &pool_options())
        .await
        .expect("open the store");
    store.migrate().await.expect("migrate");
    (store, database)
}

/// Pool settings of stores opened by tests.
pub fn pool_options() -> PoolOptionsConfig {
    PoolOptionsConfig {
        max_connections: 8,
        ..PoolOptionsConfig::default()
    }
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                // A folder that does not exist yet: opening the store must create it.
                let url = format!("sqlite://{}/db/quote-host.db", dir.path().display());
                Self {
                    url,
                    backend,
                    cleanup: Cleanup::Sqlite(dir),
                }
            }
            Backend::Postgres => {
                let admin_url = require_postgres_url();
                let name = format!("qh_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|error| {
                        panic!(
                            "QUOTE_TEST_POSTGRES_URL is set but the server is unreachable: {error}"
                        )
                    });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut admin)
                    .await
                    .expect("create the test database");
                // Test speed only: commits need not wait for the WAL flush.
                let tune = format!("ALTER DATABASE \"{name}\" SET synchronous_commit = off");
                sqlx::query(sqlx::AssertSqlSafe(tune))
                    .execute(&mut admin)
                    .await
                    .expect("tune the test database");
                admin.close().await.ok();
                let url = with_database(&admin_url, &name);
                Self {
                    url,
                    backend,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
        }
    }
}

impl TestDatabase {
    /// Stores exchange rates directly in the database (as the daily fetch would), for
    /// `date`: `(from, to, rate)` triples.
    pub async fn seed_rates(&self, date: &str, rates: &[(&str, &str, &str)]) {
        use quote_host::store::NewRate;
        let store = quote_host::store::connect(&self.url, &PoolOptionsConfig::default())
            .await
            .unwrap();
        let rows: Vec<NewRate> = rates
            .iter()
            .map(|(from, to, rate)| NewRate {
                from_currency: from.to_string(),
                to_currency: to.to_string(),
                rate: rate.parse().unwrap(),
                nominal: 1,
            })
            .collect();
        let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        store
            .store_rates("test", date, &rows, chrono::Utc::now())
            .await
            .unwrap();
        store.close().await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, name } = &self.cleanup else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop cannot await: a short-lived thread with its own runtime does it.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut admin)
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// `scheme://authority/<name>?query`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}/{name}{query}")
}
