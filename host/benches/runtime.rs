//! What a pricing call costs in the sandbox, next to the same rules run natively.
//!
//! Criterion groups:
//! * `standard` — the standard rule set with 1, 10, 100 and 1000 items (USD, EUR and
//!   RUB lines priced in RUB, quantity tiers, markup overrides): `wasm/N` instantiates
//!   the component in a fresh store and calculates, as every server request does;
//!   `native/N` runs the very same `plugins/standard/src/pricing.rs` compiled into this
//!   benchmark, from a request converted beforehand. Throughput in items.
//! * `threads` — the wasm call on a 2-worker tokio runtime: a batch of calls spread over
//!   1 or 2 concurrent tasks, timed as a whole and divided by the calls. Throughput in
//!   items (for the 1-item request: calls per second).
//! * `load` — making a plugin ready: `compile` (from bytes, in a fresh runtime without an
//!   artifact directory), `disk` (from the artifact cache, in a fresh runtime whose
//!   directory another runtime filled), `memory` (a plugin already loaded), for the
//!   `standard` and `import-calc` plugins.
//! * `import_calc` — the import-calc rule set on the 93-product golden scenario
//!   `plugins/import-calc/golden/test_raschet.json`, instantiate + calculate.
//! * `pooling` — the 1-item call under the pooling allocator keeping 2 MiB resident per
//!   slot (the default), the pooling allocator keeping nothing resident, and the
//!   on-demand allocator, on 1 and 2 tasks.
//!
//! Then a summary printed to stdout from a plain timing pass (the median of five rounds,
//! 2 s per case): wasm/native time per size with fuel and peak memory per call, calls per
//! second by allocator and task count, and the import-calc call.
//!
//! Run: `cargo bench -p quote-host --bench runtime`, on an otherwise idle machine (about
//! 3 minutes on 2 cores after the build). Criterion's filter applies to the groups
//! (`-- pooling`); set `QUOTE_BENCH_NO_SUMMARY=1` to skip the summary.
//! `cargo test --benches` runs every case once and no summary.

// The plugin's glue reads parts of `pricing` (variable specs, breakdowns, error texts)
// that the native side does not.
#[allow(dead_code)]
#[path = "../../plugins/standard/src/pricing.rs"]
mod pricing;

#[path = "../../plugins/import-calc/tests/golden_map.rs"]
mod golden_map;

mod support;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use quote_host::bundled::STANDARD_PLUGIN;
use quote_host::runtime::{Runtime, RuntimeConfig, sha256_hex};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Call, bench_runtime, not_fetched, plugin_bytes};
use tokio::runtime::Runtime as Tokio;

/// Items per request of the standard rule set.
const SIZES: [usize; 4] = [1, 10, 100, 1000];
/// Items per request of the thread-scaling group.
const THREAD_SIZES: [usize; 2] = [1, 100];
/// Concurrent tasks (the machine has two cores).
const TASKS: [u64; 2] = [1, 2];
/// Measured time per case of the summary.
const SUMMARY_BUDGET: Duration = Duration::from_secs(2);

fn main() {
    let tokio = support::tokio_runtime();
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .without_plots()
        .configure_from_args();

    let runtime = Arc::new(bench_runtime(RuntimeConfig::default(), None));
    let sizes: Vec<SizeCase> = SIZES
        .iter()
        .map(|&items| SizeCase::new(&tokio, &runtime, items))
        .collect();
    let import_calc = import_calc_call(&tokio, &runtime);
    let allocators = allocator_variants(&tokio);

    bench_standard(&mut criterion, &tokio, &sizes);
    bench_threads(&mut criterion, &tokio, &sizes);
    bench_loads(&mut criterion, &tokio, &runtime);
    bench_import_calc(&mut criterion, &tokio, &import_calc);
    bench_pooling(&mut criterion, &tokio, &allocators);
    criterion.final_summary();

    if summary_requested() {
        print_size_summary(&tokio, &sizes);
        print_allocator_summary(&tokio, &allocators);
        print_import_calc_summary(&tokio, &import_calc);
    }
}

/// The standard rule set on one request size: the wasm call and the native input.
struct SizeCase {
    items: usize,
    call: Call,
    native: pricing::Request,
}

impl SizeCase {
    /// Prepares both sides and checks once that they agree on every price.
    fn new(tokio: &Tokio, runtime: &Arc<Runtime>, items: usize) -> Self {
        let request = support::standard_request(items);
        let native = support::native_request(&request);
        let call = Call::new(tokio, runtime.clone(), STANDARD_PLUGIN, request);
        let (wasm, _) = tokio.block_on(call.once());
        let priced = pricing::price(&native).expect("the native rules price the request");
        support::assert_same_prices(&wasm, &priced);
        Self {
            items,
            call,
            native,
        }
    }

    fn throughput(&self) -> Throughput {
        Throughput::Elements(self.items as u64)
    }

    /// Time of `calls` native pricings, one after the other.
    fn native_batch(&self, calls: u64) -> Duration {
        let started = Instant::now();
        for _ in 0..calls {
            let _ = black_box(pricing::price(black_box(&self.native)));
        }
        started.elapsed()
    }
}

