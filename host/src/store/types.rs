//! Domain types of the store other than quotes: tenants, keys, plugins,
//! exchange rates, activity entries and job runs.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::StoreError;

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// UUID v7.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl Organization {
    /// A new tenant called `name`, created now.
    pub(crate) fn new(name: &str) -> Self {
        Self {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            created_at: super::clock::now(),
        }
    }
}

/// What an API key may do within its organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages keys and plugins.
    Admin,
    /// Works with quotes.
    Member,
}

impl Role {
    /// The stored text: `admin` or `member`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Self::Admin),
            "member" => Ok(Self::Member),
            other => Err(StoreError::Invalid(format!("unknown role {other:?}"))),
        }
    }
}

/// An API key as stored (the hash itself is never returned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// UUID v7.
    pub id: Uuid,
    /// Owning organization.
    pub organization_id: Uuid,
    /// Human label.
    pub name: String,
    /// Permissions.
    pub role: Role,
    /// First characters of the secret, for display (e.g. `qh_ab12cd34`).
    pub prefix: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last authenticated use (written at most once per `auth.last_used_interval_s`).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Set once revoked; revoked keys no longer authenticate.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// The stored form of `key`, created now.
    pub(crate) fn new(key: &NewApiKey) -> Self {
        Self {
            id: Uuid::now_v7(),
            organization_id: key.organization_id,
            name: key.name.clone(),
            role: key.role,
            prefix: key.prefix.clone(),
            created_at: super::clock::now(),
            last_used_at: None,
            revoked_at: None,
        }
    }
}

/// What [`TenantStore::revoke_api_key`](super::TenantStore::revoke_api_key) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRevocation {
    /// The key, revoked now.
    Revoked(ApiKey),
    /// Refused: it is the organization's last active admin key.
    LastAdminKey,
}

impl KeyRevocation {
    /// The last-admin guard, over the organization's active admin keys and the key
    /// `id` (as the revoking transaction read them, locked): `NotFound` if `id` is not
    /// among them, `Some(LastAdminKey)` if it is the only admin, `None` to revoke.
    pub(crate) fn refusal(active: &[ApiKey], id: Uuid) -> Result<Option<Self>, StoreError> {
        let target = active
            .iter()
            .find(|key| key.id == id)
            .ok_or(StoreError::NotFound)?;
        let admins = active.iter().filter(|key| key.role == Role::Admin).count();
        let last = target.role == Role::Admin && admins == 1;
        Ok(last.then_some(Self::LastAdminKey))
    }
}

/// Input of [`TenantStore::create_api_key`](super::TenantStore::create_api_key).
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// Owning organization.
    pub organization_id: Uuid,
    /// Human label.
    pub name: String,
    /// Permissions.
    pub role: Role,
    /// Display prefix.
    pub prefix: String,
    /// SHA-256 hex of the secret, computed by the caller.
    pub key_hash: String,
    /// Unrevoked keys the organization may hold, this one included; `None`: no cap
    /// (the first admin key, the admin CLI). Counted and inserted atomically.
    pub max_unrevoked: Option<u32>,
}

/// A named plugin of an organization with its version summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plugin {
    /// Owning organization.
    pub organization_id: Uuid,
    /// Name, unique within the organization.
    pub name: String,
    /// Version used for pricing, if any was activated.
    pub active_version: Option<i32>,
    /// Highest version number ever handed out (numbers are never reused).
    pub last_version: i32,
    /// Number of versions currently stored.
    pub version_count: i64,
    /// When the active version became active.
    pub activated_at: Option<DateTime<Utc>>,
    /// The version a scheduled activation will make active, if one is pending.
    pub next_version: Option<i32>,
    /// When it becomes active.
    pub next_activation_at: Option<DateTime<Utc>>,
    /// First upload.
    pub created_at: DateTime<Utc>,
    /// Last upload or activation.
    pub updated_at: DateTime<Utc>,
}

/// A scheduled activation: `version` becomes the active one at `effective_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PendingActivation {
    pub version: i32,
    pub effective_at: DateTime<Utc>,
}

/// Metadata of one uploaded plugin version (no bytes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginVersion {
    /// Owning organization.
    pub organization_id: Uuid,
    /// Plugin name.
    pub plugin_name: String,
    /// 1, 2, 3... per plugin.
    pub version: i32,
    /// SHA-256 hex of the wasm bytes.
    pub sha256: String,
    /// Length of the wasm bytes.
    pub size_bytes: i64,
    /// The plugin's self-description.
    pub describe: serde_json::Value,
    /// Upload time.
    pub uploaded_at: DateTime<Utc>,
    /// API key that uploaded it.
    pub uploaded_by: Option<Uuid>,
}

impl PluginVersion {
    /// The metadata of `upload` stored as version `number` at `at`.
    pub(crate) fn uploaded(upload: &NewPluginVersion, number: i32, at: DateTime<Utc>) -> Self {
        Self {
            organization_id: upload.organization_id,
            plugin_name: upload.name.clone(),
            version: number,
            sha256: upload.sha256.clone(),
            size_bytes: upload.wasm.len() as i64,
            describe: upload.describe.clone(),
            uploaded_at: at,
            uploaded_by: upload.uploaded_by,
        }
    }
}

