//! Statements both backends run as they are: portable SQL with `$n` placeholders (SQLite
//! reads `$n` as the n-th bound value too), the values each one binds, and the
//! statements assembled at run time. What a backend says differently (locks, window
//! queries, exact sums) stays in its own folder.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::cursor::{PageCursor, clamp_limit};
use super::quote::{Pricing, Quote, QuoteFilter, QuoteStatus, QuoteUpdate};
use super::types::{ActivityFilter, ApiKey, JobOutcome, NewActivity, NewRate, PluginVersion};
use super::values::{SqlText, Value, values};

/// Columns of `quotes`, in [`quote_values`] order.
macro_rules! quote_cols {
    () => {
        "id, organization_id, number, title, status, currency, subtotal, tax, total, request,
         result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision,
         priced_at, created_at, updated_at"
    };
}

/// [`quote_cols`] with the documents (request, result, rates) left out as `NULL`, read
/// back as JSON `null`: what listings and the dashboard read, which never show them.
macro_rules! quote_summary_cols {
    () => {
        "id, organization_id, number, title, status, currency, subtotal, tax, total,
         NULL AS request, NULL AS result, plugin_name, plugin_version, plugin_sha256,
         NULL AS rates, fuel_used, revision, priced_at, created_at, updated_at"
    };
}

/// Metadata columns of `plugin_versions` (aliased `v`).
macro_rules! version_cols {
    () => {
        "v.organization_id, v.plugin_name, v.version, v.sha256, v.size_bytes, v.describe_json,
         v.uploaded_at, v.uploaded_by"
    };
}

/// Columns of `plugins` (aliased `p`, joined with its pending activation `a`) plus the
/// version count, resolved at the time bound as `$now`: a pending activation whose
/// `effective_at` has passed is the active version; one still ahead is the next.
macro_rules! plugin_cols {
    ($now:literal) => {
        concat!(
            "p.organization_id, p.name,
             CASE WHEN a.effective_at <= ",
            $now,
            " THEN a.version ELSE p.active_version END
                 AS active_version,
             p.last_version,
             CASE WHEN a.effective_at <= ",
            $now,
            " THEN a.effective_at ELSE p.activated_at END
                 AS activated_at,
             CASE WHEN a.effective_at > ",
            $now,
            " THEN a.version END AS next_version,
             CASE WHEN a.effective_at > ",
            $now,
            " THEN a.effective_at END AS next_activation_at,
             p.created_at, p.updated_at,
             (SELECT count(*) FROM plugin_versions c
              WHERE c.organization_id = p.organization_id AND c.plugin_name = p.name)
                 AS version_count"
        )
    };
}

/// `plugins p` with its pending activation `a`, if any.
macro_rules! plugins_with_pending {
    () => {
        " FROM plugins p LEFT JOIN plugin_activations a
            ON a.organization_id = p.organization_id AND a.plugin_name = p.name"
    };
}

/// `plugins p` joined with the version active at `$now`, `v`.
macro_rules! plugins_with_active_version {
    ($now:literal) => {
        concat!(
            " FROM plugins p LEFT JOIN plugin_activations a
                ON a.organization_id = p.organization_id AND a.plugin_name = p.name
                AND a.effective_at <= ", $now, "
              JOIN plugin_versions v ON v.organization_id = p.organization_id
                AND v.plugin_name = p.name AND v.version = COALESCE(a.version, p.active_version)"
        )
    };
}

/// Columns of `api_keys`.
macro_rules! api_key_cols {
    () => {
        "id, organization_id, name, role, prefix, created_at, last_used_at, revoked_at"
    };
}

/// Columns of `exchange_rates`, in [`rate_values`] order.
macro_rules! rate_cols {
    () => {
        "id, from_currency, to_currency, rate, nominal, rate_date, source, fetched_at"
    };
}
pub(crate) use rate_cols;

const ACTIVITY_COLS: &str =
    "id, organization_id, api_key_id, action, entity_type, entity_id, metadata, created_at";