fn import_calc_call(tokio: &Tokio, runtime: &Arc<Runtime>) -> Call {
    let request = support::golden_request(&support::import_calc_golden());
    Call::new(
        tokio,
        runtime.clone(),
        &plugin_bytes("import-calc"),
        request,
    )
}

/// The 1-item standard call under each instance allocator, each in its own runtime.
fn allocator_variants(tokio: &Tokio) -> Vec<(&'static str, Call)> {
    let defaults = RuntimeConfig::default();
    let configs = [
        ("pooling+resident", defaults.clone()),
        (
            "pooling,resident=0",
            RuntimeConfig {
                keep_resident_bytes: 0,
                ..defaults.clone()
            },
        ),
        (
            "on-demand",
            RuntimeConfig {
                pooling_allocator: false,
                ..defaults
            },
        ),
    ];
    configs
        .into_iter()
        .map(|(name, config)| {
            let runtime = Arc::new(bench_runtime(config, None));
            let request = support::standard_request(1);
            (name, Call::new(tokio, runtime, STANDARD_PLUGIN, request))
        })
        .collect()
}

fn bench_standard(criterion: &mut Criterion, tokio: &Tokio, sizes: &[SizeCase]) {
    let mut group = criterion.benchmark_group("standard");
    for size in sizes {
        group.throughput(size.throughput());
        group.bench_function(BenchmarkId::new("wasm", size.items), |b| {
            b.to_async(tokio).iter(|| size.call.once());
        });
        group.bench_function(BenchmarkId::new("native", size.items), |b| {
            b.iter(|| pricing::price(black_box(&size.native)));
        });
    }
    group.finish();
}

fn bench_threads(criterion: &mut Criterion, tokio: &Tokio, sizes: &[SizeCase]) {
    let mut group = criterion.benchmark_group("threads");
    for size in sizes
        .iter()
        .filter(|size| THREAD_SIZES.contains(&size.items))
    {
        group.throughput(size.throughput());
        for tasks in TASKS {
            let id = BenchmarkId::new(items_label(size.items), tasks_label(tasks));
            group.bench_function(id, |b| {
                b.iter_custom(|calls| size.call.concurrently(tokio, tasks, calls));
            });
        }
    }
    group.finish();
}

fn items_label(items: usize) -> String {
    match items {
        1 => "1-item".into(),
        _ => format!("{items}-items"),
    }
}

fn tasks_label(tasks: u64) -> String {
    match tasks {
        1 => "1-thread".into(),
        _ => format!("{tasks}-threads"),
    }
}

/// A plugin whose compiled artifact waits in a directory of its own.
struct Cached {
    name: &'static str,
    bytes: Vec<u8>,
    sha256: String,
    artifacts: tempfile::TempDir,
}

impl Cached {
    /// Compiles the plugin once into a fresh artifact directory and checks that a new
    /// runtime then finds it there.
    fn new(tokio: &Tokio, name: &'static str) -> Self {
        let bytes = plugin_bytes(name);
        let cached = Self {
            name,
            sha256: sha256_hex(&bytes),
            artifacts: tempfile::tempdir().expect("a temporary directory"),
            bytes,
        };
        let filler = cached.runtime(Some(cached.artifacts.path()));
        tokio
            .block_on(filler.load_bytes(cached.bytes.clone()))
            .expect("the plugin compiles");
        let reader = cached.runtime(Some(cached.artifacts.path()));
        cached.load_from_disk(tokio, &reader);
        let stats = tokio.block_on(reader.cache_stats());
        assert_eq!(
            (stats.disk_hits, stats.compiles),
            (1, 0),
            "{name}: {stats:?}"
        );
        cached
    }

    fn runtime(&self, artifact_dir: Option<&Path>) -> Runtime {
        bench_runtime(RuntimeConfig::default(), artifact_dir)
    }

    fn load_from_disk(&self, tokio: &Tokio, runtime: &Runtime) {
        tokio
            .block_on(runtime.load(&self.sha256, not_fetched()))
            .unwrap_or_else(|error| panic!("{}: not loaded from the cache: {error}", self.name));
    }

    /// Time of compiling the bytes in a fresh runtime (whose setup is not timed).
    fn time_compile(&self, tokio: &Tokio) -> Duration {
        let runtime = self.runtime(None);
        let bytes = self.bytes.clone();
        let started = Instant::now();
        let loaded = tokio.block_on(runtime.load_bytes(bytes));
        let took = started.elapsed();
        loaded.unwrap_or_else(|error| panic!("{}: {error}", self.name));
        took
    }

    /// Time of loading the artifact in a fresh runtime (whose setup is not timed).
    fn time_disk_load(&self, tokio: &Tokio) -> Duration {
        let runtime = self.runtime(Some(self.artifacts.path()));
        let started = Instant::now();
        self.load_from_disk(tokio, &runtime);
        started.elapsed()
    }
}

