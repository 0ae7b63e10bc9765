//! SQLite: organizations and API keys.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::super::error::{Result, StoreError};
use super::super::now;
use super::super::types::{ApiKey, NewApiKey, Organization};
use super::SqliteStore;
use super::codec::{self, ts};

impl SqliteStore {
    pub(super) async fn create_organization_impl(&self, name: &str) -> Result<Organization> {
        let org = Organization {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            created_at: now(),
        };
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES (?1, ?2, ?3)")
            .bind(org.id)
            .bind(&org.name)
            .bind(ts(org.created_at))
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::unique_as_conflict(e, "organization name already exists"))?;
        Ok(org)
    }

    pub(super) async fn organization_by_name_impl(
        &self,
        name: &str,
    ) -> Result<Option<Organization>> {
        sqlx::query("SELECT id, name, created_at FROM organizations WHERE name = ?1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(codec::organization)
            .transpose()
    }

    pub(super) async fn organization_by_id_impl(&self, id: Uuid) -> Result<Option<Organization>> {
        sqlx::query("SELECT id, name, created_at FROM organizations WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(codec::organization)
            .transpose()
    }

    pub(super) async fn count_organizations_impl(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM organizations")
            .fetch_one(&self.pool)
            .await?)
    }

    pub(super) async fn create_api_key_impl(&self, key: NewApiKey) -> Result<ApiKey> {
        let stored = ApiKey {
            id: Uuid::now_v7(),
            organization_id: key.organization_id,
            name: key.name,
            role: key.role,
            prefix: key.prefix,
            created_at: now(),
            last_used_at: None,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, organization_id, name, role, prefix, key_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(stored.id)
        .bind(stored.organization_id)
        .bind(&stored.name)
        .bind(stored.role.as_str())
        .bind(&stored.prefix)
        .bind(&key.key_hash)
        .bind(ts(stored.created_at))
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if StoreError::is_foreign_key_violation(&e) {
                StoreError::NotFound
            } else {
                StoreError::unique_as_conflict(e, "api key hash already exists")
            }
        })?;
        Ok(stored)
    }

    pub(super) async fn api_key_by_hash_impl(
        &self,
        key_hash: &str,
    ) -> Result<Option<(ApiKey, Organization)>> {
        let row = sqlx::query(
            "SELECT k.id, k.organization_id, k.name, k.role, k.prefix, k.created_at,
                    k.last_used_at, k.revoked_at,
                    o.name AS org_name, o.created_at AS org_created_at
             FROM api_keys k JOIN organizations o ON o.id = k.organization_id
             WHERE k.key_hash = ?1 AND k.revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let key = codec::api_key(&row)?;
        let org = Organization {
            id: key.organization_id,
            name: codec::col(&row, "org_name")?,
            created_at: codec::col_ts(&row, "org_created_at")?,
        };
        Ok(Some((key, org)))
    }

    pub(super) async fn list_api_keys_impl(&self, org: Uuid) -> Result<Vec<ApiKey>> {
        sqlx::query(
            "SELECT id, organization_id, name, role, prefix, created_at, last_used_at, revoked_at
             FROM api_keys WHERE organization_id = ?1 ORDER BY created_at, id",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(codec::api_key)
        .collect()
    }

    pub(super) async fn revoke_api_key_impl(&self, org: Uuid, id: Uuid) -> Result<ApiKey> {
        let row = sqlx::query(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?3)
             WHERE organization_id = ?1 AND id = ?2
             RETURNING id, organization_id, name, role, prefix, created_at, last_used_at, revoked_at",
        )
        .bind(org)
        .bind(id)
        .bind(ts(now()))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        codec::api_key(&row)
    }

    pub(super) async fn touch_api_key_last_used_impl(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let at = super::super::truncate_micros(at);
        sqlx::query(
            "UPDATE api_keys SET last_used_at = ?2
             WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?3)",
        )
        .bind(id)
        .bind(ts(at))
        .bind(ts(at - Duration::seconds(60)))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
