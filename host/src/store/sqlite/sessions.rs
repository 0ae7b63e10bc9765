//! SQLite: console sessions, bounded per organization in one write transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::error::Result;
use super::super::rows;
use super::super::sessions::{self as sql, ConsoleSessionStore, NewConsoleSession};
use super::super::types::{ApiKey, Organization};
use super::super::values::{Columns, SqlText, values};
use super::SqliteStore;
use super::query;
use sqlx::{QueryBuilder, Sqlite};

#[async_trait]
impl ConsoleSessionStore for SqliteStore {
    async fn create_console_session(
        &self,
        session: NewConsoleSession,
        max_per_org: u32,
    ) -> Result<u64> {
        let org = session.organization_id;
        let mut tx = self.write_tx().await?;
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
        let mut trim = QueryBuilder::<Sqlite>::start();
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
