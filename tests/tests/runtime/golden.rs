//! The reference import-pricing rule set, compiled to a component and run through the
//! same runtime that serves HTTP, against every golden file in
//! `plugins/import-calc/golden/` (a new file dropped there is picked up).

use super::*;
use quote_host::contract::{CalculationInput, QuoteResult};
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
        let input: CalculationInput = serde_json::from_value(scenario.request.clone())
            .unwrap_or_else(|error| {
                panic!(
                    "{}: the mapped request is not a calculation: {error}",
                    scenario.name
                )
            });
        let rates = input.rates.clone().unwrap_or_default();
        let request = input
            .into_request(chrono::Utc::now().date_naive(), rates)
            .unwrap();
        let limits = runtime.config().calculation_limits();
        let outcome = runtime
            .calculate(&plugin, &request, &limits)
            .await
            .unwrap_or_else(|failure| {
                panic!(
                    "{}: {failure} (stderr: {})",
                    scenario.name, failure.report.stderr
                )
            });
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
