-- quote-host schema, PostgreSQL flavour (the SQLite flavour has the same
-- tables, columns and index names).
--
-- ids UUID (v7, generated in Rust), timestamps TIMESTAMPTZ, money and rates
-- NUMERIC (unconstrained: the scale written is the scale read back), wasm as
-- BYTEA. JSON documents are `json`, not `jsonb`: stored verbatim so object key
-- order round-trips exactly as on SQLite; nothing queries inside them.

-- Tenants.
CREATE TABLE organizations (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX organizations_name_key ON organizations (name);

-- API keys: the store only ever sees the SHA-256 hex of the secret.
CREATE TABLE api_keys (
    id              UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    last_used_at    TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ
);
-- Authentication of every request: api_key_by_hash.
CREATE UNIQUE INDEX api_keys_auth_hash_idx ON api_keys (key_hash);
-- Key management listing: list_api_keys.
CREATE INDEX api_keys_org_list_idx ON api_keys (organization_id, created_at);

-- Pricing plugins. last_version only grows, so a deleted version number is
-- never handed out again. The composite foreign key on active_version (added
-- below) makes deleting the active version impossible at the database level.
CREATE TABLE plugins (
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    active_version  INTEGER,
    last_version    INTEGER NOT NULL DEFAULT 0,
    activated_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, name)
);

CREATE TABLE plugin_versions (
    organization_id UUID NOT NULL,
    plugin_name     TEXT NOT NULL,
    version         INTEGER NOT NULL CHECK (version > 0),
    sha256          TEXT NOT NULL,
    wasm            BYTEA NOT NULL,
    size_bytes      BIGINT NOT NULL,
    describe_json   JSON NOT NULL,
    uploaded_at     TIMESTAMPTZ NOT NULL,
    uploaded_by     UUID REFERENCES api_keys (id) ON DELETE SET NULL,
    PRIMARY KEY (organization_id, plugin_name, version),
    FOREIGN KEY (organization_id, plugin_name)
        REFERENCES plugins (organization_id, name) ON DELETE CASCADE
);
-- Idempotent re-upload of the same bytes: add_plugin_version.
CREATE UNIQUE INDEX plugin_versions_upload_dedup_idx
    ON plugin_versions (organization_id, plugin_name, sha256);

ALTER TABLE plugins
    ADD CONSTRAINT plugins_active_version_fkey
    FOREIGN KEY (organization_id, name, active_version)
    REFERENCES plugin_versions (organization_id, plugin_name, version);

-- Gapless quote numbers per organization and year.
CREATE TABLE quote_counters (
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    year            INTEGER NOT NULL,
    last            BIGINT NOT NULL,
    PRIMARY KEY (organization_id, year)
);