const JOB_COLS: &str = "id, job, started_at, finished_at, outcome, detail, items";

// ----- branding of quote documents --------------------------------------------

pub(crate) const BRANDING: &str = "SELECT footer_text, logo_png, updated_at FROM organization_branding WHERE organization_id = $1";
pub(crate) const SET_BRANDING: &str =
    "INSERT INTO organization_branding (organization_id, footer_text, logo_png, updated_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (organization_id) DO UPDATE
     SET footer_text = excluded.footer_text, logo_png = excluded.logo_png,
         updated_at = excluded.updated_at";

// ----- tenants and keys ----------------------------------------------------

pub(crate) const INSERT_ORGANIZATION: &str =
    "INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)";
pub(crate) const ORGANIZATION_BY_NAME: &str =
    "SELECT id, name, created_at FROM organizations WHERE name = $1";
pub(crate) const ORGANIZATION_BY_ID: &str =
    "SELECT id, name, created_at FROM organizations WHERE id = $1";
pub(crate) const COUNT_ORGANIZATIONS: &str = "SELECT count(*) AS n FROM organizations";
pub(crate) const INSERT_API_KEY: &str =
    "INSERT INTO api_keys (id, organization_id, name, role, prefix, key_hash, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const COUNT_UNREVOKED_API_KEYS: &str =
    "SELECT count(*) AS n FROM api_keys WHERE organization_id = $1 AND revoked_at IS NULL";
/// Serializes key creations of one organization (PostgreSQL: the two-key advisory
/// lock space, apart from the job locks' one-key space), held until commit.
pub(crate) const LOCK_API_KEY_CREATION: &str =
    "SELECT pg_advisory_xact_lock(1801807219, hashtext($1::text))";
pub(crate) const API_KEY_BY_HASH: &str =
    "SELECT k.id, k.organization_id, k.name, k.role, k.prefix, k.created_at, k.last_used_at,
            k.revoked_at, o.name AS org_name, o.created_at AS org_created_at
     FROM api_keys k JOIN organizations o ON o.id = k.organization_id
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL";
pub(crate) const LIST_API_KEYS: &str = concat!(
    "SELECT ",
    api_key_cols!(),
    " FROM api_keys WHERE organization_id = $1 ORDER BY created_at, id"
);
/// What the last-admin guard reads: the active admin keys of `$1` and the active key
/// `$2`, in id order (so concurrent revocations lock them in the same order).
macro_rules! revoke_candidates {
    () => {
        concat!(
            "SELECT ",
            api_key_cols!(),
            " FROM api_keys WHERE organization_id = $1 AND revoked_at IS NULL
              AND (role = 'admin' OR id = $2) ORDER BY id"
        )
    };
}
/// SQLite: the transaction's write lock already excludes other revocations.
pub(crate) const REVOKE_CANDIDATES: &str = revoke_candidates!();
/// PostgreSQL: row locks; a revocation waiting on one re-reads the rows it got,
/// so it sees the admin key the other one revoked as revoked.
pub(crate) const REVOKE_CANDIDATES_LOCKED: &str = concat!(revoke_candidates!(), " FOR UPDATE");
pub(crate) const REVOKE_API_KEY: &str = concat!(
    "UPDATE api_keys SET revoked_at = $3
     WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING ",
    api_key_cols!()
);
/// The values of [`INSERT_API_KEY`].
pub(crate) fn api_key_values<'a>(key: &'a ApiKey, key_hash: &'a str) -> [Value<'a>; 7] {
    values![
        key.id,
        key.organization_id,
        &key.name,
        key.role.as_str(),
        &key.prefix,
        key_hash,
        key.created_at,
    ]
}

/// Writes only when the stored time is absent or older than `$3`.
pub(crate) const TOUCH_API_KEY: &str = "UPDATE api_keys SET last_used_at = $2
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)";

// ----- plugins -----------------------------------------------------------------

