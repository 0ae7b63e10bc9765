//! PostgreSQL row decoders (native UUID, TIMESTAMPTZ, NUMERIC, JSONB types).

use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;

use super::super::error::{Result, StoreError};
use super::super::quote::{Quote, QuoteRevision};
use super::super::types::{
    ActivityEntry, ApiKey, JobRun, Organization, Plugin, PluginVersion, StoredRate,
};

/// Reads a column, mapping decode failures to `Corrupt`.
pub(super) fn col<'r, T>(row: &'r PgRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

/// JSON text to bind with a `::json` cast. The columns are `json`, not
/// `jsonb`: stored verbatim, so object key order survives the round trip
/// exactly as on SQLite (the workspace enables serde_json's `preserve_order`).
pub(super) fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

/// Reads a JSON column.
pub(super) fn col_json(row: &PgRow, name: &str) -> Result<serde_json::Value> {
    Ok(col::<Json<serde_json::Value>>(row, name)?.0)
}

/// `organizations` columns.
pub(super) fn organization(row: &PgRow) -> Result<Organization> {
    Ok(Organization {
        id: col(row, "id")?,
        name: col(row, "name")?,
        created_at: col(row, "created_at")?,
    })
}

/// `api_keys` columns.
pub(super) fn api_key(row: &PgRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: col(row, "id")?,
        organization_id: col(row, "organization_id")?,
        name: col(row, "name")?,
        role: col::<String>(row, "role")?.parse()?,
        prefix: col(row, "prefix")?,
        created_at: col(row, "created_at")?,
        last_used_at: col(row, "last_used_at")?,
        revoked_at: col(row, "revoked_at")?,
    })
}

/// `plugins` columns plus `version_count`.
pub(super) fn plugin(row: &PgRow) -> Result<Plugin> {
    Ok(Plugin {
        organization_id: col(row, "organization_id")?,
        name: col(row, "name")?,
        active_version: col(row, "active_version")?,
        last_version: col(row, "last_version")?,
        version_count: col(row, "version_count")?,
        activated_at: col(row, "activated_at")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

/// `plugin_versions` metadata columns.
pub(super) fn plugin_version(row: &PgRow) -> Result<PluginVersion> {
    Ok(PluginVersion {
        organization_id: col(row, "organization_id")?,
        plugin_name: col(row, "plugin_name")?,
        version: col(row, "version")?,
        sha256: col(row, "sha256")?,
        size_bytes: col(row, "size_bytes")?,
        describe: col_json(row, "describe_json")?,
        uploaded_at: col(row, "uploaded_at")?,
        uploaded_by: col(row, "uploaded_by")?,
    })
}

/// `quotes` columns.
pub(super) fn quote(row: &PgRow) -> Result<Quote> {
    Ok(Quote {
        id: col(row, "id")?,
        organization_id: col(row, "organization_id")?,
        number: col(row, "number")?,
        title: col(row, "title")?,
        status: col::<String>(row, "status")?.parse()?,
        currency: col(row, "currency")?,
        subtotal: col(row, "subtotal")?,
        tax: col(row, "tax")?,
        total: col(row, "total")?,
        request: col_json(row, "request")?,
        result: col_json(row, "result")?,
        plugin_name: col(row, "plugin_name")?,
        plugin_version: col(row, "plugin_version")?,
        plugin_sha256: col(row, "plugin_sha256")?,
        rates: col_json(row, "rates")?,
        fuel_used: col(row, "fuel_used")?,
        revision: col(row, "revision")?,
        priced_at: col(row, "priced_at")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

/// `quote_revisions` columns.
pub(super) fn quote_revision(row: &PgRow) -> Result<QuoteRevision> {
    Ok(QuoteRevision {
        quote_id: col(row, "quote_id")?,
        organization_id: col(row, "organization_id")?,
        revision: col(row, "revision")?,
        currency: col(row, "currency")?,
        subtotal: col(row, "subtotal")?,
        tax: col(row, "tax")?,
        total: col(row, "total")?,
        request: col_json(row, "request")?,
        result: col_json(row, "result")?,
        plugin_name: col(row, "plugin_name")?,
        plugin_version: col(row, "plugin_version")?,
        plugin_sha256: col(row, "plugin_sha256")?,
        rates: col_json(row, "rates")?,
        fuel_used: col(row, "fuel_used")?,
        created_at: col(row, "created_at")?,
        archived_at: col(row, "archived_at")?,
    })
}

/// `exchange_rates` columns.
pub(super) fn stored_rate(row: &PgRow) -> Result<StoredRate> {
    Ok(StoredRate {
        id: col(row, "id")?,
        from_currency: col(row, "from_currency")?,
        to_currency: col(row, "to_currency")?,
        rate: col(row, "rate")?,
        nominal: col(row, "nominal")?,
        rate_date: col(row, "rate_date")?,
        source: col(row, "source")?,
        fetched_at: col(row, "fetched_at")?,
    })
}

/// `activity_logs` columns.
pub(super) fn activity(row: &PgRow) -> Result<ActivityEntry> {
    Ok(ActivityEntry {
        id: col(row, "id")?,
        organization_id: col(row, "organization_id")?,
        api_key_id: col(row, "api_key_id")?,
        action: col(row, "action")?,
        entity_type: col(row, "entity_type")?,
        entity_id: col(row, "entity_id")?,
        metadata: col_json(row, "metadata")?,
        created_at: col(row, "created_at")?,
    })
}

/// `job_runs` columns.
pub(super) fn job_run(row: &PgRow) -> Result<JobRun> {
    Ok(JobRun {
        id: col(row, "id")?,
        job: col(row, "job")?,
        started_at: col(row, "started_at")?,
        finished_at: col(row, "finished_at")?,
        outcome: col::<String>(row, "outcome")?.parse()?,
        detail: col(row, "detail")?,
        items: col(row, "items")?,
    })
}
