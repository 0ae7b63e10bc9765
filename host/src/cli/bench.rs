//! `quote-host plugin bench`: what one call of a plugin costs, measured the way the server
//! runs it (a fresh instance per call, the server's limits), in one process.

use super::plugin::{EXIT_CALL_FAILED, load_for_harness, print_json};
use crate::runtime::{CallFailure, RuntimeConfig};
use clap::Args;
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Most measured (and most warm-up) calls of one bench: 1,000,000 calls of a 1-item plugin
/// take about half a minute and keep 24 MB of samples.
const MAX_RUNS: u32 = 1_000_000;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The plugin component (.wasm).
    file: PathBuf,
    /// The request: the HTTP calculate body plus an optional "rates" list.
    #[arg(long)]
    input: PathBuf,
    /// Measured calls, 1 to 1,000,000.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_RUNS)))]
    runs: u32,
    /// Calls made first and not measured (warming caches and the pool), 0 to 1,000,000.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_RUNS)))]
    warmup: u32,
}

/// The samples of one measured call.
struct Sample {
    /// Around `Runtime::calculate`: converting the request in, instantiating, calling,
    /// lifting and validating the result.
    call: Duration,
    /// Inside the store: instantiation plus the export call (the report's duration).
    sandbox: Duration,
    /// The part of `sandbox` spent instantiating.
    instantiate: Duration,
    fuel_used: u64,
    peak_memory_bytes: u64,
}

/// Median, p99, min, mean and max of a series, in microseconds.
#[derive(Debug, Serialize, PartialEq)]
struct Spread {
    median: f64,
    p99: f64,
    min: f64,
    mean: f64,
    max: f64,
}

impl Spread {
    fn of(mut values: Vec<Duration>) -> Self {
        values.sort_unstable();
        // Tenths of a microsecond, rounded half up on whole nanoseconds.
        let micros = |duration: Duration| ((duration.as_nanos() + 50) / 100) as f64 / 10.0;
        let total: Duration = values.iter().sum();
        Self {
            median: micros(nearest_rank(&values, 0.5)),
            p99: micros(nearest_rank(&values, 0.99)),
            min: micros(values[0]),
            mean: micros(total / u32::try_from(values.len()).unwrap_or(u32::MAX)),
            max: micros(values[values.len() - 1]),
        }
    }
}

/// The nearest-rank percentile of sorted, non-empty values.
fn nearest_rank(sorted: &[Duration], fraction: f64) -> Duration {
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(super) async fn bench(args: BenchArgs) -> ExitCode {
    let config = RuntimeConfig::default();
    let limits = config.calculation_limits();
    let (runtime, plugin, request) = match load_for_harness(config, &args.file, &args.input).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let mut samples = Vec::with_capacity(args.runs as usize);
    for index in 0..args.warmup + args.runs {
        let started = Instant::now();
        let report = match runtime.calculate(&plugin, &request, &limits).await {
            Ok(outcome) => outcome.report,
            Err(CallFailure { error, report }) => {
                print_json(&json!({
                    "error": {"code": error.code(), "message": error.to_string()},
                    "report": report,
                }));
                eprintln!("error: call {} failed; nothing was measured", index + 1);
                return ExitCode::from(EXIT_CALL_FAILED);
            }
        };
        let call = started.elapsed();
        if index >= args.warmup {
            samples.push(Sample {
                call,
                sandbox: report.duration,
                instantiate: Duration::from_micros(report.instantiate_us.into()),
                fuel_used: report.fuel_used,
                peak_memory_bytes: report.peak_memory_bytes,
            });
        }
    }
    let fuel = samples.iter().map(|sample| sample.fuel_used);
    let (fuel_min, fuel_max) = (fuel.clone().min(), fuel.max());
    print_json(&json!({
        "plugin": args.file.display().to_string(),
        "sha256": plugin.sha256,
        "items": request.items.len(),
        "runs": args.runs,
        "warmup": args.warmup,
        "call_us": Spread::of(samples.iter().map(|sample| sample.call).collect()),
        "sandbox_us": Spread::of(samples.iter().map(|sample| sample.sandbox).collect()),
        "instantiate_us": Spread::of(samples.iter().map(|sample| sample.instantiate).collect()),
        "fuel_used": fuel_min,
        "fuel_used_max": fuel_max,
        "peak_memory_bytes": samples.iter().map(|sample| sample.peak_memory_bytes).max(),
    }));
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spread_uses_nearest_ranks() {
        let values: Vec<Duration> = (1..=200).rev().map(Duration::from_micros).collect();
        let spread = Spread::of(values);
        assert_eq!(
            spread,
            Spread {
                median: 100.0,
                p99: 198.0,
                min: 1.0,
                mean: 100.5,
                max: 200.0
            }
        );
        let one = Spread::of(vec![Duration::from_nanos(1_250)]);
        assert_eq!((one.median, one.p99, one.min), (1.3, 1.3, 1.3));
    }
}