/// Creates the plugin row on its first upload.
pub(crate) const INSERT_PLUGIN: &str =
    "INSERT INTO plugins (organization_id, name, last_version, created_at, updated_at)
     VALUES ($1, $2, 0, $3, $3) ON CONFLICT (organization_id, name) DO NOTHING";
pub(crate) const VERSION_BY_SHA256: &str = concat!(
    "SELECT ",
    version_cols!(),
    " FROM plugin_versions v
      WHERE v.organization_id = $1 AND v.plugin_name = $2 AND v.sha256 = $3"
);
/// Hands out the next version number (numbers are never reused).
pub(crate) const NEXT_VERSION: &str =
    "UPDATE plugins SET last_version = last_version + 1, updated_at = $3
     WHERE organization_id = $1 AND name = $2 RETURNING last_version";
pub(crate) const INSERT_VERSION: &str =
    "INSERT INTO plugin_versions (organization_id, plugin_name, version, sha256, wasm,
         size_bytes, describe_json, uploaded_at, uploaded_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub(crate) const LIST_PLUGINS: &str = concat!(
    "SELECT ",
    plugin_cols!("$2"),
    plugins_with_pending!(),
    " WHERE p.organization_id = $1 ORDER BY p.name"
);
pub(crate) const PLUGIN_BY_NAME: &str = concat!(
    "SELECT ",
    plugin_cols!("$3"),
    plugins_with_pending!(),
    " WHERE p.organization_id = $1 AND p.name = $2"
);
pub(crate) const VERSIONS_OF_PLUGIN: &str = concat!(
    "SELECT ",
    version_cols!(),
    " FROM plugin_versions v WHERE v.organization_id = $1 AND v.plugin_name = $2
      ORDER BY v.version"
);
pub(crate) const VERSION: &str = concat!(
    "SELECT ",
    version_cols!(),
    " FROM plugin_versions v
      WHERE v.organization_id = $1 AND v.plugin_name = $2 AND v.version = $3"
);
pub(crate) const VERSION_WITH_BYTES: &str = concat!(
    "SELECT ",
    version_cols!(),
    ", v.wasm FROM plugin_versions v
      WHERE v.organization_id = $1 AND v.plugin_name = $2 AND v.version = $3"
);
/// The version of plugin `$2` active at `$3`.
pub(crate) const ACTIVE_VERSION_OF: &str = concat!(
    "SELECT ",
    version_cols!(),
    plugins_with_active_version!("$3"),
    " WHERE p.organization_id = $1 AND p.name = $2"
);
/// The version active at `$2` of the organization's most recently activated plugin.
pub(crate) const NEWEST_ACTIVE_VERSION: &str = concat!(
    "SELECT ",
    version_cols!(),
    plugins_with_active_version!("$2"),
    " WHERE p.organization_id = $1
      ORDER BY COALESCE(a.effective_at, p.activated_at) DESC NULLS LAST, p.name LIMIT 1"
);
pub(crate) const PLUGIN_ACTIVE_VERSION: &str =
    "SELECT active_version FROM plugins WHERE organization_id = $1 AND name = $2";
pub(crate) const ACTIVATE_VERSION: &str =
    "UPDATE plugins SET active_version = $3, activated_at = $4, updated_at = $4
     WHERE organization_id = $1 AND name = $2";
/// Folds a pending activation that is due at `$3` into `plugins.active_version` (its
/// time becomes `activated_at`); followed by [`DELETE_DUE_ACTIVATION`]. Every write to a
/// plugin's activation starts with these two, so the stored state never disagrees with
/// what the reads resolve by time.
pub(crate) const FOLD_DUE_ACTIVATION: &str = "UPDATE plugins SET
         active_version = (SELECT a.version FROM plugin_activations a
                           WHERE a.organization_id = $1 AND a.plugin_name = $2),
         activated_at = (SELECT a.effective_at FROM plugin_activations a
                         WHERE a.organization_id = $1 AND a.plugin_name = $2)
     WHERE organization_id = $1 AND name = $2 AND EXISTS (
         SELECT 1 FROM plugin_activations a
         WHERE a.organization_id = $1 AND a.plugin_name = $2 AND a.effective_at <= $3)";
