//! SQLite value encodings and row decoders.
//!
//! Timestamps are fixed-width text `YYYY-MM-DDTHH:MM:SS.ffffffZ` (27 chars,
//! always UTC, always 6 fraction digits) so text order is time order; decimals
//! are the canonical `rust_decimal` string; JSON is text; ids are 16-byte blobs.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use uuid::Uuid;

use super::super::error::{Result, StoreError};
use super::super::quote::{Quote, QuoteRevision};
use super::super::types::{
    ActivityEntry, ApiKey, JobRun, Organization, Plugin, PluginVersion, StoredRate,
};

const TS_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Encodes a timestamp as sortable fixed-width text.
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.format(TS_FORMAT).to_string()
}

/// Decodes [`ts`]'s text.
pub(super) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, TS_FORMAT)
        .map(|n| n.and_utc())
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

/// Encodes a decimal as canonical text (scale preserved).
pub(super) fn dec(d: Decimal) -> String {
    d.to_string()
}

/// Decodes [`dec`]'s text exactly.
pub(super) fn parse_dec(s: &str) -> Result<Decimal> {
    Decimal::from_str_exact(s).map_err(|e| StoreError::Corrupt(format!("decimal {s:?}: {e}")))
}

/// Reads a column, mapping decode failures to `Corrupt`.
pub(super) fn col<'r, T>(row: &'r SqliteRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

/// Reads a timestamp column.
pub(super) fn col_ts(row: &SqliteRow, name: &str) -> Result<DateTime<Utc>> {
    parse_ts(&col::<String>(row, name)?)
}

/// Reads a nullable timestamp column.
pub(super) fn col_ts_opt(row: &SqliteRow, name: &str) -> Result<Option<DateTime<Utc>>> {
    col::<Option<String>>(row, name)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

/// Reads a decimal column.
pub(super) fn col_dec(row: &SqliteRow, name: &str) -> Result<Decimal> {
    parse_dec(&col::<String>(row, name)?)
}

/// Reads a JSON column.
pub(super) fn col_json(row: &SqliteRow, name: &str) -> Result<serde_json::Value> {
    Ok(col::<Json<serde_json::Value>>(row, name)?.0)
}

/// `organizations` columns.
pub(super) fn organization(row: &SqliteRow) -> Result<Organization> {
    Ok(Organization {
        id: col(row, "id")?,
        name: col(row, "name")?,
        created_at: col_ts(row, "created_at")?,
    })
}

/// `api_keys` columns.
pub(super) fn api_key(row: &SqliteRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: col(row, "id")?,
        organization_id: col(row, "organization_id")?,
        name: col(row, "name")?,
        role: col::<String>(row, "role")?.parse()?,
        prefix: col(row, "prefix")?,
        created_at: col_ts(row, "created_at")?,
        last_used_at: col_ts_opt(row, "last_used_at")?,
        revoked_at: col_ts_opt(row, "revoked_at")?,
    })
}

/// `plugins` columns plus `version_count`.
pub(super) fn plugin(row: &SqliteRow) -> Result<Plugin> {
    Ok(Plugin {
        organization_id: col(row, "organization_id")?,
        name: col(row, "name")?,
        active_version: col(row, "active_version")?,
        last_version: col(row, "last_version")?,
        version_count: col(row, "version_count")?,
        activated_at: col_ts_opt(row, "activated_at")?,
        created_at: col_ts(row, "created_at")?,
        updated_at: col_ts(row, "updated_at")?,
    })
}

/// `plugin_versions` metadata columns.
pub(super) fn plugin_version(row: &SqliteRow) -> Result<PluginVersion> {
    Ok(PluginVersion {
        organization_id: col(row, "organization_id")?,
        plugin_name: col(row, "plugin_name")?,
        version: col(row, "version")?,
        sha256: col(row, "sha256")?,
        size_bytes: col(row, "size_bytes")?,
        describe: col_json(row, "describe_json")?,
        uploaded_at: col_ts(row, "uploaded_at")?,
        uploaded_by: col::<Option<Uuid>>(row, "uploaded_by")?,
    })
}

/// `quotes` columns.
pub(super) fn quote(row: &SqliteRow) -> Result<Quote> {
    Ok(Quote {
        id: col(row, "id")?,
        organization_id: col(row, "organization_id")?,
        number: col(row, "number")?,
        title: col(row, "title")?,
        status: col::<String>(row, "status")?.parse()?,
        currency: col(row, "currency")?,
        subtotal: col_dec(row, "subtotal")?,
        tax: col_dec(row, "tax")?,
        total: col_dec(row, "total")?,
        request: col_json(row, "request")?,
        result: col_json(row, "result")?,
        plugin_name: col(row, "plugin_name")?,
        plugin_version: col(row, "plugin_version")?,
        plugin_sha256: col(row, "plugin_sha256")?,
        rates: col_json(row, "rates")?,
        fuel_used: col(row, "fuel_used")?,
        revision: col(row, "revision")?,
        priced_at: col_ts(row, "priced_at")?,
        created_at: col_ts(row, "created_at")?,
        updated_at: col_ts(row, "updated_at")?,
    })
}

/// `quote_revisions` columns.
pub(super) fn quote_revision(row: &SqliteRow) -> Result<QuoteRevision> {
    Ok(QuoteRevision {
        quote_id: col(row, "quote_id")?,
        organization_id: col(row, "organization_id")?,
        revision: col(row, "revision")?,
        currency: col(row, "currency")?,
        subtotal: col_dec(row, "subtotal")?,
        tax: col_dec(row, "tax")?,
        total: col_dec(row, "total")?,
        request: col_json(row, "request")?,
        result: col_json(row, "result")?,
        plugin_name: col(row, "plugin_name")?,
        plugin_version: col(row, "plugin_version")?,
        plugin_sha256: col(row, "plugin_sha256")?,
        rates: col_json(row, "rates")?,
        fuel_used: col(row, "fuel_used")?,
        created_at: col_ts(row, "created_at")?,
        archived_at: col_ts(row, "archived_at")?,
    })
}

/// `exchange_rates` columns.
pub(super) fn stored_rate(row: &SqliteRow) -> Result<StoredRate> {
    Ok(StoredRate {
        id: col(row, "id")?,
        from_currency: col(row, "from_currency")?,
        to_currency: col(row, "to_currency")?,
        rate: col_dec(row, "rate")?,
        nominal: col(row, "nominal")?,
        rate_date: col(row, "rate_date")?,
        source: col(row, "source")?,
        fetched_at: col_ts(row, "fetched_at")?,
    })
}

/// `activity_logs` columns.
pub(super) fn activity(row: &SqliteRow) -> Result<ActivityEntry> {
    Ok(ActivityEntry {
        id: col(row, "id")?,
        organization_id: col(row, "organization_id")?,
        api_key_id: col(row, "api_key_id")?,
        action: col(row, "action")?,
        entity_type: col(row, "entity_type")?,
        entity_id: col(row, "entity_id")?,
        metadata: col_json(row, "metadata")?,
        created_at: col_ts(row, "created_at")?,
    })
}

/// `job_runs` columns.
pub(super) fn job_run(row: &SqliteRow) -> Result<JobRun> {
    Ok(JobRun {
        id: col(row, "id")?,
        job: col(row, "job")?,
        started_at: col_ts(row, "started_at")?,
        finished_at: col_ts_opt(row, "finished_at")?,
        outcome: col::<String>(row, "outcome")?.parse()?,
        detail: col(row, "detail")?,
        items: col(row, "items")?,
    })
}
