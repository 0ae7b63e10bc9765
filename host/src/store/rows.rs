//! Domain types read from result rows, once for every backend: each function takes the
//! columns its table's statements select (see [`sql`](super::sql)).

use super::error::Result;
use super::quote::{Quote, QuoteRevision};
use super::types::{
    ActivityEntry, ApiKey, Branding, JobRun, Organization, PendingActivation, Plugin, PluginBinary,
    PluginVersion, StoredRate,
};
use super::values::Columns;

/// `organizations` columns.
pub(crate) fn organization(row: &impl Columns) -> Result<Organization> {
    Ok(Organization {
        id: row.id("id")?,
        name: row.text("name")?,
        created_at: row.time("created_at")?,
    })
}

/// `api_keys` columns.
pub(crate) fn api_key(row: &impl Columns) -> Result<ApiKey> {
    Ok(ApiKey {
        id: row.id("id")?,
        organization_id: row.id("organization_id")?,
        name: row.text("name")?,
        role: row.parsed("role")?,
        prefix: row.text("prefix")?,
        created_at: row.time("created_at")?,
        last_used_at: row.opt_time("last_used_at")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

/// An `api_keys` row joined with its organization (`org_name`, `org_created_at`).
pub(crate) fn api_key_with_organization(row: &impl Columns) -> Result<(ApiKey, Organization)> {
    let key = api_key(row)?;
    let organization = Organization {
        id: key.organization_id,
        name: row.text("org_name")?,
        created_at: row.time("org_created_at")?,
    };
    Ok((key, organization))
}

/// `plugins` columns plus `version_count`.
pub(crate) fn plugin(row: &impl Columns) -> Result<Plugin> {
    Ok(Plugin {
        organization_id: row.id("organization_id")?,
        name: row.text("name")?,
        active_version: row.opt_int("active_version")?,
        last_version: row.int("last_version")?,
        version_count: row.big("version_count")?,
        activated_at: row.opt_time("activated_at")?,
        next_version: row.opt_int("next_version")?,
        next_activation_at: row.opt_time("next_activation_at")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// `plugin_versions` metadata columns.
pub(crate) fn plugin_version(row: &impl Columns) -> Result<PluginVersion> {
    Ok(PluginVersion {
        organization_id: row.id("organization_id")?,
        plugin_name: row.text("plugin_name")?,
        version: row.int("version")?,
        sha256: row.text("sha256")?,
        size_bytes: row.big("size_bytes")?,
        describe: row.json("describe_json")?,
        uploaded_at: row.time("uploaded_at")?,
        uploaded_by: row.opt_id("uploaded_by")?,
    })
}

/// `plugin_versions` metadata columns plus `wasm`.
pub(crate) fn plugin_binary(row: &impl Columns) -> Result<PluginBinary> {
    Ok(PluginBinary {
        version: plugin_version(row)?,
        wasm: row.bytes("wasm")?,
    })
}

/// `quotes` columns.
pub(crate) fn quote(row: &impl Columns) -> Result<Quote> {
    Ok(Quote {
        id: row.id("id")?,
        organization_id: row.id("organization_id")?,
        number: row.text("number")?,
        title: row.opt_text("title")?,
        status: row.parsed("status")?,
        currency: row.text("currency")?,
        subtotal: row.money("subtotal")?,
        tax: row.money("tax")?,
        total: row.money("total")?,
        request: row.json("request")?,
        result: row.json("result")?,
        plugin_name: row.text("plugin_name")?,
        plugin_version: row.int("plugin_version")?,
        plugin_sha256: row.text("plugin_sha256")?,
        rates: row.json("rates")?,
        fuel_used: row.big("fuel_used")?,
        revision: row.int("revision")?,
        priced_at: row.time("priced_at")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// `quote_revisions` columns.
pub(crate) fn quote_revision(row: &impl Columns) -> Result<QuoteRevision> {
    Ok(QuoteRevision {
        quote_id: row.id("quote_id")?,
        organization_id: row.id("organization_id")?,
        revision: row.int("revision")?,
        currency: row.text("currency")?,
        subtotal: row.money("subtotal")?,
        tax: row.money("tax")?,
        total: row.money("total")?,
        request: row.json("request")?,
        result: row.json("result")?,
        plugin_name: row.text("plugin_name")?,
        plugin_version: row.int("plugin_version")?,
        plugin_sha256: row.text("plugin_sha256")?,
        rates: row.json("rates")?,
        fuel_used: row.big("fuel_used")?,
        created_at: row.time("created_at")?,
        archived_at: row.time("archived_at")?,
    })
}

/// `exchange_rates` columns.
pub(crate) fn stored_rate(row: &impl Columns) -> Result<StoredRate> {
    Ok(StoredRate {
        id: row.id("id")?,
        from_currency: row.text("from_currency")?,
        to_currency: row.text("to_currency")?,
        rate: row.money("rate")?,
        nominal: row.int("nominal")?,
        rate_date: row.date("rate_date")?,
        source: row.text("source")?,
        fetched_at: row.time("fetched_at")?,
    })
}

/// `activity_logs` columns.
pub(crate) fn activity(row: &impl Columns) -> Result<ActivityEntry> {
    Ok(ActivityEntry {
        id: row.id("id")?,
        organization_id: row.opt_id("organization_id")?,
        api_key_id: row.opt_id("api_key_id")?,
        action: row.text("action")?,
        entity_type: row.text("entity_type")?,
        entity_id: row.opt_text("entity_id")?,
        metadata: row.json("metadata")?,
        created_at: row.time("created_at")?,
    })
}

/// `job_runs` columns.
pub(crate) fn job_run(row: &impl Columns) -> Result<JobRun> {
    Ok(JobRun {
        id: row.id("id")?,
        job: row.text("job")?,
        started_at: row.time("started_at")?,
        finished_at: row.opt_time("finished_at")?,
        outcome: row.parsed("outcome")?,
        detail: row.text("detail")?,
        items: row.big("items")?,
    })
}

/// Decodes every row with `decode`.
pub(crate) fn all<R, T>(rows: &[R], decode: impl Fn(&R) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(decode).collect()
}

/// `organization_branding` columns.
pub(crate) fn branding(row: &impl Columns) -> Result<Branding> {
    Ok(Branding {
        footer_text: row.opt_text("footer_text")?,
        logo_png: row.opt_bytes("logo_png")?,
        updated_at: row.time("updated_at")?,
    })
}

/// A `plugin_activations` row (`version`, `effective_at`).
pub(crate) fn pending_activation(row: &impl Columns) -> Result<PendingActivation> {
    Ok(PendingActivation {
        version: row.int("version")?,
        effective_at: row.time("effective_at")?,
    })
}
