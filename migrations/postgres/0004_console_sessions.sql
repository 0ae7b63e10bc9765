-- Console sessions: a signed-in browser. Only the SHA-256 of the session token is
-- stored, so a copy of the database signs no one in. A session belongs to the API key
-- it was opened with: revoking the key ends it (the lookup joins the key), deleting it
-- deletes the session.
CREATE TABLE console_sessions (
    token_hash      TEXT PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    api_key_id      UUID NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);
-- The per-organization bound and the pruning of expired sessions at sign-in.
CREATE INDEX console_sessions_org_idx ON console_sessions (organization_id, created_at);

-- Opened and bounded in tenant transactions, behind row-level security like every
-- tenant table (see 0001); the lookup by hash discovers the tenant, like the API key's.
GRANT SELECT, INSERT, UPDATE, DELETE ON console_sessions TO quote_tenant;
ALTER TABLE console_sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON console_sessions TO quote_tenant
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
