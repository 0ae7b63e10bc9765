//! SQLite implementation of [`Store`]: one file, WAL, foreign keys on.
//!
//! Writes that read before they write run in `BEGIN IMMEDIATE` transactions,
//! which take SQLite's single write lock up front: concurrent writers queue
//! on the busy timeout instead of failing with a lock-upgrade deadlock, and
//! the read-then-write sequences (quote numbers, plugin versions) are
//! serialized.

/// Columns of `quotes`, in [`codec::quote`] order.
macro_rules! quote_cols {
    () => {
        "id, organization_id, number, title, status, currency, subtotal, tax, total, request, result,
         plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision, priced_at,
         created_at, updated_at"
    };
}

/// [`quote_cols`] with the documents (request, result, rates) left out as JSON `null`:
/// what listings and the dashboard read, which never show them.
macro_rules! quote_summary_cols {
    () => {
        "id, organization_id, number, title, status, currency, subtotal, tax, total,
         'null' AS request, 'null' AS result, plugin_name, plugin_version, plugin_sha256,
         'null' AS rates, fuel_used, revision, priced_at, created_at, updated_at"
    };
}

mod codec;
mod ops;
mod plugins;
mod quotes;
mod reports;
mod tenants;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::stream::BoxStream;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::cursor::{Page, PageCursor};
use super::error::{Result, StoreError};
use super::lock::{JobLockGuard, LocalLocks};
use super::quote::{
    NewQuote, Pricing, Quote, QuoteFilter, QuoteRevision, QuoteStats, QuoteUpdate, StatsWindow,
};
use super::types::*;
use super::{PoolOptionsConfig, Store};

/// [`Store`] on a SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    locks: LocalLocks,
}

