-- Console sessions: a signed-in browser. Only the SHA-256 of the session token is
-- stored, so a copy of the database signs no one in. A session belongs to the API key
-- it was opened with: revoking the key ends it (the lookup joins the key), deleting it
-- deletes the session.
CREATE TABLE console_sessions (
    token_hash      TEXT PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    api_key_id      BLOB NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
) STRICT;
-- The per-organization bound and the pruning of expired sessions at sign-in.
CREATE INDEX console_sessions_org_idx ON console_sessions (organization_id, created_at);
