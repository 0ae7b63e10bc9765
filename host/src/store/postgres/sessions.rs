//! PostgreSQL: console sessions, opened and bounded in the organization's tenant
//! transaction under a per-organization advisory lock; the lookup by hash is not
//! tenant-scoped (it discovers the tenant).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::error::Result;
use super::super::rows;
use super::super::sessions::{self as sql, ConsoleSessionStore, NewConsoleSession};
use super::super::types::{ApiKey, Organization};
use super::super::values::{Columns, SqlText, values};
use super::PostgresStore;
use super::query;
use sqlx::{Postgres, QueryBuilder};

#[async_trait]
impl ConsoleSessionStore for PostgresStore {
    async fn create_console_session(
        &self,
        session: NewConsoleSession,
        max_per_org: u32,
    ) -> Result<u64> {
        let org = session.organization_id;
        let mut tx = self.tenant_tx(session.organization_id).await?;
        // Without it, two sign-ins at once each trim without seeing the other's
        // uncommitted session, and the organization ends up past the bound.
        query(sql::LOCK_CONSOLE_SESSION_CREATION, &values![org])
            .execute(&mut *tx)
            .await?;
        query(
            sql::INSERT_CONSOLE_SESSION,
            &values![
                session.token_hash.as_str(),
                org,
                session.api_key_id,
                session.created_at,
                session.expires_at
            ],
        )
        .execute(&mut *tx)
        .await?;
        query(
            sql::PRUNE_EXPIRED_CONSOLE_SESSIONS,
            &values![org, session.created_at],
        )
        .execute(&mut *tx)
        .await?;
        let mut trim = QueryBuilder::<Postgres>::start();
        sql::trim_console_sessions(&mut trim, org, max_per_org.max(1));
        let trimmed = trim.build().execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(trimmed)
    }

    async fn console_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(ApiKey, Organization)>> {
        let row = query(sql::CONSOLE_SESSION_BY_HASH, &values![token_hash, now])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(rows::api_key_with_organization)
            .transpose()
    }

    async fn delete_console_session(&self, token_hash: &str) -> Result<()> {
        query(sql::DELETE_CONSOLE_SESSION, &values![token_hash])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn count_console_sessions(&self, org: Uuid) -> Result<i64> {
        let row = query(sql::COUNT_CONSOLE_SESSIONS, &values![org])
            .fetch_one(&self.pool)
            .await?;
        row.big("n")
    }
}
