//! The reference import-pricing rule set, compiled to a component and run through the
//! same runtime that serves HTTP, against every golden file in
//! `plugins/import-calc/golden/` (a new file dropped there is picked up).

use super::*;
use quote_host::contract::{CalculationInput, QuoteResult};
use quote_host::runtime::Outcome;
use std::path::Path;

#[path = "../../../plugins/import-calc/tests/golden_map.rs"]
mod golden_map;

fn actual<'r>(result: &'r QuoteResult, expectation: &golden_map::Expectation) -> Option<&'r str> {
    let breakdown = match expectation.item_index {
        Some(index) => &result.items.get(index)?.breakdown,
        None => &result.breakdown,
    };
    breakdown.get(&expectation.field)?.as_str()
}

/// Prices a mapped golden request (rates included) under the calculation limits, as
/// the server would; `name` says which in a failure.
async fn price(
    runtime: &Runtime,
    plugin: &CompiledPlugin,
    request: serde_json::Value,
    name: &str,
) -> (QuoteRequest, Outcome<QuoteResult>) {
    let input: CalculationInput = serde_json::from_value(request)
        .unwrap_or_else(|error| panic!("{name}: the mapped request is not a calculation: {error}"));
    let rates = input.rates.clone().unwrap_or_default();
    let request = input
        .into_request(chrono::Utc::now().date_naive(), rates)
        .unwrap();
    let limits = runtime.config().calculation_limits();
    let outcome = runtime
        .calculate(plugin, &request, &limits)
        .await
        .unwrap_or_else(|failure| panic!("{name}: {failure} (stderr: {})", failure.report.stderr));
    (request, outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_golden_scenario_matches_through_the_runtime() {
    let runtime = test_runtime(RuntimeConfig::default());
    let plugin = load(&runtime, "import-calc").await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/import-calc/golden");
    let files = golden_map::golden_files(&dir);
    assert!(!files.is_empty(), "no golden files in {}", dir.display());
    let mut misses = Vec::new();
    for path in files {
        let scenario = golden_map::load_scenario(&path);
        let (request, outcome) =
            price(&runtime, &plugin, scenario.request.clone(), &scenario.name).await;
        let mut matched = 0;
        let mut compared = 0;
        for expectation in scenario.all_expectations() {
            compared += 1;
            match expectation.check(actual(&outcome.value, expectation)) {
                Ok(()) => matched += 1,
                Err(miss) => misses.push(format!("{}: {miss}", scenario.name)),
            }
        }
        eprintln!(
            "{}: {matched}/{compared} values matched ({} items, {} fuel, {:?})",
            scenario.name,
            request.items.len(),
            outcome.report.fuel_used,
            outcome.report.duration
        );
        assert!(compared > 0, "{}: nothing to compare", scenario.name);
    }
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

/// Items of the largest quote below: the 93-product scenario five times over, whose
/// result (about 1 MiB of breakdown text) is near `runtime.max_result_bytes`.
const LARGE_QUOTE_COPIES: usize = 5;

/// import-calc allocates with a bump allocator (an instance lives for one call, so nothing
/// is freed): the largest quote whose result the host accepts still runs well inside the
/// default memory limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_import_calc_quote_fits_in_the_default_memory() {
    let runtime = test_runtime(RuntimeConfig::default());
    let plugin = load(&runtime, "import-calc").await;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/import-calc/golden/test_raschet.json");
    let mut request = golden_map::load_scenario(&path).request;
    let products = request["items"].as_array().unwrap().clone();
    let items: Vec<_> = (0..LARGE_QUOTE_COPIES)
        .flat_map(|copy| {
            products.iter().map(move |product| {
                let mut item = product.clone();
                item["id"] = format!("{copy}-{}", product["id"].as_str().unwrap()).into();
                item
            })
        })
        .collect();
    request["items"] = items.into();
    let (_, outcome) = price(&runtime, &plugin, request, "the largest quote").await;
    let limits = runtime.config().calculation_limits();
    assert_eq!(
        outcome.value.items.len(),
        LARGE_QUOTE_COPIES * products.len()
    );
    let peak = outcome.report.peak_memory_bytes;
    eprintln!(
        "{} items: {peak} bytes of memory",
        outcome.value.items.len()
    );
    assert!(
        peak <= limits.memory_bytes / 4,
        "{peak} bytes of {}",
        limits.memory_bytes
    );
}
