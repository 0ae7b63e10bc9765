//! Runs every golden scenario in `golden/*.json` through the rules natively and compares every
//! expected value (per product and quote-level) with the file's tolerance.

mod golden_map;
mod support;

use golden_map::{Scenario, golden_files, load_scenario};
use import_calc::{Priced, price};
use std::io::Write;
use std::path::Path;
use support::request_from_json;

/// (matched, compared, misses) of one scenario.
fn compare(scenario: &Scenario, priced: &Priced) -> (usize, usize, Vec<String>) {
    let mut misses = Vec::new();
    let mut compared = 0;
    for expectation in scenario.all_expectations() {
        compared += 1;
        let actual = match expectation.item_index {
            Some(index) => priced
                .lines
                .get(index)
                .and_then(|line| line.get(&expectation.field)),
            None => priced.get(&expectation.field),
        };
        if let Err(miss) = expectation.check(actual) {
            misses.push(format!("{}: {miss}", scenario.name));
        }
    }
    (compared - misses.len(), compared, misses)
}

#[test]
fn every_golden_scenario_matches() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let files = golden_files(&dir);
    assert!(!files.is_empty(), "no golden files in {}", dir.display());
    let mut failures = Vec::new();
    // Written to stderr directly so the summary shows without --nocapture.
    let mut out = std::io::stderr();
    for path in files {
        let scenario = load_scenario(&path);
        let request = request_from_json(&scenario.request);
        assert_eq!(
            request.items.len(),
            scenario.request["items"].as_array().unwrap().len()
        );
        let summary = match price(&request) {
            Ok(priced) => {
                assert_eq!(priced.lines.len(), request.items.len());
                let (matched, compared, misses) = compare(&scenario, &priced);
                failures.extend(misses);
                format!("{}: {matched}/{compared} values matched\n", scenario.name)
            }
            Err(error) => {
                failures.push(format!("{}: {error}", scenario.name));
                let compared = scenario.all_expectations().count();
                format!("{}: 0/{compared} values matched ({error})\n", scenario.name)
            }
        };
        out.write_all(summary.as_bytes()).unwrap();
    }
    assert!(
        failures.is_empty(),
        "{} misses:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_requests_use_rate_records_where_a_record_can_say_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let scenario = load_scenario(&dir.join("test_raschet_multi_currency_correct_rate_2711.json"));
    let request = &scenario.request;
    assert_eq!(request["currency"], "EUR");
    let rates = request["rates"].as_array().unwrap();
    let try_rate = rates.iter().find(|r| r["quote"] == "TRY").unwrap();
    assert_eq!(try_rate["base"], "EUR");
    assert_eq!(try_rate["rate"], "49.1889");
    // EUR in an EUR quote with Q = 1: no record, no attribute.
    let eur = request["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["currency"] == "EUR")
        .unwrap();
    assert!(
        eur["attributes"]
            .get("exchange_rate_base_price_to_quote")
            .is_none()
    );
    assert_eq!(request["variables"]["customs_logistics_pmt_due"], "0");
    assert!(request["variables"].get("currency_of_quote").is_none());
    assert!(request["variables"].get("delivery_date").is_none());

    // A price in the quote currency with Q != 1 (EUR in an EUR quote at 1.15) cannot be a
    // rate record: it goes into the item attribute.
    let scenario = load_scenario(&dir.join("test_raschet_multi_currency.json"));
    let items = scenario.request["items"].as_array().unwrap();
    let eur = items.iter().find(|i| i["currency"] == "EUR").unwrap();
    assert_eq!(
        eur["attributes"]["exchange_rate_base_price_to_quote"],
        "1.15"
    );
    assert_eq!(scenario.request["rates"].as_array().unwrap().len(), 4);

    // No purchase currency in the 93-product workbooks: Q goes into the item attribute.
    let scenario = load_scenario(&dir.join("test_raschet.json"));
    let item = &scenario.request["items"][0];
    assert_eq!(item["currency"], golden_map::NO_CURRENCY);
    assert_eq!(
        item["attributes"]["exchange_rate_base_price_to_quote"],
        "7.14"
    );
    assert_eq!(item["attributes"]["supplier_country"], "Китай");
    assert_eq!(item["id"], "16");
    assert_eq!(scenario.expectations.len(), 93 * 31);
    assert_eq!(scenario.quote_expectations.len(), 29);
    let profit = scenario
        .expectations
        .iter()
        .find(|e| e.field == "profit")
        .unwrap();
    assert_eq!((profit.item_index, profit.cell.as_str()), (Some(0), "AF16"));
    let bh2 = scenario
        .quote_expectations
        .iter()
        .find(|e| e.cell == "BH2")
        .unwrap();
    assert_eq!(bh2.field, "quote_level_evaluated_revenue");
}

#[test]
fn plain_decimal_never_has_an_exponent() {
    use golden_map::plain_decimal;
    assert_eq!(plain_decimal("1.5e-7"), "0.00000015");
    assert_eq!(plain_decimal("-2.5E3"), "-2500");
    assert_eq!(plain_decimal("1e16"), "10000000000000000");
    assert_eq!(plain_decimal("0.00047"), "0.00047");
    assert_eq!(golden_map::text(&serde_json::json!(1.0e-7)), "0.0000001");
    assert_eq!(
        golden_map::quote_field("BH2"),
        "quote_level_evaluated_revenue"
    );
    let tolerance = golden_map::Tolerance {
        absolute: 0.01,
        relative: 0.001,
    };
    assert!(tolerance.allows(1000.9, 1000.0) && !tolerance.allows(1001.1, 1000.0));
    assert!(tolerance.allows(0.009, 0.0) && !tolerance.allows(0.011, 0.0));
}

#[test]
fn every_golden_input_is_a_declared_variable_in_its_scope() {
    use import_calc::variables::{Scope, VARIABLES};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    for path in golden_files(&dir) {
        let scenario = load_scenario(&path);
        let declared = |name: &str| VARIABLES.iter().find(|v| v.name == name);
        for name in scenario.request["variables"].as_object().unwrap().keys() {
            let spec = declared(name).unwrap_or_else(|| panic!("{name} is not declared"));
            assert_ne!(spec.scope, Scope::Item, "{name}");
        }
        for item in scenario.request["items"].as_array().unwrap() {
            for name in item["attributes"].as_object().unwrap().keys() {
                let spec = declared(name).unwrap_or_else(|| panic!("{name} is not declared"));
                assert_ne!(spec.scope, Scope::Quote, "{name}");
            }
        }
    }
}
