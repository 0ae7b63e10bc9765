-- Branding of an organization's quote documents (PDF, XLSX): an optional PNG logo and
-- an optional footer text. One row per organization, absent until an admin sets it.
CREATE TABLE organization_branding (
    organization_id UUID PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    footer_text     TEXT,
    logo_png        BYTEA,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- Read and written in tenant transactions, behind row-level security like every
-- tenant table (see 0001).
GRANT SELECT, INSERT, UPDATE, DELETE ON organization_branding TO quote_tenant;
ALTER TABLE organization_branding ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organization_branding TO quote_tenant
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