pub(crate) const DELETE_DUE_ACTIVATION: &str = "DELETE FROM plugin_activations
     WHERE organization_id = $1 AND plugin_name = $2 AND effective_at <= $3";
/// Schedules `$3` at `$4` (`$5` = now), replacing a pending activation of the plugin.
pub(crate) const SCHEDULE_ACTIVATION: &str = "INSERT INTO plugin_activations
         (organization_id, plugin_name, version, effective_at, scheduled_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (organization_id, plugin_name)
     DO UPDATE SET version = $3, effective_at = $4, scheduled_at = $5";
/// Cancels the plugin's pending activation (only one still ahead of `$3`).
pub(crate) const CANCEL_ACTIVATION: &str = "DELETE FROM plugin_activations
     WHERE organization_id = $1 AND plugin_name = $2 AND effective_at > $3
     RETURNING version, effective_at";
/// The organization's next activation after `$2`: when its active versions next change.
pub(crate) const NEXT_SWITCH: &str = "SELECT min(effective_at) AS next_at FROM plugin_activations
     WHERE organization_id = $1 AND effective_at > $2";
pub(crate) const DELETE_VERSION: &str = "DELETE FROM plugin_versions
     WHERE organization_id = $1 AND plugin_name = $2 AND version = $3";

/// The values of [`INSERT_VERSION`].
pub(crate) fn version_values<'a>(version: &'a PluginVersion, wasm: &'a [u8]) -> [Value<'a>; 9] {
    values![
        version.organization_id,
        &version.plugin_name,
        version.version,
        &version.sha256,
        wasm,
        version.size_bytes,
        &version.describe,
        version.uploaded_at,
        version.uploaded_by,
    ]
}

// ----- quotes ------------------------------------------------------------------

/// Allocates the organization's next quote number of a year.
pub(crate) const NEXT_QUOTE_NUMBER: &str =
    "INSERT INTO quote_counters (organization_id, year, last) VALUES ($1, $2, 1)
     ON CONFLICT (organization_id, year) DO UPDATE SET last = quote_counters.last + 1
     RETURNING last";
pub(crate) const INSERT_QUOTE: &str = concat!(
    "INSERT INTO quotes (",
    quote_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
               $18, $19, $20)"
);
pub(crate) const QUOTE: &str = concat!(
    "SELECT ",
    quote_cols!(),
    " FROM quotes WHERE organization_id = $1 AND id = $2"
);
pub(crate) const QUOTE_STATUS: &str =
    "SELECT status, revision FROM quotes WHERE organization_id = $1 AND id = $2";
pub(crate) const DELETE_QUOTE: &str = "DELETE FROM quotes WHERE organization_id = $1 AND id = $2";
/// Copies the current result into `quote_revisions` if the quote is a draft at revision
/// `$3` (only drafts are recalculated).
pub(crate) const ARCHIVE_REVISION: &str =
    "INSERT INTO quote_revisions (quote_id, organization_id, revision, currency, subtotal, tax,
         total, request, result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used,
         created_at, archived_at)
     SELECT id, organization_id, revision, currency, subtotal, tax, total, request, result,
         plugin_name, plugin_version, plugin_sha256, rates, fuel_used, priced_at, $4
     FROM quotes WHERE organization_id = $1 AND id = $2 AND revision = $3 AND status = 'draft'";
