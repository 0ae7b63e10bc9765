//! `quote-host plugin new|check|run|bench|replay`: the local tools a tenant's engineer starts
//! and tests a rule set with. Same runtime, same limits, same validation as the server.

use super::bench::{self, BenchArgs};
use super::replay::{self, ReplayArgs};
use super::scaffold;
use crate::contract::{CalculationInput, QuoteRequest, QuoteResult};
use crate::executor::{Executor, ExecutorConfig};
use crate::runtime::{
    CallFailure, CallLimits, CompiledPlugin, LoadError, Outcome, Runtime, RuntimeConfig,
};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Create a plugin crate: WIT glue, plain-Rust rules with a worked example, a sample
    /// request, a unit test and a README. It builds with
    /// `cargo build --release --target wasm32-wasip2` as it is.
    New {
        /// The plugin's name, as it will be uploaded: lower-case letters, digits, `-`, `_`.
        /// (A leading `-` reaches the name check, which says why it is refused.)
        #[arg(allow_hyphen_values = true)]
        name: String,
        /// The folder to create it in; it must not exist or be empty. Default: ./NAME.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Validate a component against the contract and print its `describe` as JSON.
    Check {
        /// The plugin component (.wasm).
        file: PathBuf,
    },
    /// Price a request with a plugin and print the result, fuel, memory and time as JSON.
    Run(RunArgs),
    /// Measure what a call costs: instantiate + calculate over N fresh instances in this
    /// process (median, p99, min, mean in µs), the in-sandbox part, fuel and peak memory,
    /// as JSON.
    Bench(BenchArgs),
    /// Replay a local build over the organization's recent stored quotes on a server,
    /// before uploading it: identical, changed (totals, delta, differences) and failed
    /// quotes as JSON. Stores nothing.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plugin component (.wasm).
    file: PathBuf,
    /// The request: the HTTP calculate body plus an optional "rates" list.
    #[arg(long)]
    input: PathBuf,
    /// Wall-clock limit in milliseconds (default: the server's, 60000).
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Fuel budget (default: the server's, 10^10).
    #[arg(long)]
    fuel: Option<u64>,
    /// Memory limit in MiB (default: the server's, 64).
    #[arg(long)]
    memory_mib: Option<u64>,
}

/// Exit code of a plugin that loaded but failed its call.
pub(super) const EXIT_CALL_FAILED: u8 = 2;
/// Exit code of a file that is not a usable plugin, unreadable input, or a refused
/// name or folder for `plugin new`.
pub(super) const EXIT_BAD_INPUT: u8 = 3;

pub async fn run(command: PluginCommand) -> ExitCode {
    match command {
        PluginCommand::New { name, dir } => new_plugin(&name, dir),
        PluginCommand::Check { file } => check(file).await,
        PluginCommand::Run(args) => run_plugin(args).await,
        PluginCommand::Bench(args) => bench::bench(args).await,
        PluginCommand::Replay(args) => replay::replay(args, ExitCode::from(EXIT_BAD_INPUT)).await,
    }
}

fn new_plugin(name: &str, dir: Option<PathBuf>) -> ExitCode {
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    match scaffold::scaffold(name, &dir) {
        Ok(made) => {
            println!("Created the plugin crate {name} in {}", made.dir.display());
            println!("  src/rules.rs         your pricing rules (a worked example to change)");
            println!("  src/lib.rs           the WIT glue; wit/ is the contract");
            println!("  sample-request.json  a request for `quote-host plugin run`");
            println!("Next:");
            println!("  cd {}", made.dir.display());
            println!("  cargo test");
            println!("  cargo build --release --target wasm32-wasip2");
            println!(
                "  quote-host plugin run {} --input sample-request.json",
                made.wasm.display()
            );
            ExitCode::SUCCESS
        }
        Err(error @ scaffold::ScaffoldError::Io { .. }) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

async fn check(file: PathBuf) -> ExitCode {
    let Some(runtime) = harness_runtime(RuntimeConfig::default()) else {
        return ExitCode::FAILURE;
    };
    let Some(bytes) = read(&file) else {
        return ExitCode::from(EXIT_BAD_INPUT);
    };
    match runtime.inspect(bytes).await {
        Ok((plugin, info)) => {
            print_json(&json!({"sha256": plugin.sha256, "describe": info}));
            ExitCode::SUCCESS
        }
        Err(error) => load_failed(&file, &error),
    }
}

async fn run_plugin(args: RunArgs) -> ExitCode {
    let defaults = RuntimeConfig::default();
    let config = RuntimeConfig {
        timeout_ms: args.timeout_ms.unwrap_or(defaults.timeout_ms),
        fuel: args.fuel.unwrap_or(defaults.fuel),
        memory_mib: args.memory_mib.unwrap_or(defaults.memory_mib),
        ..defaults
    };
    let limits = config.calculation_limits();
    let (runtime, plugin, request) = match load_for_harness(config, &args.file, &args.input).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let Some((called, timing)) = on_executor(runtime, plugin, request, limits).await else {
        return ExitCode::FAILURE;
    };
    match called {
        Ok(outcome) => {
            print_json(&json!({
                "result": outcome.value, "report": outcome.report,
                "queue_ms": timing.0, "run_ms": timing.1,
            }));
            ExitCode::SUCCESS
        }
        Err(CallFailure { error, report }) => {
            print_json(&json!({
                "error": {"code": error.code(), "message": error.to_string()},
                "report": report, "queue_ms": timing.0, "run_ms": timing.1,
            }));
            ExitCode::from(EXIT_CALL_FAILED)
        }
    }
}

/// What `run` and `bench` start from: the harness runtime, the plugin file loaded into it
/// and the request file read; or the exit code, the reason already printed.
pub(super) async fn load_for_harness(
    config: RuntimeConfig,
    file: &PathBuf,
    input: &PathBuf,
) -> Result<(Runtime, Arc<CompiledPlugin>, QuoteRequest), ExitCode> {
    let runtime = harness_runtime(config).ok_or(ExitCode::FAILURE)?;
    let bytes = read(file).ok_or(ExitCode::from(EXIT_BAD_INPUT))?;
    let request = read_request(input).ok_or(ExitCode::from(EXIT_BAD_INPUT))?;
    let plugin = runtime
        .load_bytes(bytes)
        .await
        .map_err(|error| load_failed(file, &error))?;
    Ok((runtime, plugin, request))
}

/// The request file of `run` and `bench`: the HTTP calculate body plus an optional
/// "rates" list, ids filled in. Says why on stderr when it is unusable.
pub(super) fn read_request(path: &PathBuf) -> Option<QuoteRequest> {
    let input = read(path)?;
    let input: CalculationInput = match serde_json::from_slice(&input) {
        Ok(input) => input,
        Err(error) => {
            eprintln!("error: {} is not a valid request: {error}", path.display());
            return None;
        }
    };
    let rates = input.rates.clone().unwrap_or_default();
    input
        .into_request(chrono::Utc::now().date_naive(), rates)
        .map_err(|reason| eprintln!("error: {reason}"))
        .ok()
}

/// Runs the call as the server does, on a (one-thread) guest executor; the outcome and
/// its queue and run times in ms.
async fn on_executor(
    runtime: Runtime,
    plugin: Arc<CompiledPlugin>,
    request: QuoteRequest,
    limits: CallLimits,
) -> Option<(Result<Outcome<QuoteResult>, CallFailure>, (f64, f64))> {
    let config = ExecutorConfig {
        threads: 1,
        max_calls: 1,
        demote_after: Duration::from_millis(5),
        nice: 0,
    };
    let executor = match Executor::start(&config, runtime.preempter(), 1) {
        Ok(executor) => executor,
        Err(error) => {
            eprintln!("error: cannot start the guest executor: {error}");
            return None;
        }
    };
    let asked = Instant::now();
    let call = async move { runtime.calculate(&plugin, &request, &limits).await };
    let never = asked + Duration::from_secs(24 * 3600);
    match executor.run(Uuid::nil(), never, call).await {
        Ok(ran) => {
            let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
            let timing = (
                ms(ran.started.saturating_duration_since(asked)),
                ms(ran.finished.saturating_duration_since(ran.started)),
            );
            Some((ran.value, timing))
        }
        Err(refusal) => {
            eprintln!("error: the guest executor refused the call: {refusal}");
            None
        }
    }
}

/// The harness keeps no artifacts on disk: it is run on a file being edited.
pub(super) fn harness_runtime(config: RuntimeConfig) -> Option<Runtime> {
    match Runtime::new(RuntimeConfig {
        artifact_dir: None,
        ..config
    }) {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            eprintln!("error: cannot start the plugin runtime: {error:#}");
            None
        }
    }
}

pub(super) fn read(path: &PathBuf) -> Option<Vec<u8>> {
    std::fs::read(path)
        .map_err(|error| eprintln!("error: cannot read {}: {error}", path.display()))
        .ok()
}

pub(super) fn load_failed(file: &std::path::Path, error: &LoadError) -> ExitCode {
    print_json(&json!({"error": {"code": error.code(), "message": error.to_string()}}));
    eprintln!("error: {} is not a usable plugin: {error}", file.display());
    ExitCode::from(EXIT_BAD_INPUT)
}

pub(super) fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values serialize")
    );
}
