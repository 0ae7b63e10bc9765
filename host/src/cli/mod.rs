//! The command line: `serve` (the default), `migrate`, `org`, `key` and the local
//! plugin harness.

mod admin;
mod bench;
mod plugin;
mod replay;
mod scaffold;
mod serve;

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// quote-host: price B2B quotes with tenants' sandboxed WebAssembly rule sets.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Command {
    /// A TOML config file; `QUOTE_*` environment variables override it.
    #[arg(long, global = true, env = "QUOTE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage organizations.
    #[command(subcommand)]
    Org(admin::OrgCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(admin::KeyCommand),
    /// Check and run plugins locally, with the same limits and code as the server.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    run(Command::parse())
}

/// Runs a parsed command; the exit code says whether it succeeded.
pub fn run(command: Command) -> ExitCode {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        if let Some(Action::Plugin(command)) = command.action {
            return plugin::run(command).await;
        }
        let config = match Config::load(command.config.as_deref()) {
            Ok(config) => config,
            Err(error) => {
                eprintln!("error: invalid configuration: {error}");
                return ExitCode::FAILURE;
            }
        };
        let outcome = match command.action.unwrap_or(Action::Serve) {
            Action::Serve => serve::serve(config).await,
            Action::Migrate => admin::migrate(&config).await,
            Action::Org(command) => admin::org(&config, command).await,
            Action::Key(command) => admin::key(&config, command).await,
            Action::Plugin(_) => unreachable!("handled above"),
        };
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        }
    })
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("QUOTE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only for a person at a terminal; log files and pipes get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_ansi(ansi)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