/// Stores a new pricing as the next revision, only while the quote is a draft at revision
/// `$3`: a status change that lands during the calculation wins; values from
/// [`pricing_values`].
pub(crate) const SAVE_PRICING: &str = concat!(
    "UPDATE quotes SET currency = $4, subtotal = $5, tax = $6, total = $7, request = $8,
         result = $9, plugin_name = $10, plugin_version = $11, plugin_sha256 = $12,
         rates = $13, fuel_used = $14, revision = revision + 1, priced_at = $15,
         updated_at = $15
     WHERE organization_id = $1 AND id = $2 AND revision = $3 AND status = 'draft' RETURNING ",
    quote_cols!()
);
pub(crate) const QUOTE_REVISIONS: &str =
    "SELECT quote_id, organization_id, revision, currency, subtotal, tax, total, request,
         result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, created_at,
         archived_at
     FROM quote_revisions WHERE organization_id = $1 AND quote_id = $2 ORDER BY revision";
pub(crate) const STATUS_COUNTS: &str =
    "SELECT status, count(*) AS n FROM quotes WHERE organization_id = $1 GROUP BY status";
pub(crate) const CREATED_BETWEEN: &str = "SELECT count(*) AS n FROM quotes
     WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3";
/// The values of [`INSERT_QUOTE`].
pub(crate) fn quote_values(quote: &Quote) -> [Value<'_>; 20] {
    values![
        quote.id,
        quote.organization_id,
        &quote.number,
        quote.title.as_deref(),
        quote.status.as_str(),
        &quote.currency,
        quote.subtotal,
        quote.tax,
        quote.total,
        &quote.request,
        &quote.result,
        &quote.plugin_name,
        quote.plugin_version,
        &quote.plugin_sha256,
        &quote.rates,
        quote.fuel_used,
        quote.revision,
        quote.priced_at,
        quote.created_at,
        quote.updated_at,
    ]
}

/// The values of [`SAVE_PRICING`].
pub(crate) fn pricing_values<'a>(
    organization: Uuid,
    id: Uuid,
    expected_revision: i32,
    pricing: &'a Pricing,
    at: DateTime<Utc>,
) -> [Value<'a>; 15] {
    values![
        organization,
        id,
        expected_revision,
        &pricing.currency,
        pricing.subtotal,
        pricing.tax,
        pricing.total,
        &pricing.request,
        &pricing.result,
        &pricing.plugin_name,
        pricing.plugin_version,
        &pricing.plugin_sha256,
        &pricing.rates,
        pricing.fuel_used,
        at,
    ]
}

fn quotes_where(sql: &mut impl SqlText, organization: Uuid, filter: QuoteFilter) {
    sql.sql(" FROM quotes WHERE organization_id = ")
        .value(organization.into());
    if let Some(status) = filter.status {
        sql.sql(" AND status = ").value(status.as_str().into());
    }
}

/// A page of quote summaries, newest first (`limit + 1` rows: see `make_page`).
pub(crate) fn quote_page(
    sql: &mut impl SqlText,
    organization: Uuid,
    filter: QuoteFilter,
    limit: u32,
    cursor: Option<PageCursor>,
) {
    sql.sql(concat!("SELECT ", quote_summary_cols!()));
    quotes_where(sql, organization, filter);
    page(sql, limit, cursor);
}

/// The dashboard's `limit` newest quote summaries, of any status.
pub(crate) fn recent_summaries(sql: &mut impl SqlText, organization: Uuid, limit: u32) {
    sql.sql(concat!("SELECT ", quote_summary_cols!()));
    quotes_where(sql, organization, QuoteFilter::default());
    sql.sql(" ORDER BY created_at DESC, id DESC")
        .limit(i64::from(limit));
}

/// The `limit` most recent full quotes, newest first.
pub(crate) fn recent_quotes(
    sql: &mut impl SqlText,
    organization: Uuid,
    filter: QuoteFilter,
    limit: u32,
) {
    sql.sql(concat!("SELECT ", quote_cols!()));
    quotes_where(sql, organization, filter);
    sql.sql(" ORDER BY created_at DESC, id DESC")
        .limit(i64::from(limit));
}

