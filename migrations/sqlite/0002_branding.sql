-- Branding of an organization's quote documents (PDF, XLSX): an optional PNG logo and
-- an optional footer text. One row per organization, absent until an admin sets it.
CREATE TABLE organization_branding (
    organization_id BLOB PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    footer_text     TEXT,
    logo_png        BLOB,
    updated_at      TEXT NOT NULL
) STRICT;
