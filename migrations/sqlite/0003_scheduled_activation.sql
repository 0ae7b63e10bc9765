-- Scheduled activation: at most one pending activation per plugin. The active version
-- is resolved by time in every read (the pending row wins once effective_at has
-- passed), so every host switches at the same instant with no job; the next write to
-- the plugin folds a passed row into plugins.active_version. The foreign key to the
-- version keeps a scheduled version from being deleted.
CREATE TABLE plugin_activations (
    organization_id BLOB NOT NULL,
    plugin_name     TEXT NOT NULL,
    version         INTEGER NOT NULL,
    effective_at    TEXT NOT NULL,
    scheduled_at    TEXT NOT NULL,
    PRIMARY KEY (organization_id, plugin_name),
    FOREIGN KEY (organization_id, plugin_name)
        REFERENCES plugins (organization_id, name) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, plugin_name, version)
        REFERENCES plugin_versions (organization_id, plugin_name, version)
) STRICT;
-- The next switch of an organization (next_plugin_switch).
CREATE INDEX plugin_activations_org_due_idx ON plugin_activations (organization_id, effective_at);
