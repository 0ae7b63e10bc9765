//! Console sessions: the trait both backends implement, what a new session stores, and
//! the statements they share.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::Result;
use super::types::{ApiKey, Organization};
use super::values::SqlText;

/// A session about to be stored: only the hash of its token.
#[derive(Debug, Clone)]
pub struct NewConsoleSession {
    /// Lower-case hex SHA-256 of the session token.
    pub token_hash: String,
    pub organization_id: Uuid,
    /// The API key the session was opened with; its role is the session's.
    pub api_key_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Signed-in browsers of the console.
#[async_trait]
pub trait ConsoleSessionStore: Send + Sync {
    /// Stores `session`, then, in the same transaction, deletes the organization's
    /// expired sessions and its oldest ones beyond `max_per_org`. Returns how many
    /// sessions were ended to stay within the bound. Sign-ins of one organization are
    /// serialized (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an advisory transaction
    /// lock), so the bound holds exactly however many sign in at once.
    async fn create_console_session(
        &self,
        session: NewConsoleSession,
        max_per_org: u32,
    ) -> Result<u64>;

    /// The key and organization of the unexpired session with this token hash, if its
    /// key is not revoked. Not tenant-scoped (it discovers the tenant).
    async fn console_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(ApiKey, Organization)>>;

    /// Ends a session (sign-out); ending an unknown one is not an error.
    async fn delete_console_session(&self, token_hash: &str) -> Result<()>;

    /// Sessions of `org` stored now, expired ones included (tests, health).
    async fn count_console_sessions(&self, org: Uuid) -> Result<i64>;
}

/// Serializes session sign-ins of one organization on PostgreSQL, held until commit, so
/// each one's trim sees every session stored before it (the key creations' two-key
/// advisory lock space, its own first key: `b"sess"`).
pub(crate) const LOCK_CONSOLE_SESSION_CREATION: &str =
    "SELECT pg_advisory_xact_lock(1936028531, hashtext($1::text))";
pub(crate) const INSERT_CONSOLE_SESSION: &str = "INSERT INTO console_sessions
     (token_hash, organization_id, api_key_id, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5)";
pub(crate) const PRUNE_EXPIRED_CONSOLE_SESSIONS: &str =
    "DELETE FROM console_sessions WHERE organization_id = $1 AND expires_at <= $2";
/// Deletes all but the `keep` newest sessions of `organization` (the limit in the text,
/// see [`SqlText::limit`]).
pub(crate) fn trim_console_sessions(sql: &mut impl SqlText, organization: Uuid, keep: u32) {
    sql.sql("DELETE FROM console_sessions WHERE organization_id = ")
        .value(organization.into())
        .sql(" AND token_hash NOT IN (SELECT token_hash FROM console_sessions WHERE organization_id = ")
        .value(organization.into())
        .sql(" ORDER BY created_at DESC, token_hash DESC")
        .limit(i64::from(keep))
        .sql(")");
}
pub(crate) const CONSOLE_SESSION_BY_HASH: &str =
    "SELECT k.id, k.organization_id, k.name, k.role, k.prefix, k.created_at, k.last_used_at,
            k.revoked_at, o.name AS org_name, o.created_at AS org_created_at
     FROM console_sessions s
     JOIN api_keys k ON k.id = s.api_key_id
     JOIN organizations o ON o.id = k.organization_id
     WHERE s.token_hash = $1 AND s.expires_at > $2 AND k.revoked_at IS NULL";
pub(crate) const DELETE_CONSOLE_SESSION: &str =
    "DELETE FROM console_sessions WHERE token_hash = $1";
pub(crate) const COUNT_CONSOLE_SESSIONS: &str =
    "SELECT COUNT(*) AS n FROM console_sessions WHERE organization_id = $1";
