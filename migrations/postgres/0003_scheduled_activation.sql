-- Scheduled activation: at most one pending activation per plugin. The active version
-- is resolved by time in every read (the pending row wins once effective_at has
-- passed), so every host switches at the same instant with no job; the next write to
-- the plugin folds a passed row into plugins.active_version. The foreign key to the
-- version keeps a scheduled version from being deleted.
CREATE TABLE plugin_activations (
    organization_id UUID NOT NULL,
    plugin_name     TEXT NOT NULL,
    version         INTEGER NOT NULL,
    effective_at    TIMESTAMPTZ NOT NULL,
    scheduled_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, plugin_name),
    FOREIGN KEY (organization_id, plugin_name)
        REFERENCES plugins (organization_id, name) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, plugin_name, version)
        REFERENCES plugin_versions (organization_id, plugin_name, version)
);
-- The next switch of an organization (next_plugin_switch).
CREATE INDEX plugin_activations_org_due_idx ON plugin_activations (organization_id, effective_at);

-- Read and written in tenant transactions, behind row-level security like every
-- tenant table (see 0001).
GRANT SELECT, INSERT, UPDATE, DELETE ON plugin_activations TO quote_tenant;
ALTER TABLE plugin_activations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON plugin_activations TO quote_tenant
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), '')::uuid);
