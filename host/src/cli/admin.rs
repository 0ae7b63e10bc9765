//! `quote-host migrate`, `org create` and `key create`: administration without HTTP.

use crate::app::connect_store;
use crate::auth::generate_key;
use crate::config::Config;
use crate::store::Role;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization (no keys, no plugin: follow with `key create` and an upload).
    Create {
        /// Its unique name.
        name: String,
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
    let OrgCommand::Create { name } = command;
    let store = connect_store(config).await?;
    store.migrate().await?;
    let organization = store
        .create_organization(name.trim())
        .await
        .context("creating the organization")?;
    println!(
        "created organization '{}' ({})",
        organization.name, organization.id
    );
    Ok(())
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