CREATE TABLE quotes (
    id              UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    number          TEXT NOT NULL,
    title           TEXT,
    status          TEXT NOT NULL
        CHECK (status IN ('draft', 'sent', 'accepted', 'rejected', 'expired', 'cancelled')),
    currency        TEXT NOT NULL,
    subtotal        NUMERIC NOT NULL,
    tax             NUMERIC NOT NULL,
    total           NUMERIC NOT NULL,
    request         JSON NOT NULL,
    result          JSON NOT NULL,
    plugin_name     TEXT NOT NULL,
    plugin_version  INTEGER NOT NULL,
    plugin_sha256   TEXT NOT NULL,
    rates           JSON NOT NULL,
    fuel_used       BIGINT NOT NULL,
    revision        INTEGER NOT NULL DEFAULT 1,
    priced_at       TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX quotes_org_number_key ON quotes (organization_id, number);
-- Unfiltered list (keyset on created_at, id), export, period counts.
CREATE INDEX quotes_org_recent_idx ON quotes (organization_id, created_at DESC, id DESC);
-- List filtered by status, counts by status, accepted totals per period.
CREATE INDEX quotes_org_status_recent_idx
    ON quotes (organization_id, status, created_at DESC, id DESC);

-- Previous results of recalculated quotes.
CREATE TABLE quote_revisions (
    quote_id        UUID NOT NULL REFERENCES quotes (id) ON DELETE CASCADE,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    revision        INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    subtotal        NUMERIC NOT NULL,
    tax             NUMERIC NOT NULL,
    total           NUMERIC NOT NULL,
    request         JSON NOT NULL,
    result          JSON NOT NULL,
    plugin_name     TEXT NOT NULL,
    plugin_version  INTEGER NOT NULL,
    plugin_sha256   TEXT NOT NULL,
    rates           JSON NOT NULL,
    fuel_used       BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    archived_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (quote_id, revision)
);

-- Central bank rates. The unique index makes storing the same day twice a no-op.
CREATE TABLE exchange_rates (
    id              UUID PRIMARY KEY,
    from_currency   TEXT NOT NULL,
    to_currency     TEXT NOT NULL,
    rate            NUMERIC NOT NULL,
    nominal         INTEGER NOT NULL,
    rate_date       DATE NOT NULL,
    source          TEXT NOT NULL,
    fetched_at      TIMESTAMPTZ NOT NULL
);
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
    id              UUID PRIMARY KEY,
    organization_id UUID,
    api_key_id      UUID,
    action          TEXT NOT NULL,
    entity_type     TEXT NOT NULL,
    entity_id       TEXT,
    metadata        JSON NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
-- list_activity (keyset on created_at, id), count_activity.
CREATE INDEX activity_logs_org_recent_idx
    ON activity_logs (organization_id, created_at DESC, id DESC);
-- list_activity filtered by action.
CREATE INDEX activity_logs_org_action_recent_idx
    ON activity_logs (organization_id, action, created_at DESC, id DESC);

-- Scheduled job history.
CREATE TABLE job_runs (
    id          UUID PRIMARY KEY,
    job         TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome     TEXT NOT NULL CHECK (outcome IN ('running', 'success', 'failed', 'skipped')),
    detail      TEXT NOT NULL DEFAULT '',
    items       BIGINT NOT NULL DEFAULT 0
);
-- last_job_run, list_job_runs.
CREATE INDEX job_runs_job_recent_idx ON job_runs (job, started_at DESC, id DESC);

-- ---------------------------------------------------------------------------
-- Row-level security: the second wall behind `WHERE organization_id = $1`.
--
-- Every tenant-scoped transaction of the application runs
--   SELECT set_config('role', 'quote_tenant', true),
--          set_config('app.organization_id', '<uuid>', true)
-- first (= SET LOCAL ROLE + a transaction-local setting). quote_tenant owns
-- nothing, so RLS applies to it even when the login role is a superuser or the
-- owner of the tables (both of which bypass RLS themselves).
-- ---------------------------------------------------------------------------

-- Roles are cluster-wide and several databases of one cluster may run this
-- migration at the same time: check first, and swallow the race.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'quote_tenant') THEN
        BEGIN
            CREATE ROLE quote_tenant NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- A non-superuser login role must be allowed to SET ROLE quote_tenant.
    -- PostgreSQL 16+ separates membership from the SET option (a CREATEROLE
    -- creator is a member without SET by default). Where this migration may
    -- not grant it, a DBA runs `GRANT quote_tenant TO <app role>` beforehand.
    BEGIN
        IF current_setting('server_version_num')::int >= 160000 THEN
            IF NOT pg_has_role(current_user, 'quote_tenant', 'SET') THEN
                EXECUTE format('GRANT quote_tenant TO %I WITH SET TRUE', current_user);
            END IF;
        ELSIF NOT pg_has_role(current_user, 'quote_tenant', 'MEMBER') THEN
            EXECUTE format('GRANT quote_tenant TO %I', current_user);
        END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
    END;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO quote_tenant', current_schema());
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE
    ON api_keys, plugins, plugin_versions, quotes, quote_revisions, quote_counters, activity_logs
    TO quote_tenant;
GRANT SELECT ON organizations, exchange_rates TO quote_tenant;

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE plugins ENABLE ROW LEVEL SECURITY;
ALTER TABLE plugin_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE quotes ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote_revisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE activity_logs ENABLE ROW LEVEL SECURITY;

-- NULLIF: outside a tenant transaction the setting reads as '' (or NULL),
-- which then matches no row instead of failing the uuid cast.
CREATE POLICY tenant_isolation ON api_keys TO quote_tenant
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON plugins TO quote_tenant
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON plugin_versions TO quote_tenant
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON quotes TO quote_tenant
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON quote_revisions TO quote_tenant
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON quote_counters TO quote_tenant
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON activity_logs TO quote_tenant
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
