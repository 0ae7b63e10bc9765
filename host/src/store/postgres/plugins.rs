//! PostgreSQL: plugins and their versions (all in tenant transactions; row locks on the
//! plugin serialize what SQLite's single writer serializes).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Postgres;
use uuid::Uuid;

use super::super::clock::now;
use super::super::error::{Result, StoreError};
use super::super::traits::PluginStore;
use super::super::types::{
    NewPluginVersion, PendingActivation, Plugin, PluginBinary, PluginDetail, PluginVersion,
};
use super::super::values::{Columns, values};
use super::super::{rows, sql};
use super::PostgresStore;
use super::notify;
use super::query;
use crate::changes::Change;

/// Locks the plugin row: concurrent uploads and deletes of one plugin queue here.
const LOCK_PLUGIN: &str = "SELECT active_version FROM plugins
     WHERE organization_id = $1 AND name = $2 FOR UPDATE";

#[async_trait]
impl PluginStore for PostgresStore {
    async fn add_plugin_version(&self, up: NewPluginVersion) -> Result<(PluginVersion, bool)> {
        let at = now();
        let plugin = values![up.organization_id, &up.name, at];
        let mut tx = self.tenant_tx(up.organization_id).await?;
        query(sql::INSERT_PLUGIN, &plugin)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::missing_parent)?;
        query(LOCK_PLUGIN, &plugin[..2]).execute(&mut *tx).await?;
        let existing = query(
            sql::VERSION_BY_SHA256,
            &values![up.organization_id, &up.name, &up.sha256],
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            tx.commit().await?;
            return Ok((rows::plugin_version(&row)?, false));
        }
        let number = query(sql::NEXT_VERSION, &plugin)
            .fetch_one(&mut *tx)
            .await?
            .int("last_version")?;
        let version = PluginVersion::uploaded(&up, number, at);
        query(
            sql::INSERT_VERSION,
            &sql::version_values(&version, &up.wasm),
        )
        .execute(&mut *tx)
        .await?;
        notify::announce(
            &mut tx,
            &Change::Plugins {
                organization: up.organization_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok((version, true))
    }

    async fn list_plugins(&self, org: Uuid) -> Result<Vec<Plugin>> {
        let mut tx = self.tenant_tx(org).await?;
        let found = query(sql::LIST_PLUGINS, &values![org, now()])
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows::all(&found, rows::plugin)
    }

    async fn plugin(&self, org: Uuid, name: &str) -> Result<Option<PluginDetail>> {
        let mut tx = self.tenant_tx(org).await?;
        let key = values![org, name];
        let at = values![org, name, now()];
        let Some(row) = query(sql::PLUGIN_BY_NAME, &at)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let versions = query(sql::VERSIONS_OF_PLUGIN, &key)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(PluginDetail {
            plugin: rows::plugin(&row)?,
            versions: rows::all(&versions, rows::plugin_version)?,
        }))
    }

    async fn plugin_version_bytes(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
    ) -> Result<Option<PluginBinary>> {
        let mut tx = self.tenant_tx(org).await?;
        let row = query(sql::VERSION_WITH_BYTES, &values![org, name, version])
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.as_ref().map(rows::plugin_binary).transpose()
    }

    async fn active_plugin_version(
        &self,
        org: Uuid,
        name: Option<&str>,
    ) -> Result<Option<PluginVersion>> {
        let found = match name {
            Some(name) => query(sql::ACTIVE_VERSION_OF, &values![org, name, now()]),
            None => query(sql::NEWEST_ACTIVE_VERSION, &values![org, now()]),
        };
        let mut tx = self.tenant_tx(org).await?;
        let row = found.fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        row.as_ref().map(rows::plugin_version).transpose()
    }

    async fn activate_plugin_version(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
    ) -> Result<PluginVersion> {
        let mut tx = self.tenant_tx(org).await?;
        query(LOCK_PLUGIN, &values![org, name])
            .execute(&mut *tx)
            .await?;
        fold_due_activation(&mut tx, org, name).await?;
        let row = query(sql::VERSION, &values![org, name, version])
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        query(sql::ACTIVATE_VERSION, &values![org, name, version, now()])
            .execute(&mut *tx)
            .await
            // The version was deleted concurrently (the foreign key checks it again).
            .map_err(StoreError::missing_parent)?;
        notify::announce(&mut tx, &Change::Plugins { organization: org }).await?;
        tx.commit().await?;
        rows::plugin_version(&row)
    }

    async fn schedule_plugin_activation(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
        effective_at: DateTime<Utc>,
    ) -> Result<PluginVersion> {
        let mut tx = self.tenant_tx(org).await?;
        query(LOCK_PLUGIN, &values![org, name])
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        fold_due_activation(&mut tx, org, name).await?;
        let row = query(sql::VERSION, &values![org, name, version])
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let schedule = values![org, name, version, effective_at, now()];
        query(sql::SCHEDULE_ACTIVATION, &schedule)
            .execute(&mut *tx)
            .await
            // The version was deleted concurrently (the foreign key checks it again).
            .map_err(StoreError::missing_parent)?;
        notify::announce(&mut tx, &Change::Plugins { organization: org }).await?;
        tx.commit().await?;
        rows::plugin_version(&row)
    }

    async fn cancel_plugin_activation(&self, org: Uuid, name: &str) -> Result<PendingActivation> {
        let mut tx = self.tenant_tx(org).await?;
        query(LOCK_PLUGIN, &values![org, name])
            .execute(&mut *tx)
            .await?;
        fold_due_activation(&mut tx, org, name).await?;
        let row = query(sql::CANCEL_ACTIVATION, &values![org, name, now()])
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        notify::announce(&mut tx, &Change::Plugins { organization: org }).await?;
        tx.commit().await?;
        rows::pending_activation(&row)
    }

    async fn next_plugin_switch(&self, org: Uuid) -> Result<Option<DateTime<Utc>>> {
        let mut tx = self.tenant_tx(org).await?;
        let row = query(sql::NEXT_SWITCH, &values![org, now()])
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        row.opt_time("next_at")
    }

    async fn delete_plugin_version(&self, org: Uuid, name: &str, version: i32) -> Result<()> {
        let mut tx = self.tenant_tx(org).await?;
        let plugin = query(LOCK_PLUGIN, &values![org, name])
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let plugin = match fold_due_activation(&mut tx, org, name).await? {
            true => {
                query(LOCK_PLUGIN, &values![org, name])
                    .fetch_one(&mut *tx)
                    .await?
            }
            false => plugin,
        };
        if plugin.opt_int("active_version")? == Some(version) {
            return Err(StoreError::active_version(name, version));
        }
        let deleted = query(sql::DELETE_VERSION, &values![org, name, version])
            .execute(&mut *tx)
            .await
            .map_err(StoreError::version_delete)?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        notify::announce(&mut tx, &Change::Plugins { organization: org }).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Folds the plugin's due scheduled activation, if any, into `plugins.active_version`,
/// so the write that follows sees the version every read already resolves; true if
/// there was one.
async fn fold_due_activation(
    tx: &mut sqlx::Transaction<'static, Postgres>,
    org: Uuid,
    name: &str,
) -> Result<bool> {
    let due = values![org, name, now()];
    let folded = query(sql::FOLD_DUE_ACTIVATION, &due)
        .execute(&mut **tx)
        .await?;
    query(sql::DELETE_DUE_ACTIVATION, &due)
        .execute(&mut **tx)
        .await?;
    Ok(folded.rows_affected() > 0)
}
