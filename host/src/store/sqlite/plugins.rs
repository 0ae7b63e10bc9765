//! SQLite: plugins and their versions.

use async_trait::async_trait;
use uuid::Uuid;

use super::super::clock::now;
use super::super::error::{Result, StoreError};
use super::super::traits::PluginStore;
use super::super::types::{NewPluginVersion, Plugin, PluginBinary, PluginDetail, PluginVersion};
use super::super::values::{Columns, values};
use super::super::{rows, sql};
use super::SqliteStore;
use super::query;

#[async_trait]
impl PluginStore for SqliteStore {
    async fn add_plugin_version(&self, up: NewPluginVersion) -> Result<(PluginVersion, bool)> {
        // The write lock, taken up front, serializes concurrent uploads.
        let mut tx = self.write_tx().await?;
        let existing = query(
            sql::VERSION_BY_SHA256,
            &values![up.organization_id, &up.name, &up.sha256],
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            let version = rows::plugin_version(&row)?;
            tx.commit().await?;
            return Ok((version, false));
        }
        let at = now();
        let plugin = values![up.organization_id, &up.name, at];
        query(sql::INSERT_PLUGIN, &plugin)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::missing_parent)?;
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
        tx.commit().await?;
        Ok((version, true))
    }

    async fn list_plugins(&self, org: Uuid) -> Result<Vec<Plugin>> {
        let found = query(sql::LIST_PLUGINS, &values![org])
            .fetch_all(&self.pool)
            .await?;
        rows::all(&found, rows::plugin)
    }

    async fn plugin(&self, org: Uuid, name: &str) -> Result<Option<PluginDetail>> {
        let mut tx = self.pool.begin().await?;
        let key = values![org, name];
        let Some(row) = query(sql::PLUGIN_BY_NAME, &key)
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
        let row = query(sql::VERSION_WITH_BYTES, &values![org, name, version])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::plugin_binary).transpose()
    }

    async fn active_plugin_version(
        &self,
        org: Uuid,
        name: Option<&str>,
    ) -> Result<Option<PluginVersion>> {
        let found = match name {
            Some(name) => query(sql::ACTIVE_VERSION_OF, &values![org, name]),
            None => query(sql::NEWEST_ACTIVE_VERSION, &values![org]),
        };
        let row = found.fetch_optional(&self.pool).await?;
        row.as_ref().map(rows::plugin_version).transpose()
    }

    async fn activate_plugin_version(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
    ) -> Result<PluginVersion> {
        let mut tx = self.write_tx().await?;
        let row = query(sql::VERSION, &values![org, name, version])
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        query(sql::ACTIVATE_VERSION, &values![org, name, version, now()])
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        rows::plugin_version(&row)
    }

    async fn delete_plugin_version(&self, org: Uuid, name: &str, version: i32) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let plugin = query(sql::PLUGIN_ACTIVE_VERSION, &values![org, name])
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
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
        tx.commit().await?;
        Ok(())
    }
}
