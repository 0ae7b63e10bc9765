//! SQLite implementation of [`Store`]: one file, WAL, foreign keys on; one file per
//! concern trait, and `values.rs` for how SQLite stores our values.
//!
//! Writes that read before they write run in `BEGIN IMMEDIATE` transactions,
//! which take SQLite's single write lock up front: concurrent writers queue
//! on the busy timeout instead of failing with a lock-upgrade deadlock, and
//! the read-then-write sequences (quote numbers, plugin versions) are
//! serialized.

mod activity;
mod branding;
mod exchange_rates;
mod global;
mod jobs;
mod plugins;
mod quotes;
mod sessions;
mod tenants;
mod values;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::acquires::{Acquires, counted};
use super::clock::ping_within;
use super::config::PoolOptionsConfig;
use super::error::{Result, StoreError};
use super::lock::LocalLocks;
use super::traits::Store;
use super::types::{Backend, PoolState};
use super::values::Value;

/// Migrations in `migrations/sqlite` (the path is relative to `host/`; the build script
/// reruns when the folder changes).
static MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");

/// `sql` with `values` bound, on SQLite.
fn query(sql: &'static str, values: &[Value<'_>]) -> Query<'static, Sqlite, SqliteArguments> {
    super::values::query(sql, values)
}

/// [`Store`] on a SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    acquires: Arc<Acquires>,
    locks: LocalLocks,
}

impl SqliteStore {
    /// Opens (creating if missing, with its parent directory) the database of
    /// a `sqlite:` URL.
    pub async fn connect(url: &str, options: &PoolOptionsConfig) -> Result<Self> {
        global::configure_once();
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.sqlite_busy_timeout);
        let file = connect.get_filename();
        if let Some(parent) = file.parent()
            && !parent.as_os_str().is_empty()
            && file != Path::new(":memory:")
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!("creating {}: {e}", parent.display()))
            })?;
        }
        let acquires = Arc::new(Acquires::default());
        let pool = counted(SqlitePoolOptions::new(), &acquires)
            .max_connections(options.max_connections.max(1))
            .min_connections(options.min_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            // Pinging each connection before handing it out costs one more round trip
            // through the connection's worker thread per query; a file does not hang up.
            .test_before_acquire(false)
            .connect_with(connect)
            .await?;
        Ok(Self {
            pool,
            acquires,
            locks: LocalLocks::default(),
        })
    }

    /// The underlying pool (tests, maintenance).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction holding the database write lock from the start.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self, timeout: Duration) -> Result<()> {
        ping_within(timeout, sqlx::query("SELECT 1").execute(&self.pool)).await
    }

    fn pool_state(&self) -> PoolState {
        let options = self.pool.options();
        PoolState::new(
            self.pool.size(),
            self.pool.num_idle(),
            options.get_max_connections(),
            self.acquires.total(),
        )
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