/// A page of an export: full quotes after `after`, oldest first, at most `limit`.
pub(crate) fn quote_export_page(
    sql: &mut impl SqlText,
    organization: Uuid,
    filter: QuoteFilter,
    after: Option<PageCursor>,
    limit: u32,
) {
    sql.sql(concat!("SELECT ", quote_cols!()));
    quotes_where(sql, organization, filter);
    if let Some(after) = after {
        sql.sql(" AND (created_at, id) > ")
            .tuple(&values![after.created_at, after.id]);
    }
    sql.sql(" ORDER BY created_at, id").limit(i64::from(limit));
}

/// Changes title and/or status. A status change applies only while the quote is still
/// in the status the caller saw and that status may become the new one
/// ([`QuoteStatus::can_become`]): the rule holds in the statement that changes it.
pub(crate) fn update_quote(
    sql: &mut impl SqlText,
    organization: Uuid,
    id: Uuid,
    update: &QuoteUpdate,
    at: DateTime<Utc>,
) {
    sql.sql("UPDATE quotes SET updated_at = ").value(at.into());
    if let Some(title) = &update.title {
        sql.sql(", title = ").value(title.as_deref().into());
    }
    if let Some(change) = update.status {
        sql.sql(", status = ").value(change.to.as_str().into());
    }
    sql.sql(" WHERE organization_id = ")
        .value(organization.into())
        .sql(" AND id = ")
        .value(id.into());
    if let Some(change) = update.status {
        sql.sql(" AND status = ").value(change.from.as_str().into());
        let sources: Vec<QuoteStatus> = QuoteStatus::ALL
            .into_iter()
            .filter(|status| status.can_become(change.to))
            .collect();
        if sources.is_empty() {
            sql.sql(" AND 1 = 0");
        } else {
            let sources: Vec<Value<'_>> = sources.iter().map(|s| s.as_str().into()).collect();
            sql.sql(" AND status IN ").tuple(&sources);
        }
    }
    sql.sql(concat!(" RETURNING ", quote_cols!()));
}

/// `AND (created_at, id) < cursor ORDER BY created_at DESC, id DESC LIMIT limit + 1`.
fn page(sql: &mut impl SqlText, limit: u32, cursor: Option<PageCursor>) {
    if let Some(cursor) = cursor {
        sql.sql(" AND (created_at, id) < ")
            .tuple(&values![cursor.created_at, cursor.id]);
    }
    sql.sql(" ORDER BY created_at DESC, id DESC")
        .limit(i64::from(limit) + 1);
}

// ----- exchange rates ------------------------------------------------------------

/// The newest fetch time (`newest`, NULL when no rate is stored).
pub(crate) const NEWEST_RATE_FETCH: &str = "SELECT max(fetched_at) AS newest FROM exchange_rates";

/// Inserts of `rows` for `rate_date`, at most `per_insert` rows each; rows stored
/// already are left untouched.
pub(crate) fn rate_inserts<S: SqlText>(
    rows: &[NewRate],
    per_insert: usize,
    source: &str,
    rate_date: NaiveDate,
    fetched_at: DateTime<Utc>,
) -> Vec<S> {
    rows.chunks(per_insert)
        .map(|chunk| {
            let mut sql = S::start();
            sql.sql(concat!(
                "INSERT INTO exchange_rates (",
                rate_cols!(),
                ") VALUES "
            ));
            for (index, rate) in chunk.iter().enumerate() {
                if index > 0 {
                    sql.sql(", ");
                }
                sql.tuple(&values![
                    Uuid::now_v7(),
                    &rate.from_currency,
                    &rate.to_currency,
                    rate.rate,
                    rate.nominal,
                    rate_date,
                    source,
                    fetched_at,
                ]);
            }
            sql.sql(" ON CONFLICT (source, from_currency, to_currency, rate_date) DO NOTHING");
            sql
        })
        .collect()
}

// ----- activity --------------------------------------------------------------------

pub(crate) const COUNT_ACTIVITY: &str =
    "SELECT count(*) AS n FROM activity_logs WHERE organization_id = $1";

