//! Storage layer: one trait per concern ([`TenantStore`], [`PluginStore`],
//! [`QuoteStore`], [`ExchangeRateStore`], [`ActivityStore`], [`JobStore`],
//! [`BrandingStore`]) behind one
//! [`Store`], their domain types, and the SQLite and PostgreSQL implementations chosen
//! by [`connect`] from the database URL.
//!
//! A backend is one folder (its connection, its column encodings in `values.rs`, one
//! file per concern), one migrations folder and one line in [`connect`]; the SQL both
//! backends speak, the row decoders and the domain rules are shared (`sql.rs`,
//! `rows.rs`, the types).
//!
//! Conventions shared by both backends:
//! - ids are UUID v7 generated in Rust; timestamps are UTC truncated to
//!   microseconds (the precision of both databases), so values read back
//!   compare equal to values written;
//! - money and rates are `rust_decimal::Decimal` (PostgreSQL `NUMERIC`, SQLite
//!   canonical text), never floats; the scale written is the scale read back;
//! - every tenant-scoped method takes the organization id and filters on it;
//!   another organization's row is simply "not found". On PostgreSQL such
//!   methods also run inside a *tenant transaction* (`SET LOCAL ROLE
//!   quote_tenant` + `app.organization_id`) so row-level security is a second
//!   wall behind the `WHERE organization_id = $1`.

mod acquires;
mod clock;
mod config;
mod cursor;
mod error;
mod export;
mod lock;
mod postgres;
mod quote;
mod rows;
mod sessions;
mod sql;
mod sqlite;
mod stats;
mod traits;
mod types;
mod values;

use std::sync::Arc;

pub(crate) use self::clock::now;

pub use self::acquires::Acquires;
pub use self::config::PoolOptionsConfig;
pub use self::cursor::{ActivityCursor, Page, PageCursor, QuoteCursor};
pub use self::error::{Result, StoreError};
pub use self::lock::{JobLockGuard, job_lock_key};
pub use self::postgres::notify::CHANGES_CHANNEL;
pub use self::postgres::{PostgresStore, TENANT_ROLE};
pub use self::quote::{
    CurrencyTotals, MonthTotals, NewQuote, PeriodStats, Pricing, Quote, QuoteFilter, QuoteRevision,
    QuoteStats, QuoteStatus, QuoteUpdate, StatsWindow, StatusChange,
};
pub use self::sessions::{ConsoleSessionStore, NewConsoleSession};
pub use self::sqlite::SqliteStore;
pub use self::traits::{
    ActivityStore, BrandingStore, ExchangeRateStore, JobStore, PluginStore, QuoteStore, Store,
    TenantStore,
};
pub use self::types::{
    ActivityEntry, ActivityFilter, ApiKey, Backend, Branding, JobOutcome, JobRun, KeyRevocation,
    NewActivity, NewApiKey, NewPluginVersion, NewRate, Organization, PendingActivation, Plugin,
    PluginBinary, PluginDetail, PluginVersion, PoolState, Role, StoredRate,
};

/// Opens the store named by `url` and returns it as a trait object.
///
/// - `sqlite:path/to/file.db` (also `sqlite://...`): the file and its parent
///   directory are created if missing; WAL, foreign keys on, busy timeout.
/// - `postgres://...` or `postgresql://...`: a pool to PostgreSQL.
///
/// Migrations are *not* run here; `serve` calls [`Store::migrate`].
pub async fn connect(url: &str, options: &PoolOptionsConfig) -> Result<Arc<dyn Store>> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Arc::new(SqliteStore::connect(url, options).await?)),
        "postgres" | "postgresql" if url[scheme.len()..].starts_with("://") => {
            Ok(Arc::new(PostgresStore::connect(url, options).await?))
        }
        _ => Err(StoreError::Invalid(format!(
            "unsupported database URL scheme {scheme:?} (use sqlite: or postgres://)"
        ))),
    }
}
