//! `quote-host migrate`, `org create` and `key create`: administration without HTTP.

use crate::app::connect_store;
use crate::auth::generate_key;
use crate::bootstrap::{STANDARD_PLUGIN_NAME, install_standard_plugin, standard_plugin};
use crate::config::Config;
use crate::runtime::{Runtime, RuntimeConfig};
use crate::store::Role;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization with the standard plugin installed and active (no keys:
    /// follow with `key create`).
    Create {
        /// Its unique name.
        name: String,
        /// Start with no plugin at all.
        #[arg(long)]
        no_plugin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print it (the only time it is shown).
    Create(KeyArgs),
}

#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The organization's name.
    #[arg(long)]
    org: String,
    #[arg(long, value_enum)]
    role: RoleArg,
    /// A label for people.
    #[arg(long, default_value = "created on the command line")]
    name: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Member,
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = connect_store(config).await?;
    store.migrate().await.context("applying migrations")?;
    println!(
        "migrations applied to {}",
        crate::config::mask_url(&config.database.url)
    );
    Ok(())
}

pub async fn org(config: &Config, command: OrgCommand) -> anyhow::Result<()> {
    let OrgCommand::Create { name, no_plugin } = command;
    let store = connect_store(config).await?;
    store.migrate().await?;
    // Checked first, so a plugin that cannot load leaves no half-made organization.
    let plugin = match no_plugin {
        true => None,
        false => Some(standard_plugin(&cli_runtime(config)?).await?),
    };
    let organization = store
        .create_organization(name.trim())
        .await
        .context("creating the organization")?;
    if let Some(plugin) = &plugin {
        install_standard_plugin(store.as_ref(), plugin, organization.id, None)
            .await
            .with_context(|| {
                format!(
                    "organization '{}' was created, but without its plugin (upload one)",
                    organization.name
                )
            })?;
    }
    let with = match plugin {
        Some(_) => format!("with the active plugin '{STANDARD_PLUGIN_NAME}'"),
        None => "with no plugin".to_string(),
    };
    println!(
        "created organization '{}' ({}) {with}",
        organization.name, organization.id
    );
    Ok(())
}

/// The runtime for a one-off check: the configured limits, no artifacts left on disk.
fn cli_runtime(config: &Config) -> anyhow::Result<Runtime> {
    Runtime::new(RuntimeConfig {
        artifact_dir: None,
        ..config.runtime.clone()
    })
    .context("starting the plugin runtime")
}

pub async fn key(config: &Config, command: KeyCommand) -> anyhow::Result<()> {
    let KeyCommand::Create(args) = command;
    let store = connect_store(config).await?;
    store.migrate().await?;
    let organization = store
        .organization_by_name(&args.org)
        .await?
        .with_context(|| format!("there is no organization '{}'", args.org))?;
    let role = match args.role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Member => Role::Member,
    };
    let generated = generate_key(organization.id, &args.name, role);
    store.create_api_key(generated.new_key).await?;
    println!("{}", generated.secret);
    Ok(())
}
