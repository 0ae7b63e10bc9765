-- quote-host schema, SQLite flavour (the PostgreSQL flavour has the same
-- tables, columns and index names).
--
-- Encodings (see host/src/store/sqlite/codec.rs):
--   ids         BLOB, 16 bytes of a UUID (v7, generated in Rust; byte order = time order)
--   timestamps  TEXT, fixed width UTC 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (sorts as time)
--   dates       TEXT 'YYYY-MM-DD'
--   money/rates TEXT, the canonical rust_decimal string (never REAL)
--   JSON        TEXT
-- Tables are STRICT so a wrongly typed bind fails loudly.

-- Tenants.
CREATE TABLE organizations (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX organizations_name_key ON organizations (name);

-- API keys: the store only ever sees the SHA-256 hex of the secret.
CREATE TABLE api_keys (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
) STRICT;
-- Authentication of every request: api_key_by_hash.
CREATE UNIQUE INDEX api_keys_auth_hash_idx ON api_keys (key_hash);
-- Key management listing: list_api_keys.
CREATE INDEX api_keys_org_list_idx ON api_keys (organization_id, created_at);

-- Pricing plugins. last_version only grows, so a deleted version number is
-- never handed out again. The composite foreign key on active_version makes
-- deleting the active version impossible at the database level too.
CREATE TABLE plugins (
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    active_version  INTEGER,
    last_version    INTEGER NOT NULL DEFAULT 0,
    activated_at    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, name),
    FOREIGN KEY (organization_id, name, active_version)
        REFERENCES plugin_versions (organization_id, plugin_name, version)
) STRICT;

CREATE TABLE plugin_versions (
    organization_id BLOB NOT NULL,
    plugin_name     TEXT NOT NULL,
    version         INTEGER NOT NULL CHECK (version > 0),
    sha256          TEXT NOT NULL,
    wasm            BLOB NOT NULL,
    size_bytes      INTEGER NOT NULL,
    describe_json   TEXT NOT NULL,
    uploaded_at     TEXT NOT NULL,
    uploaded_by     BLOB REFERENCES api_keys (id) ON DELETE SET NULL,
    PRIMARY KEY (organization_id, plugin_name, version),
    FOREIGN KEY (organization_id, plugin_name)
        REFERENCES plugins (organization_id, name) ON DELETE CASCADE
) STRICT;
-- Idempotent re-upload of the same bytes: add_plugin_version.
CREATE UNIQUE INDEX plugin_versions_upload_dedup_idx
    ON plugin_versions (organization_id, plugin_name, sha256);

-- Gapless quote numbers per organization and year.
CREATE TABLE quote_counters (
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    year            INTEGER NOT NULL,
    last            INTEGER NOT NULL,
    PRIMARY KEY (organization_id, year)
) STRICT;

CREATE TABLE quotes (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    number          TEXT NOT NULL,
    title           TEXT,
    status          TEXT NOT NULL
        CHECK (status IN ('draft', 'sent', 'accepted', 'rejected', 'expired', 'cancelled')),
    currency        TEXT NOT NULL,
    subtotal        TEXT NOT NULL,
    tax             TEXT NOT NULL,
    total           TEXT NOT NULL,
    request         TEXT NOT NULL,
    result          TEXT NOT NULL,
    plugin_name     TEXT NOT NULL,
    plugin_version  INTEGER NOT NULL,
    plugin_sha256   TEXT NOT NULL,
    rates           TEXT NOT NULL,
    fuel_used       INTEGER NOT NULL,
    revision        INTEGER NOT NULL DEFAULT 1,
    priced_at       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX quotes_org_number_key ON quotes (organization_id, number);
-- Unfiltered list (keyset on created_at, id), export, period counts.
CREATE INDEX quotes_org_recent_idx ON quotes (organization_id, created_at DESC, id DESC);
-- List filtered by status, counts by status, accepted totals per period.
CREATE INDEX quotes_org_status_recent_idx
    ON quotes (organization_id, status, created_at DESC, id DESC);

-- Previous results of recalculated quotes.
CREATE TABLE quote_revisions (
    quote_id        BLOB NOT NULL REFERENCES quotes (id) ON DELETE CASCADE,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    revision        INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    subtotal        TEXT NOT NULL,
    tax             TEXT NOT NULL,
    total           TEXT NOT NULL,
    request         TEXT NOT NULL,
    result          TEXT NOT NULL,
    plugin_name     TEXT NOT NULL,
    plugin_version  INTEGER NOT NULL,
    plugin_sha256   TEXT NOT NULL,
    rates           TEXT NOT NULL,
    fuel_used       INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    archived_at     TEXT NOT NULL,
    PRIMARY KEY (quote_id, revision)
) STRICT;

-- Central bank rates. The unique index makes storing the same day twice a no-op.
CREATE TABLE exchange_rates (
    id              BLOB PRIMARY KEY NOT NULL,
    from_currency   TEXT NOT NULL,
    to_currency     TEXT NOT NULL,
    rate            TEXT NOT NULL,
    nominal         INTEGER NOT NULL,
    rate_date       TEXT NOT NULL,
    source          TEXT NOT NULL,
    fetched_at      TEXT NOT NULL
) STRICT;
-- store_rates: INSERT ... ON CONFLICT DO NOTHING.
CREATE UNIQUE INDEX exchange_rates_daily_dedup_idx
    ON exchange_rates (source, from_currency, to_currency, rate_date);
-- rate() and latest_rates(): latest rate_date on or before a date per pair.
CREATE INDEX exchange_rates_pair_date_idx
    ON exchange_rates (from_currency, to_currency, rate_date DESC, fetched_at DESC);
-- newest_rate_fetch(): "fetch on start if stale".
CREATE INDEX exchange_rates_fetched_idx ON exchange_rates (fetched_at DESC);

-- Audit trail. No foreign keys on purpose: a batch must never be rejected
-- because a key or organization disappeared; organization_id NULL = system.
CREATE TABLE activity_logs (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB,
    api_key_id      BLOB,
    action          TEXT NOT NULL,
    entity_type     TEXT NOT NULL,
    entity_id       TEXT,
    metadata        TEXT NOT NULL,
    created_at      TEXT NOT NULL
) STRICT;
-- list_activity (keyset on created_at, id), count_activity.
CREATE INDEX activity_logs_org_recent_idx
    ON activity_logs (organization_id, created_at DESC, id DESC);
-- list_activity filtered by action.
CREATE INDEX activity_logs_org_action_recent_idx
    ON activity_logs (organization_id, action, created_at DESC, id DESC);

-- Scheduled job history.
CREATE TABLE job_runs (
    id          BLOB PRIMARY KEY NOT NULL,
    job         TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT NOT NULL CHECK (outcome IN ('running', 'success', 'failed', 'skipped')),
    detail      TEXT NOT NULL DEFAULT '',
    items       INTEGER NOT NULL DEFAULT 0
) STRICT;
-- last_job_run, list_job_runs.
CREATE INDEX job_runs_job_recent_idx ON job_runs (job, started_at DESC, id DESC);
