//! The persistence API: one trait per concern, each implemented by every backend in the
//! file of that concern, and [`Store`], all of them behind one `Arc<dyn Store>`.
//!
//! A part that needs one concern takes that trait (`Arc<dyn ExchangeRateStore>`); an
//! `Arc<dyn Store>` converts to it by trait upcasting.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::stream::BoxStream;
use uuid::Uuid;

use super::cursor::{Page, PageCursor};
use super::error::Result;
use super::lock::JobLockGuard;
use super::quote::{
    NewQuote, Pricing, Quote, QuoteFilter, QuoteRevision, QuoteStats, QuoteUpdate, StatsWindow,
};
use super::types::{
    ActivityEntry, ActivityFilter, ApiKey, Backend, Branding, JobOutcome, JobRun, KeyRevocation,
    NewActivity, NewApiKey, NewPluginVersion, NewRate, Organization, PendingActivation, Plugin,
    PluginBinary, PluginDetail, PluginVersion, PoolState, StoredRate,
};

/// The whole store: every concern, plus the lifecycle of the connection pool. One
/// implementation per backend, shared as `Arc<dyn Store>`.
#[async_trait]
pub trait Store:
    TenantStore
    + PluginStore
    + QuoteStore
    + ExchangeRateStore
    + ActivityStore
    + JobStore
    + BrandingStore
    + super::sessions::ConsoleSessionStore
{
    /// Which backend this is (logs, health output).
    fn backend(&self) -> Backend;

    /// Applies pending embedded migrations. Called by `serve` at start;
    /// idempotent, and safe when several hosts start at once (PostgreSQL
    /// serializes them with the migrator's advisory lock).
    async fn migrate(&self) -> Result<()>;

    /// Round trip to the database for the health check; `Unavailable` if it
    /// does not complete within `timeout` (including waiting for a connection).
    async fn ping(&self, timeout: Duration) -> Result<()>;

    /// Pool occupancy, for the health endpoint and metrics.
    fn pool_state(&self) -> PoolState;

    /// Closes the pool at shutdown, waiting for checked-out connections.
    async fn close(&self);
}

/// Organizations and their API keys.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates a tenant (admin CLI / bootstrap). `Conflict` if the name exists.
    async fn create_organization(&self, name: &str) -> Result<Organization>;

    /// Looks a tenant up by its unique name (CLI commands).
    async fn organization_by_name(&self, name: &str) -> Result<Option<Organization>>;

    /// Looks a tenant up by id.
    async fn organization_by_id(&self, id: Uuid) -> Result<Option<Organization>>;

    /// Number of tenants; 0 at first start means "bootstrap".
    async fn count_organizations(&self) -> Result<i64>;

    /// Stores a new key (only its hash). `Conflict` on a duplicate hash,
    /// `NotFound` if the organization does not exist.
    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKey>;

    /// Authenticates a request: the non-revoked key with this SHA-256 hex and
    /// its organization. Not tenant-scoped (it discovers the tenant).
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKey, Organization)>>;

    /// All keys of an organization (revoked included), oldest first.
    async fn list_api_keys(&self, org: Uuid) -> Result<Vec<ApiKey>>;

    /// Revokes an active key of `org`, unless it is the organization's last active
    /// admin key (`LastAdminKey`, nothing changed). The count and the revocation are
    /// one transaction that holds the organization's admin keys (PostgreSQL: row
    /// locks; SQLite: the write lock), so of two admin keys revoking each other at
    /// once exactly one succeeds. `NotFound` for an unknown, already revoked or
    /// another organization's key.
    async fn revoke_api_key(&self, org: Uuid, id: Uuid) -> Result<KeyRevocation>;

    /// Records that key `id` authenticated at `at`; writes only if the stored value
    /// is absent or older than `min_gap` before `at`.
    async fn touch_api_key_last_used(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        min_gap: Duration,
    ) -> Result<()>;
}

/// The branding of an organization's quote documents (tenant-scoped).
#[async_trait]
pub trait BrandingStore: Send + Sync {
    /// `org`'s branding; `None` until an admin first sets it.
    async fn branding(&self, org: Uuid) -> Result<Option<Branding>>;

    /// Replaces `org`'s branding as a whole (`None` clears a part) and returns it.
    async fn set_branding(
        &self,
        org: Uuid,
        footer_text: Option<&str>,
        logo_png: Option<&[u8]>,
    ) -> Result<Branding>;
}

