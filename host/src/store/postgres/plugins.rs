//! PostgreSQL: plugins and their versions (all in tenant transactions).

use uuid::Uuid;

use super::super::error::{Result, StoreError};
use super::super::now;
use super::super::types::{NewPluginVersion, Plugin, PluginBinary, PluginDetail, PluginVersion};
use super::PostgresStore;
use super::rows;

/// Metadata columns of `plugin_versions` (aliased `v`).
macro_rules! version_cols {
    () => {
        "v.organization_id, v.plugin_name, v.version, v.sha256, v.size_bytes, v.describe_json,
         v.uploaded_at, v.uploaded_by"
    };
}

/// Columns of `plugins` (aliased `p`) plus the version count.
macro_rules! plugin_cols {
    () => {
        "p.organization_id, p.name, p.active_version, p.last_version, p.activated_at, p.created_at,
         p.updated_at,
         (SELECT count(*) FROM plugin_versions c
          WHERE c.organization_id = p.organization_id AND c.plugin_name = p.name) AS version_count"
    };
}

impl PostgresStore {
    pub(super) async fn add_plugin_version_impl(
        &self,
        up: NewPluginVersion,
    ) -> Result<(PluginVersion, bool)> {
        let org = up.organization_id;
        let at = now();
        let mut tx = self.tenant_tx(org).await?;
        sqlx::query(
            "INSERT INTO plugins (organization_id, name, last_version, created_at, updated_at)
             VALUES ($1, $2, 0, $3, $3) ON CONFLICT (organization_id, name) DO NOTHING",
        )
        .bind(org)
        .bind(&up.name)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if StoreError::is_foreign_key_violation(&e) {
                StoreError::NotFound
            } else {
                e.into()
            }
        })?;
        // Row lock on the plugin: concurrent uploads of this name queue here.
        sqlx::query("SELECT 1 FROM plugins WHERE organization_id = $1 AND name = $2 FOR UPDATE")
            .bind(org)
            .bind(&up.name)
            .execute(&mut *tx)
            .await?;
        let existing = sqlx::query(concat!(
            "SELECT ",
            version_cols!(),
            " FROM plugin_versions v
              WHERE v.organization_id = $1 AND v.plugin_name = $2 AND v.sha256 = $3"
        ))
        .bind(org)
        .bind(&up.name)
        .bind(&up.sha256)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            let version = rows::plugin_version(&row)?;
            tx.commit().await?;
            return Ok((version, false));
        }
        let number: i32 = sqlx::query_scalar(
            "UPDATE plugins SET last_version = last_version + 1, updated_at = $3
             WHERE organization_id = $1 AND name = $2 RETURNING last_version",
        )
        .bind(org)
        .bind(&up.name)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let version = PluginVersion {
            organization_id: org,
            plugin_name: up.name,
            version: number,
            sha256: up.sha256,
            size_bytes: up.wasm.len() as i64,
            describe: up.describe,
            uploaded_at: at,
            uploaded_by: up.uploaded_by,
        };
        sqlx::query(
            "INSERT INTO plugin_versions (organization_id, plugin_name, version, sha256, wasm,
                 size_bytes, describe_json, uploaded_at, uploaded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8, $9)",
        )
        .bind(org)
        .bind(&version.plugin_name)
        .bind(version.version)
        .bind(&version.sha256)
        .bind(up.wasm)
        .bind(version.size_bytes)
        .bind(rows::json_text(&version.describe))
        .bind(at)
        .bind(version.uploaded_by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((version, true))
    }

    pub(super) async fn list_plugins_impl(&self, org: Uuid) -> Result<Vec<Plugin>> {
        let mut tx = self.tenant_tx(org).await?;
        let plugins = sqlx::query(concat!(
            "SELECT ",
            plugin_cols!(),
            " FROM plugins p WHERE p.organization_id = $1 ORDER BY p.name"
        ))
        .bind(org)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(rows::plugin)
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(plugins)
    }

    pub(super) async fn plugin_impl(&self, org: Uuid, name: &str) -> Result<Option<PluginDetail>> {
        let mut tx = self.tenant_tx(org).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            plugin_cols!(),
            " FROM plugins p WHERE p.organization_id = $1 AND p.name = $2"
        ))
        .bind(org)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let plugin = rows::plugin(&row)?;
        let versions = sqlx::query(concat!(
            "SELECT ",
            version_cols!(),
            " FROM plugin_versions v WHERE v.organization_id = $1 AND v.plugin_name = $2
              ORDER BY v.version"
        ))
        .bind(org)
        .bind(name)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(rows::plugin_version)
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(Some(PluginDetail { plugin, versions }))
    }

    pub(super) async fn plugin_version_bytes_impl(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
    ) -> Result<Option<PluginBinary>> {
        let mut tx = self.tenant_tx(org).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            version_cols!(),
            ", v.wasm FROM plugin_versions v
              WHERE v.organization_id = $1 AND v.plugin_name = $2 AND v.version = $3"
        ))
        .bind(org)
        .bind(name)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(PluginBinary {
            version: rows::plugin_version(&row)?,
            wasm: rows::col(&row, "wasm")?,
        }))
    }

    pub(super) async fn active_plugin_version_impl(
        &self,
        org: Uuid,
        name: Option<&str>,
    ) -> Result<Option<PluginVersion>> {
        let mut tx = self.tenant_tx(org).await?;
        let row = match name {
            Some(name) => {
                sqlx::query(concat!(
                    "SELECT ",
                    version_cols!(),
                    " FROM plugins p JOIN plugin_versions v ON v.organization_id = p.organization_id
                        AND v.plugin_name = p.name AND v.version = p.active_version
                      WHERE p.organization_id = $1 AND p.name = $2"
                ))
                .bind(org)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?
            }
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    version_cols!(),
                    " FROM plugins p JOIN plugin_versions v ON v.organization_id = p.organization_id
                        AND v.plugin_name = p.name AND v.version = p.active_version
                      WHERE p.organization_id = $1
                      ORDER BY p.activated_at DESC NULLS LAST, p.name LIMIT 1"
                ))
                .bind(org)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        row.as_ref().map(rows::plugin_version).transpose()
    }

    pub(super) async fn activate_plugin_version_impl(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
    ) -> Result<PluginVersion> {
        let mut tx = self.tenant_tx(org).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            version_cols!(),
            " FROM plugin_versions v
              WHERE v.organization_id = $1 AND v.plugin_name = $2 AND v.version = $3"
        ))
        .bind(org)
        .bind(name)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let found = rows::plugin_version(&row)?;
        sqlx::query(
            "UPDATE plugins SET active_version = $3, activated_at = $4, updated_at = $4
             WHERE organization_id = $1 AND name = $2",
        )
        .bind(org)
        .bind(name)
        .bind(version)
        .bind(now())
        .execute(&mut *tx)
        .await
        // The version was deleted concurrently (the FK re-checks it).
        .map_err(|e| {
            if StoreError::is_foreign_key_violation(&e) {
                StoreError::NotFound
            } else {
                e.into()
            }
        })?;
        tx.commit().await?;
        Ok(found)
    }

    pub(super) async fn delete_plugin_version_impl(
        &self,
        org: Uuid,
        name: &str,
        version: i32,
    ) -> Result<()> {
        let mut tx = self.tenant_tx(org).await?;
        let active: Option<Option<i32>> = sqlx::query_scalar(
            "SELECT active_version FROM plugins WHERE organization_id = $1 AND name = $2 FOR UPDATE",
        )
        .bind(org)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        match active {
            None => return Err(StoreError::NotFound),
            Some(Some(v)) if v == version => {
                return Err(StoreError::Conflict(format!(
                    "version {version} of plugin {name:?} is active; activate another version first"
                )));
            }
            Some(_) => {}
        }
        let deleted = sqlx::query(
            "DELETE FROM plugin_versions WHERE organization_id = $1 AND plugin_name = $2 AND version = $3",
        )
        .bind(org)
        .bind(name)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if StoreError::is_foreign_key_violation(&e) {
                StoreError::Conflict("plugin version is active".into())
            } else {
                e.into()
            }
        })?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}
