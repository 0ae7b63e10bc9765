//! SQLite: organizations and API keys.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::super::clock::{now, truncate_micros};
use super::super::error::{Result, StoreError};
use super::super::traits::TenantStore;
use super::super::types::{ApiKey, KeyRevocation, NewApiKey, Organization};
use super::super::values::{Columns, values};
use super::super::{rows, sql};
use super::SqliteStore;
use super::query;

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_organization(&self, name: &str) -> Result<Organization> {
        let org = Organization::new(name);
        query(
            sql::INSERT_ORGANIZATION,
            &values![org.id, &org.name, org.created_at],
        )
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::unique_as_conflict(e, "organization name already exists"))?;
        Ok(org)
    }

    async fn organization_by_name(&self, name: &str) -> Result<Option<Organization>> {
        let row = query(sql::ORGANIZATION_BY_NAME, &values![name])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::organization).transpose()
    }

    async fn organization_by_id(&self, id: Uuid) -> Result<Option<Organization>> {
        let row = query(sql::ORGANIZATION_BY_ID, &values![id])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::organization).transpose()
    }

    async fn count_organizations(&self) -> Result<i64> {
        let row = query(sql::COUNT_ORGANIZATIONS, &[])
            .fetch_one(&self.pool)
            .await?;
        row.big("n")
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKey> {
        let stored = ApiKey::new(&key);
        // The write lock is held from BEGIN IMMEDIATE: no other creation counts meanwhile.
        let mut tx = self.write_tx().await?;
        if let Some(limit) = key.max_unrevoked {
            let held = query(
                sql::COUNT_UNREVOKED_API_KEYS,
                &values![stored.organization_id],
            )
            .fetch_one(&mut *tx)
            .await?
            .big("n")?;
            if held >= i64::from(limit) {
                return Err(StoreError::KeyLimitReached(limit));
            }
        }
        query(
            sql::INSERT_API_KEY,
            &sql::api_key_values(&stored, &key.key_hash),
        )
        .execute(&mut *tx)
        .await
        .map_err(StoreError::api_key_insert)?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKey, Organization)>> {
        let row = query(sql::API_KEY_BY_HASH, &values![key_hash])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(rows::api_key_with_organization)
            .transpose()
    }

    async fn list_api_keys(&self, org: Uuid) -> Result<Vec<ApiKey>> {
        let found = query(sql::LIST_API_KEYS, &values![org])
            .fetch_all(&self.pool)
            .await?;
        rows::all(&found, rows::api_key)
    }

    async fn revoke_api_key(&self, org: Uuid, id: Uuid) -> Result<KeyRevocation> {
        let mut tx = self.write_tx().await?;
        let active = query(sql::REVOKE_CANDIDATES, &values![org, id])
            .fetch_all(&mut *tx)
            .await?;
        let active = rows::all(&active, rows::api_key)?;
        if let Some(refusal) = KeyRevocation::refusal(&active, id)? {
            return Ok(refusal);
        }
        let row = query(sql::REVOKE_API_KEY, &values![org, id, now()])
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(KeyRevocation::Revoked(rows::api_key(&row)?))
    }

    async fn touch_api_key_last_used(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        min_gap: std::time::Duration,
    ) -> Result<()> {
        let at = truncate_micros(at);
        let written_before = Duration::from_std(min_gap)
            .ok()
            .and_then(|gap| at.checked_sub_signed(gap))
            .unwrap_or(at);
        query(sql::TOUCH_API_KEY, &values![id, at, written_before])
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