/// Pricing plugins and their versions.
#[async_trait]
pub trait PluginStore: Send + Sync {
    /// Upload: stores the bytes as the next version of the plugin (creating
    /// the plugin on first upload) and returns `(version, true)`. Re-uploading
    /// bytes with the same sha256 returns the existing version and `false`.
    /// Concurrent uploads are serialized; numbers are never reused. Does not
    /// activate the version.
    async fn add_plugin_version(&self, upload: NewPluginVersion) -> Result<(PluginVersion, bool)>;

    /// Plugins of an organization with active version and version count, by name.
    async fn list_plugins(&self, org: Uuid) -> Result<Vec<Plugin>>;

    /// One plugin with the metadata of all its versions (no bytes).
    async fn plugin(&self, org: Uuid, name: &str) -> Result<Option<PluginDetail>>;

    /// Bytes of a version, for loading into the runtime (cache by sha256).
    async fn plugin_version_bytes(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
    ) -> Result<Option<PluginBinary>>;

    /// The active version of `name`, or with `None` of the organization's most
    /// recently activated plugin; what pricing a new quote uses. Resolved by time: a
    /// scheduled activation whose `effective_at` has passed is the active version.
    async fn active_plugin_version(
        &self,
        org: Uuid,
        name: Option<&str>,
    ) -> Result<Option<PluginVersion>>;

    /// Makes `version` the one used for pricing. `NotFound` if absent. A pending
    /// scheduled activation stays pending.
    async fn activate_plugin_version(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
    ) -> Result<PluginVersion>;

    /// Schedules `version` to become the active one at `effective_at` (which the caller
    /// checked is ahead), replacing the plugin's pending activation. `NotFound` if the
    /// plugin or version is absent.
    async fn schedule_plugin_activation(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
        effective_at: DateTime<Utc>,
    ) -> Result<PluginVersion>;

    /// Cancels the plugin's pending activation and returns it. `NotFound` if the plugin
    /// has none still ahead (a due one has already switched and is not undone).
    async fn cancel_plugin_activation(&self, org: Uuid, name: &str) -> Result<PendingActivation>;

    /// When the organization's active versions next change by a scheduled activation
    /// after now, if any: how long a cached resolution of its active version holds.
    async fn next_plugin_switch(&self, org: Uuid) -> Result<Option<DateTime<Utc>>>;

    /// Deletes a version. `Conflict` if it is the active one, `NotFound` if absent.
    async fn delete_plugin_version(&self, org: Uuid, name: &str, version: i32) -> Result<()>;
}

/// Quotes, their revisions, the export and the dashboard figures.
#[async_trait]
pub trait QuoteStore: Send + Sync {
    /// Stores a freshly priced quote as `draft`, revision 1, allocating its
    /// number (`Q-<year>-<000001>`, gapless per organization and UTC year) in
    /// the same transaction.
    async fn create_quote(&self, quote: NewQuote) -> Result<Quote>;

    /// One quote of `org`.
    async fn quote(&self, org: Uuid, id: Uuid) -> Result<Option<Quote>>;

