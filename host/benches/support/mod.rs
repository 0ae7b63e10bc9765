//! Workloads and drivers of the runtime benchmark: the priced requests, runtimes sized
//! for benchmarking, calls spread over concurrent tasks, and a plain timing loop.

use crate::{golden_map, pricing};
use quote_host::contract::{CalculationInput, LineItem, QuoteRequest, QuoteResult, Rate};
use quote_host::runtime::{CallLimits, CallReport, CompiledPlugin, Runtime, RuntimeConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime as Tokio;

/// Quote date of the synthetic requests.
const QUOTE_DATE: (i32, u32, u32) = (2026, 11, 29);
/// Item currencies, in turn; the quote is priced in RUB.
const ITEM_CURRENCIES: [&str; 3] = ["USD", "EUR", "RUB"];
/// A stored rate table as the server would pass it: more rates than the items use.
const RATES: [(&str, &str); 5] = [
    ("USD", "81.2345"),
    ("EUR", "94.1234"),
    ("CNY", "11.3021"),
    ("GBP", "107.5517"),
    ("JPY", "0.5312"),
];

/// A tokio runtime with two worker threads, the machine's core count.
pub fn tokio_runtime() -> Tokio {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}

/// A runtime sized for benchmarking: a pool of 64 and the given artifact directory.
pub fn bench_runtime(config: RuntimeConfig, artifact_dir: Option<&Path>) -> Runtime {
    Runtime::new(RuntimeConfig {
        max_concurrent_instances: 64,
        artifact_dir: artifact_dir.map(Path::to_path_buf),
        ..config
    })
    .expect("the runtime starts")
}

/// The bytes of a plugin the build script compiled (`standard`, `import-calc`).
pub fn plugin_bytes(crate_name: &str) -> Vec<u8> {
    let path = quote_host::bundled::plugin_path(crate_name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A `load` source that must never be asked: the plugin is expected in a cache.
pub async fn not_fetched() -> Result<Vec<u8>, String> {
    Err("the plugin was expected in a cache, not fetched".into())
}

/// A RUB quote of `items` lines in USD, EUR and RUB, with quote-level markup and
/// quantity tiers, per-item overrides on some lines, and quantities that reach the tiers.
pub fn standard_request(items: usize) -> QuoteRequest {
    let date = date(QUOTE_DATE);
    QuoteRequest {
        currency: "RUB".into(),
        date,
        variables: pairs(&[
            ("markup_percent", "12.5"),
            ("discount_tiers", "10:3,50:7,200:12"),
            ("vat_percent", "20"),
        ]),
        items: (0..items).map(standard_item).collect(),
        rates: RATES
            .iter()
            .map(|(base, rate)| Rate {
                base: (*base).into(),
                quote: "RUB".into(),
                rate: (*rate).into(),
                date: date.pred_opt().expect("a day before"),
            })
            .collect(),
    }
}

fn standard_item(index: usize) -> LineItem {
    let mut attributes = Vec::new();
    if index % 4 == 3 {
        attributes.push(("markup_percent", "18"));
    }
    if index % 5 == 4 {
        attributes.push(("discount_tiers", "5:2,25:4,100:9"));
    }
    LineItem {
        id: (index + 1).to_string(),
        sku: format!("SKU-{index:05}"),
        name: format!("Bearing {index}"),
        quantity: (1 + index * 37 % 250).to_string(),
        unit_price: format!("{}.{:02}", 5 + index * 13 % 900, index * 7 % 100),
        currency: ITEM_CURRENCIES[index % ITEM_CURRENCIES.len()].into(),
        attributes: pairs(&attributes),
    }
}

fn pairs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).into(), (*value).into()))
        .collect()
}

fn date((year, month, day): (i32, u32, u32)) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

/// The request as the standard plugin's glue hands it to `pricing::price`
/// (fields in the order the host sends them).
pub fn native_request(request: &QuoteRequest) -> pricing::Request {
    let fields = |map: &BTreeMap<String, String>| {
        map.iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    };
    pricing::Request {
        currency: request.currency.clone(),
        variables: fields(&request.variables),
        items: request
            .items
            .iter()
            .map(|item| pricing::Item {
                id: item.id.clone(),
                quantity: item.quantity.clone(),
                unit_price: item.unit_price.clone(),
                currency: item.currency.clone(),
                attributes: fields(&item.attributes),
            })
            .collect(),
        rates: request
            .rates
            .iter()
            .map(|rate| pricing::Rate {
                base: rate.base.clone(),
                quote: rate.quote.clone(),
                rate: rate.rate.clone(),
            })
            .collect(),
    }
}