/// Inserts of `entries`, at most `per_insert` rows each.
pub(crate) fn activity_inserts<S: SqlText>(entries: &[NewActivity], per_insert: usize) -> Vec<S> {
    entries
        .chunks(per_insert)
        .map(|chunk| {
            let mut sql = S::start();
            sql.sql("INSERT INTO activity_logs (")
                .sql(ACTIVITY_COLS)
                .sql(") VALUES ");
            for (index, entry) in chunk.iter().enumerate() {
                if index > 0 {
                    sql.sql(", ");
                }
                sql.tuple(&values![
                    Uuid::now_v7(),
                    entry.organization_id,
                    entry.api_key_id,
                    &entry.action,
                    &entry.entity_type,
                    entry.entity_id.as_deref(),
                    &entry.metadata,
                    super::clock::truncate_micros(entry.created_at),
                ]);
            }
            sql
        })
        .collect()
}

/// A page of an organization's activity, newest first.
pub(crate) fn activity_page(
    sql: &mut impl SqlText,
    organization: Uuid,
    filter: &ActivityFilter,
    limit: u32,
    cursor: Option<PageCursor>,
) {
    sql.sql("SELECT ")
        .sql(ACTIVITY_COLS)
        .sql(" FROM activity_logs WHERE organization_id = ")
        .value(organization.into());
    if let Some(action) = &filter.action {
        sql.sql(" AND action = ").value(action.into());
    }
    if let Some(entity_type) = &filter.entity_type {
        sql.sql(" AND entity_type = ").value(entity_type.into());
    }
    page(sql, limit, cursor);
}

// ----- job runs ----------------------------------------------------------------------

pub(crate) const INSERT_JOB_RUN: &str =
    "INSERT INTO job_runs (id, job, started_at, finished_at, outcome, detail, items)
     VALUES ($1, $2, $3, $4, $5, $6, 0)";
pub(crate) const FINISH_JOB_RUN: &str =
    "UPDATE job_runs SET finished_at = $2, outcome = $3, detail = $4, items = $5 WHERE id = $1";

/// The id and the values of [`INSERT_JOB_RUN`] for a run starting now; a run that is
/// not `running` is finished at once.
pub(crate) fn job_run_values<'a>(
    job: &'a str,
    outcome: JobOutcome,
    detail: &'a str,
) -> (Uuid, [Value<'a>; 6]) {
    let (id, at) = (Uuid::now_v7(), super::clock::now());
    let finished = (outcome != JobOutcome::Running).then_some(at);
    (id, values![id, job, at, finished, outcome.as_str(), detail])
}

/// Recent runs of `job` (or of all), newest first.
pub(crate) fn job_runs(sql: &mut impl SqlText, job: Option<&str>, limit: u32) {
    sql.sql("SELECT ").sql(JOB_COLS).sql(" FROM job_runs");
    if let Some(job) = job {
        sql.sql(" WHERE job = ").value(job.into());
    }
    sql.sql(" ORDER BY started_at DESC, id DESC")
        .limit(i64::from(clamp_limit(limit)));
}

#[cfg(test)]
mod tests {
    use super::{QuoteFilter, quote_page};
    use crate::store::values::SqlText;
    use sqlx::{QueryBuilder, Sqlite};

    /// A bound LIMIT would make SQLite plan the cached statement again at every run
    /// (see [`SqlText::limit`]): the page size is in the text, the organization bound.
    #[test]
    fn a_page_writes_its_limit_into_the_text_and_binds_only_the_organization() {
        let mut page = QueryBuilder::<Sqlite>::start();
        quote_page(
            &mut page,
            uuid::Uuid::nil(),
            QuoteFilter::default(),
            20,
            None,
        );
        let sql = page.sql();
        let text = sql.as_str();
        assert!(
            text.ends_with("ORDER BY created_at DESC, id DESC LIMIT 21"),
            "{text}"
        );
        assert_eq!(text.matches('?').count(), 1, "{text}");
    }
}
