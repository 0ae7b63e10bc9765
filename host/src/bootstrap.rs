//! First start on an empty database: an organization, its first admin key (printed
//! once and written to an owner-only file) and the standard plugin, active; and the
//! installation of that plugin every new organization gets.

use crate::app::App;
use crate::auth::generate_key;
use crate::bundled::STANDARD_PLUGIN;
use crate::runtime::Runtime;
use crate::store::{NewPluginVersion, PluginStore, Role, StoreError};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use uuid::Uuid;

/// Name of the bundled plugin every new organization gets.
pub const STANDARD_PLUGIN_NAME: &str = "standard";

/// What the first start created.
pub struct Bootstrapped {
    pub organization: String,
    pub key_file: PathBuf,
}

/// Sets up the configured organization when the database has none. Several hosts
/// starting together on one empty database: the first one wins, the others skip.
pub async fn bootstrap_if_empty(app: &App) -> anyhow::Result<Option<Bootstrapped>> {
    let name = app.config.bootstrap.organization.trim();
    if name.is_empty() || app.store.count_organizations().await? > 0 {
        return Ok(None);
    }
    let organization = match app.store.create_organization(name).await {
        Ok(organization) => organization,
        Err(StoreError::Conflict(_)) => return Ok(None),
        Err(error) => return Err(error).context("creating the first organization"),
    };
    let generated = generate_key(organization.id, "first admin key", Role::Admin);
    let key = app.store.create_api_key(generated.new_key).await?;
    let key_file = app.config.data_dir.join(format!("{name}-admin-key.txt"));
    write_owner_only(&key_file, &generated.secret).context("writing the first admin key")?;
    let plugin = standard_plugin(&app.runtime).await?;
    install_standard_plugin(app.store.as_ref(), &plugin, organization.id, Some(key.id)).await?;
    announce(name, &generated.secret, &key_file);
    Ok(Some(Bootstrapped {
        organization: name.to_string(),
        key_file,
    }))
}

/// The bundled standard plugin, checked by the runtime: what
/// [`install_standard_plugin`] stores. Separate, so a caller can check it before it
/// creates the organization.
pub async fn standard_plugin(runtime: &Runtime) -> anyhow::Result<StandardPlugin> {
    let (plugin, info) = runtime
        .inspect(STANDARD_PLUGIN.to_vec())
        .await
        .context("checking the standard plugin")?;
    Ok(StandardPlugin {
        sha256: plugin.sha256.clone(),
        describe: serde_json::to_value(&info)?,
    })
}

/// The checked standard plugin: its identity and what its `describe` said.
pub struct StandardPlugin {
    sha256: String,
    describe: serde_json::Value,
}

/// Uploads the standard plugin as a version of `organization_id`'s plugin
/// `standard` and activates it. `uploaded_by`: the key to credit, if any.
pub async fn install_standard_plugin(
    store: &dyn PluginStore,
    plugin: &StandardPlugin,
    organization_id: Uuid,
    uploaded_by: Option<Uuid>,
) -> anyhow::Result<()> {
    let upload = NewPluginVersion {
        organization_id,
        name: STANDARD_PLUGIN_NAME.into(),
        sha256: plugin.sha256.clone(),
        wasm: STANDARD_PLUGIN.to_vec(),
        describe: plugin.describe.clone(),
        uploaded_by,
    };
    let (version, _) = store
        .add_plugin_version(upload)
        .await
        .context("storing the standard plugin")?;
    store
        .activate_plugin_version(organization_id, STANDARD_PLUGIN_NAME, version.version)
        .await
        .context("activating the standard plugin")?;
    Ok(())
}

fn write_owner_only(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    // A temp file is created owner-only; renaming keeps that, whatever was there before.
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    writeln!(file, "{secret}")?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

fn announce(organization: &str, secret: &str, key_file: &std::path::Path) {
    let line = "=".repeat(72);
    println!("{line}");
    println!("First start: created organization '{organization}' with the standard plugin.");
    println!(
        "Its admin API key (shown once; also in {}):",
        key_file.display()
    );
    println!();
    println!("    {secret}");
    println!();
    println!("Try:  curl -H 'Authorization: Bearer {secret}' http://<listen address>/api/me");
    println!("{line}");
    tracing::info!(organization, key_file = %key_file.display(), "bootstrapped the first organization");
}