impl SqliteStore {
    /// Opens (creating if missing, with its parent directory) the database of
    /// a `sqlite:` URL.
    pub async fn connect(url: &str, options: &PoolOptionsConfig) -> Result<Self> {
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
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(options.min_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .connect_with(connect)
            .await?;
        Ok(Self {
            pool,
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
        super::migrations::sqlite().run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self, timeout: Duration) -> Result<()> {
        let query = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(timeout, query).await {
            Ok(r) => r.map(|_| ()).map_err(Into::into),
            Err(_) => Err(StoreError::Unavailable(format!(
                "ping exceeded {timeout:?}"
            ))),
        }
    }

    fn pool_state(&self) -> PoolState {
        PoolState {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn create_organization(&self, name: &str) -> Result<Organization> {
        self.create_organization_impl(name).await
    }
    async fn organization_by_name(&self, name: &str) -> Result<Option<Organization>> {
        self.organization_by_name_impl(name).await
    }
    async fn organization_by_id(&self, id: Uuid) -> Result<Option<Organization>> {
        self.organization_by_id_impl(id).await
    }
    async fn count_organizations(&self) -> Result<i64> {
        self.count_organizations_impl().await
    }
    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKey> {
        self.create_api_key_impl(key).await
    }
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKey, Organization)>> {
        self.api_key_by_hash_impl(key_hash).await
    }
    async fn list_api_keys(&self, org: Uuid) -> Result<Vec<ApiKey>> {
        self.list_api_keys_impl(org).await
    }
    async fn revoke_api_key(&self, org: Uuid, id: Uuid) -> Result<ApiKey> {
        self.revoke_api_key_impl(org, id).await
    }
    async fn touch_api_key_last_used(&self, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        self.touch_api_key_last_used_impl(id, at).await
    }

    async fn add_plugin_version(&self, upload: NewPluginVersion) -> Result<(PluginVersion, bool)> {
        self.add_plugin_version_impl(upload).await
    }
    async fn list_plugins(&self, org: Uuid) -> Result<Vec<Plugin>> {
        self.list_plugins_impl(org).await
    }
    async fn plugin(&self, org: Uuid, name: &str) -> Result<Option<PluginDetail>> {
        self.plugin_impl(org, name).await
    }
    async fn plugin_version_bytes(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
    ) -> Result<Option<PluginBinary>> {
        self.plugin_version_bytes_impl(org, name, version).await
    }
    async fn active_plugin_version(
        &self,
        org: Uuid,
        name: Option<&str>,
    ) -> Result<Option<PluginVersion>> {
        self.active_plugin_version_impl(org, name).await
    }
    async fn activate_plugin_version(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
    ) -> Result<PluginVersion> {
        self.activate_plugin_version_impl(org, name, version).await
    }
    async fn delete_plugin_version(&self, org: Uuid, name: &str, version: i32) -> Result<()> {
        self.delete_plugin_version_impl(org, name, version).await
    }

    async fn create_quote(&self, quote: NewQuote) -> Result<Quote> {
        self.create_quote_impl(quote).await
    }
    async fn quote(&self, org: Uuid, id: Uuid) -> Result<Option<Quote>> {
        self.quote_impl(org, id).await
    }
    async fn list_quotes(
        &self,
        org: Uuid,
        filter: QuoteFilter,
        limit: u32,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Quote>> {
        self.list_quotes_impl(org, filter, limit, cursor).await
    }
    async fn update_quote(&self, org: Uuid, id: Uuid, update: QuoteUpdate) -> Result<Quote> {
        self.update_quote_impl(org, id, update).await
    }
    async fn delete_quote(&self, org: Uuid, id: Uuid) -> Result<()> {
        self.delete_quote_impl(org, id).await
    }
    async fn save_quote_revision(
        &self,
        org: Uuid,
        id: Uuid,
        expected_revision: i32,
        pricing: Pricing,
    ) -> Result<Quote> {
        self.save_quote_revision_impl(org, id, expected_revision, pricing)
            .await
    }
    async fn quote_revisions(&self, org: Uuid, id: Uuid) -> Result<Vec<QuoteRevision>> {
        self.quote_revisions_impl(org, id).await
    }
    async fn export_quotes(
        &self,
        org: Uuid,
        filter: QuoteFilter,
    ) -> Result<BoxStream<'static, Result<Quote>>> {
        self.export_quotes_impl(org, filter).await
    }
    async fn quote_stats(&self, org: Uuid, window: StatsWindow) -> Result<QuoteStats> {
        self.quote_stats_impl(org, window).await
    }

    async fn store_rates(
        &self,
        source: &str,
        rate_date: NaiveDate,
        rows: &[NewRate],
        fetched_at: DateTime<Utc>,
    ) -> Result<u64> {
        self.store_rates_impl(source, rate_date, rows, fetched_at)
            .await
    }
    async fn latest_rates(&self, on_or_before: Option<NaiveDate>) -> Result<Vec<StoredRate>> {
        self.latest_rates_impl(on_or_before).await
    }
    async fn rate(
        &self,
        from: &str,
        to: &str,
        on_or_before: Option<NaiveDate>,
    ) -> Result<Option<StoredRate>> {
        self.rate_impl(from, to, on_or_before).await
    }
    async fn newest_rate_fetch(&self) -> Result<Option<DateTime<Utc>>> {
        self.newest_rate_fetch_impl().await
    }

    async fn insert_activity_batch(&self, entries: &[NewActivity]) -> Result<u64> {
        self.insert_activity_batch_impl(entries).await
    }
    async fn list_activity(
        &self,
        org: Uuid,
        filter: ActivityFilter,
        limit: u32,
        cursor: Option<PageCursor>,
    ) -> Result<Page<ActivityEntry>> {
        self.list_activity_impl(org, filter, limit, cursor).await
    }
    async fn count_activity(&self, org: Uuid) -> Result<i64> {
        self.count_activity_impl(org).await
    }

    async fn start_job_run(&self, job: &str) -> Result<Uuid> {
        self.start_job_run_impl(job).await
    }
    async fn finish_job_run(
        &self,
        id: Uuid,
        outcome: JobOutcome,
        detail: &str,
        items: i64,
    ) -> Result<()> {
        self.finish_job_run_impl(id, outcome, detail, items).await
    }
    async fn record_skipped(&self, job: &str, detail: &str) -> Result<Uuid> {
        self.record_skipped_impl(job, detail).await
    }
    async fn last_job_run(&self, job: &str) -> Result<Option<JobRun>> {
        self.last_job_run_impl(job).await
    }
    async fn list_job_runs(&self, job: Option<&str>, limit: u32) -> Result<Vec<JobRun>> {
        self.list_job_runs_impl(job, limit).await
    }
    async fn try_job_lock(&self, key: i64) -> Result<Option<JobLockGuard>> {
        Ok(self.locks.try_lock(key))
    }
}