/// A plugin with all its versions, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginDetail {
    /// The plugin row.
    pub plugin: Plugin,
    /// Versions, ascending.
    pub versions: Vec<PluginVersion>,
}

/// A version with its bytes, for loading into the runtime.
#[derive(Debug, Clone)]
pub struct PluginBinary {
    /// Metadata (includes the sha256 to key a compiled-module cache).
    pub version: PluginVersion,
    /// The WebAssembly bytes.
    pub wasm: Vec<u8>,
}

/// Input of [`PluginStore::add_plugin_version`](super::PluginStore::add_plugin_version).
#[derive(Debug, Clone)]
pub struct NewPluginVersion {
    /// Owning organization.
    pub organization_id: Uuid,
    /// Plugin name (the plugin row is created on first upload).
    pub name: String,
    /// SHA-256 hex of `wasm`, computed by the caller.
    pub sha256: String,
    /// The WebAssembly bytes.
    pub wasm: Vec<u8>,
    /// The plugin's self-description.
    pub describe: serde_json::Value,
    /// Uploading API key.
    pub uploaded_by: Option<Uuid>,
}

/// One rate to store: `rate` units of `to_currency` per 1 `from_currency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRate {
    /// ISO code, e.g. `USD`.
    pub from_currency: String,
    /// ISO code, e.g. `RUB`.
    pub to_currency: String,
    /// Units of `to` per one unit of `from`.
    pub rate: Decimal,
    /// The central bank's quoting nominal (informational).
    pub nominal: i32,
}

/// A stored exchange rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRate {
    /// UUID v7.
    pub id: Uuid,
    /// ISO code.
    pub from_currency: String,
    /// ISO code.
    pub to_currency: String,
    /// Units of `to` per one unit of `from`, exactly as stored.
    pub rate: Decimal,
    /// The central bank's quoting nominal.
    pub nominal: i32,
    /// The central bank's date for this rate.
    pub rate_date: NaiveDate,
    /// Where it came from, e.g. `cbr`.
    pub source: String,
    /// When it was fetched.
    pub fetched_at: DateTime<Utc>,
}

/// An activity entry to record (batched by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    /// Tenant, or `None` for a system entry.
    pub organization_id: Option<Uuid>,
    /// Acting API key.
    pub api_key_id: Option<Uuid>,
    /// e.g. `quote.create`.
    pub action: String,
    /// e.g. `quote`.
    pub entity_type: String,
    /// Id or name of the entity.
    pub entity_id: Option<String>,
    /// Free-form details.
    pub metadata: serde_json::Value,
    /// When it happened (not when the batch was written).
    pub created_at: DateTime<Utc>,
}

/// A recorded activity entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityEntry {
    /// UUID v7 (assigned at insert).
    pub id: Uuid,
    /// Tenant, `None` for system entries.
    pub organization_id: Option<Uuid>,
    /// Acting API key.
    pub api_key_id: Option<Uuid>,
    /// e.g. `quote.create`.
    pub action: String,
    /// e.g. `quote`.
    pub entity_type: String,
    /// Id or name of the entity.
    pub entity_id: Option<String>,
    /// Free-form details.
    pub metadata: serde_json::Value,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// Filter of [`ActivityStore::list_activity`](super::ActivityStore::list_activity); `None` = any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    /// Exact action, e.g. `quote.create`.
    pub action: Option<String>,
    /// Exact entity type.
    pub entity_type: Option<String>,
}

/// How a job run ended (or that it is still running).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobOutcome {
    /// Started, not finished (or the host died meanwhile).
    Running,
    /// Finished fine.
    Success,
    /// Finished with an error.
    Failed,
    /// Not run (e.g. another host holds the lock, or nothing to do).
    Skipped,
}

impl JobOutcome {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

impl fmt::Display for JobOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobOutcome {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(Self::Running),
            "success" => Ok(Self::Success),
            "failed" => Ok(Self::Failed),
            "skipped" => Ok(Self::Skipped),
            other => Err(StoreError::Invalid(format!(
                "unknown job outcome {other:?}"
            ))),
        }
    }
}

/// One recorded job run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRun {
    /// UUID v7.
    pub id: Uuid,
    /// Job name, e.g. `cbr_rates`.
    pub job: String,
    /// Start time.
    pub started_at: DateTime<Utc>,
    /// End time; `None` while running.
    pub finished_at: Option<DateTime<Utc>>,
    /// Outcome.
    pub outcome: JobOutcome,
    /// Human detail (error text, skip reason...).
    pub detail: String,
    /// Items processed (e.g. rates stored).
    pub items: i64,
}

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Connection pool occupancy, for the health endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PoolState {
    /// Open connections (idle + in use).
    pub size: u32,
    /// Idle connections.
    pub idle: u32,
    /// Configured maximum.
    pub max: u32,
    /// Connections handed out since the pool opened (see `Acquires`).
    pub acquired_total: u64,
}

impl PoolState {
    /// From a pool's counters.
    pub(crate) fn new(size: u32, idle: usize, max: u32, acquired_total: u64) -> Self {
        Self {
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
            acquired_total,
        }
    }
}

/// How an organization's quote documents look: an optional PNG logo and an optional
/// footer text, both on every PDF and XLSX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    /// Printed at the bottom of every page.
    pub footer_text: Option<String>,
    /// A PNG, checked for size and dimensions before it is stored.
    pub logo_png: Option<Vec<u8>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}
