//! The command line: `serve`, `migrate`, `org`, `key` and the local plugin harness.

mod plugin;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// quote-host: price B2B quotes with tenants' sandboxed WebAssembly rule sets.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Command {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
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
        match command.action {
            Action::Plugin(command) => plugin::run(command).await,
        }
    })
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("QUOTE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