/// Panics unless the plugin's result carries the native rules' figures.
pub fn assert_same_prices(wasm: &QuoteResult, native: &pricing::Priced) {
    let lines = |result: &QuoteResult| {
        result
            .items
            .iter()
            .map(|line| (line.unit_price.clone(), line.total.clone()))
            .collect::<Vec<_>>()
    };
    let native_lines: Vec<_> = native
        .lines
        .iter()
        .map(|line| (line.unit_price.clone(), line.total.clone()))
        .collect();
    assert_eq!(lines(wasm), native_lines, "line prices differ");
    assert_eq!(
        (&wasm.subtotal, &wasm.tax, &wasm.total),
        (&native.subtotal, &native.tax, &native.total),
        "quote totals differ"
    );
}

/// The golden file of import-calc with 93 products.
pub fn import_calc_golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/import-calc/golden/test_raschet.json")
}

/// A golden scenario mapped onto a request, as the host's golden test does it.
pub fn golden_request(path: &Path) -> QuoteRequest {
    let scenario = golden_map::load_scenario(path);
    let input: CalculationInput = serde_json::from_value(scenario.request)
        .unwrap_or_else(|error| panic!("{}: not a calculation: {error}", path.display()));
    let rates = input.rates.clone().unwrap_or_default();
    let today = golden_map::QUOTE_DATE.parse().expect("an ISO date");
    input
        .into_request(today, rates)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// One calculation, ready to repeat from any task.
#[derive(Clone)]
pub struct Call {
    pub runtime: Arc<Runtime>,
    pub plugin: Arc<CompiledPlugin>,
    pub request: Arc<QuoteRequest>,
    pub limits: CallLimits,
}

impl Call {
    /// Loads the plugin into the runtime and prepares `request` under the runtime's
    /// calculation limits.
    pub fn new(tokio: &Tokio, runtime: Arc<Runtime>, bytes: &[u8], request: QuoteRequest) -> Self {
        let plugin = tokio
            .block_on(runtime.load_bytes(bytes.to_vec()))
            .unwrap_or_else(|error| panic!("the plugin does not load: {error}"));
        let limits = runtime.config().calculation_limits();
        Self {
            runtime,
            plugin,
            request: Arc::new(request),
            limits,
        }
    }

    /// Instantiates the plugin in a fresh store and prices the request.
    pub async fn once(&self) -> (QuoteResult, CallReport) {
        match self
            .runtime
            .calculate(&self.plugin, &self.request, &self.limits)
            .await
        {
            Ok(outcome) => (outcome.value, outcome.report),
            Err(failure) => panic!("the calculation failed: {failure}"),
        }
    }

    /// Makes `calls` calls spread evenly over `tasks` concurrent tokio tasks and
    /// returns the wall-clock time until the last one finished.
    pub fn concurrently(&self, tokio: &Tokio, tasks: u64, calls: u64) -> Duration {
        tokio.block_on(async {
            let started = Instant::now();
            let workers: Vec<_> = (0..tasks)
                .map(|task| {
                    let call = self.clone();
                    let share = calls / tasks + u64::from(task < calls % tasks);
                    tokio::spawn(async move {
                        for _ in 0..share {
                            std::hint::black_box(call.once().await);
                        }
                    })
                })
                .collect();
            for worker in workers {
                worker.await.expect("a benchmark task panicked");
            }
            started.elapsed()
        })
    }
}

/// Median time per operation over five rounds that share `budget`: `run(n)` performs
/// `n` operations and returns their time. A first batch doubles from one operation until
/// it takes a tenth of a round (warming up and calibrating); each round then runs ten
/// such batches. The median keeps one disturbed round from moving the figure.
pub fn median_time(budget: Duration, mut run: impl FnMut(u64) -> Duration) -> Duration {
    const ROUNDS: u32 = 5;
    let round = budget / ROUNDS;
    let mut batch = 1;
    while run(batch) < round / 10 {
        batch *= 2;
    }
    let operations = batch * 10;
    let mut rounds: Vec<Duration> = (0..ROUNDS)
        .map(|_| run(operations).div_f64(operations as f64))
        .collect();
    rounds.sort();
    rounds[rounds.len() / 2]
}