    /// A page of quotes, newest first, keyset-paginated on `(created_at, id)`.
    /// `limit` is clamped to 1..=1000. Listings are summaries: `request`, `result` and
    /// `rates` are JSON `null` (read one quote for them).
    async fn list_quotes(
        &self,
        org: Uuid,
        filter: QuoteFilter,
        limit: u32,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Quote>>;

    /// The `limit` most recent matching quotes, newest first (`created_at, id`), whole:
    /// request (with its rate snapshot) and result included. What a replay re-prices.
    /// `limit` is clamped to 1..=1000.
    async fn recent_quotes(&self, org: Uuid, filter: QuoteFilter, limit: u32)
    -> Result<Vec<Quote>>;

    /// Changes title and/or status. A status change is applied only if the quote is
    /// still in `StatusChange::from` and that status may become `to`
    /// ([`QuoteStatus::can_become`](super::QuoteStatus::can_become)), checked in the
    /// statement that changes it; otherwise `Conflict`. `NotFound` if absent.
    async fn update_quote(&self, org: Uuid, id: Uuid, update: QuoteUpdate) -> Result<Quote>;

    /// Deletes a quote and its revisions. `NotFound` if absent.
    async fn delete_quote(&self, org: Uuid, id: Uuid) -> Result<()>;

    /// Recalculation: in one transaction archives the current result into
    /// `quote_revisions` and stores `pricing` as revision + 1, provided the
    /// quote is still a draft at `expected_revision`, checked in the statements that
    /// write (else `Conflict`: a status change or another recalculation won).
    async fn save_quote_revision(
        &self,
        org: Uuid,
        id: Uuid,
        expected_revision: i32,
        pricing: Pricing,
    ) -> Result<Quote>;

    /// Archived revisions of a quote, oldest first (the current one is the
    /// quote itself). `NotFound` if the quote is absent.
    async fn quote_revisions(&self, org: Uuid, id: Uuid) -> Result<Vec<QuoteRevision>>;

    /// Export: every matching quote, oldest first (`created_at, id`), read in keyset
    /// pages of `page_rows` (1..=10000) as the stream is consumed. Each page takes a
    /// connection (PostgreSQL: a tenant transaction) only while it is read, so a
    /// consumer that stops reading holds no connection. Quotes created or changed
    /// during the export appear as they are when their page is read.
    fn export_quotes(
        &self,
        org: Uuid,
        filter: QuoteFilter,
        page_rows: u32,
    ) -> BoxStream<'static, Result<Quote>>;

    /// Dashboard aggregates: counts by status, per-currency accepted totals
    /// for the current and previous month and for each month of the series, most
    /// recent quotes; all read in one transaction (one snapshot on PostgreSQL).
    async fn quote_stats(&self, org: Uuid, window: StatsWindow) -> Result<QuoteStats>;
}

/// Stored exchange rates (global, not tenant-scoped).
#[async_trait]
pub trait ExchangeRateStore: Send + Sync {
    /// Daily fetch job: inserts the rows of `rate_date` from `source`; rows
    /// already stored for that (source, pair, date) are left untouched.
    /// Returns how many rows were new.
    async fn store_rates(
        &self,
        source: &str,
        rate_date: NaiveDate,
        rows: &[NewRate],
        fetched_at: DateTime<Utc>,
    ) -> Result<u64>;

    /// Rate snapshot for pricing: per (from, to) pair the row with the latest
    /// `rate_date <= on_or_before` (any date if `None`; ties across sources go
    /// to the latest fetch). Ordered by pair.
    async fn latest_rates(&self, on_or_before: Option<NaiveDate>) -> Result<Vec<StoredRate>>;

    /// One pair, same rule as [`latest_rates`](Self::latest_rates).
    async fn rate(
        &self,
        from: &str,
        to: &str,
        on_or_before: Option<NaiveDate>,
    ) -> Result<Option<StoredRate>>;

    /// Time of the most recent fetch, for "fetch on start if stale".
    async fn newest_rate_fetch(&self) -> Result<Option<DateTime<Utc>>>;
}

/// The activity log.
#[async_trait]
pub trait ActivityStore: Send + Sync {
    /// Writes a batch of entries (from any organizations) atomically, in
    /// multi-row inserts chunked under the parameter limit. Returns the count.
    async fn insert_activity_batch(&self, entries: &[NewActivity]) -> Result<u64>;

    /// A page of `org`'s activity, newest first, keyset-paginated on
    /// `(created_at, id)`. `limit` is clamped to 1..=1000.
    async fn list_activity(
        &self,
        org: Uuid,
        filter: ActivityFilter,
        limit: u32,
        cursor: Option<PageCursor>,
    ) -> Result<Page<ActivityEntry>>;

    /// Number of `org`'s entries (tests, admin).
    async fn count_activity(&self, org: Uuid) -> Result<i64>;
}

/// Background job runs and the locks that keep a job to one host at a time.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Records that `job` starts now (outcome `running`); returns the run id.
    async fn start_job_run(&self, job: &str) -> Result<Uuid>;

    /// Records the end of a run. `NotFound` for an unknown id.
    async fn finish_job_run(
        &self,
        id: Uuid,
        outcome: JobOutcome,
        detail: &str,
        items: i64,
    ) -> Result<()>;

    /// Records a run that was skipped (e.g. lock held elsewhere); returns its id.
    async fn record_skipped(&self, job: &str, detail: &str) -> Result<Uuid>;

    /// The most recently started run of `job`.
    async fn last_job_run(&self, job: &str) -> Result<Option<JobRun>> {
        Ok(self.list_job_runs(Some(job), 1).await?.pop())
    }

    /// Recent runs, newest first, of one job or of all (`None`).
    async fn list_job_runs(&self, job: Option<&str>, limit: u32) -> Result<Vec<JobRun>>;

    /// Before running a scheduled job: `Some(guard)` if this process now holds
    /// the lock `key`, `None` if another holder has it. See [`JobLockGuard`]
    /// for the release semantics of each backend.
    async fn try_job_lock(&self, key: i64) -> Result<Option<JobLockGuard>>;
}