fn bench_loads(criterion: &mut Criterion, tokio: &Tokio, runtime: &Runtime) {
    let plugins = [
        Cached::new(tokio, "standard"),
        Cached::new(tokio, "import-calc"),
    ];
    let mut group = criterion.benchmark_group("load");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .sampling_mode(SamplingMode::Flat);
    for plugin in &plugins {
        group.bench_function(BenchmarkId::new("compile", plugin.name), |b| {
            b.iter_custom(|loads| (0..loads).map(|_| plugin.time_compile(tokio)).sum());
        });
        group.bench_function(BenchmarkId::new("disk", plugin.name), |b| {
            b.iter_custom(|loads| (0..loads).map(|_| plugin.time_disk_load(tokio)).sum());
        });
    }
    group.sampling_mode(SamplingMode::Auto).sample_size(20);
    for plugin in &plugins {
        tokio
            .block_on(runtime.load_bytes(plugin.bytes.clone()))
            .expect("the plugin loads");
        group.bench_function(BenchmarkId::new("memory", plugin.name), |b| {
            b.to_async(tokio).iter(|| async {
                let loaded = runtime.load(&plugin.sha256, not_fetched()).await;
                loaded.expect("a memory hit")
            });
        });
    }
    group.finish();
}

fn bench_import_calc(criterion: &mut Criterion, tokio: &Tokio, call: &Call) {
    let mut group = criterion.benchmark_group("import_calc");
    group.throughput(Throughput::Elements(call.request.items.len() as u64));
    group.bench_function("test_raschet", |b| {
        b.to_async(tokio).iter(|| call.once());
    });
    group.finish();
}

fn bench_pooling(criterion: &mut Criterion, tokio: &Tokio, allocators: &[(&str, Call)]) {
    let mut group = criterion.benchmark_group("pooling");
    group.throughput(Throughput::Elements(1));
    for (name, call) in allocators {
        for tasks in TASKS {
            group.bench_function(BenchmarkId::new(*name, tasks_label(tasks)), |b| {
                b.iter_custom(|calls| call.concurrently(tokio, tasks, calls));
            });
        }
    }
    group.finish();
}

/// The summary runs under `cargo bench` (not in test, list or profile mode) unless
/// `QUOTE_BENCH_NO_SUMMARY` is set.
fn summary_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|arg| arg.starts_with(flag));
    has("--bench")
        && !has("--test")
        && !has("--list")
        && !has("--profile-time")
        && std::env::var_os("QUOTE_BENCH_NO_SUMMARY").is_none()
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn per_second(duration: Duration) -> f64 {
    1.0 / duration.as_secs_f64()
}

fn print_size_summary(tokio: &Tokio, sizes: &[SizeCase]) {
    println!("\nstandard rules, one task: wasm (fresh instance per call) vs native");
    println!(
        "{:>5} | {:>10} | {:>10} | {:>6} | {:>12} | {:>12} | {:>9} | {:>14}",
        "items",
        "native µs",
        "wasm µs",
        "ratio",
        "wasm items/s",
        "wasm calls/s",
        "fuel/call",
        "peak memory KiB"
    );
    for size in sizes {
        let native = support::median_time(SUMMARY_BUDGET, |calls| size.native_batch(calls));
        let wasm = support::median_time(SUMMARY_BUDGET, |calls| {
            size.call.concurrently(tokio, 1, calls)
        });
        let (_, report) = tokio.block_on(size.call.once());
        println!(
            "{:>5} | {:>10.2} | {:>10.1} | {:>6.1} | {:>12.0} | {:>12.0} | {:>9} | {:>14}",
            size.items,
            micros(native),
            micros(wasm),
            wasm.as_secs_f64() / native.as_secs_f64(),
            size.items as f64 * per_second(wasm),
            per_second(wasm),
            report.fuel_used,
            report.peak_memory_bytes / 1024
        );
    }
}

fn print_allocator_summary(tokio: &Tokio, allocators: &[(&str, Call)]) {
    println!("\nstandard rules, 1 item: calls/s by instance allocator and concurrent tasks");
    println!(
        "{:<18} | {:>13} | {:>13} | {:>7}",
        "allocator", "1 thread", "2 threads", "scaling"
    );
    for (name, call) in allocators {
        let rates: Vec<f64> = TASKS
            .iter()
            .map(|&tasks| {
                let per_call = support::median_time(SUMMARY_BUDGET, |calls| {
                    call.concurrently(tokio, tasks, calls)
                });
                per_second(per_call)
            })
            .collect();
        println!(
            "{:<18} | {:>13.0} | {:>13.0} | {:>6.2}x",
            name,
            rates[0],
            rates[1],
            rates[1] / rates[0]
        );
    }
}

fn print_import_calc_summary(tokio: &Tokio, call: &Call) {
    let per_call = support::median_time(SUMMARY_BUDGET, |calls| call.concurrently(tokio, 1, calls));
    let (_, report) = tokio.block_on(call.once());
    println!(
        "\nimport-calc, test_raschet ({} products), one task: {:.0} µs/call, {:.0} calls/s, \
         {} fuel/call, peak memory {} KiB",
        call.request.items.len(),
        micros(per_call),
        per_second(per_call),
        report.fuel_used,
        report.peak_memory_bytes / 1024
    );
}
