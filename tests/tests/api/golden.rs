//! The reference import-pricing rule set over HTTP: uploaded like any tenant's plugin,
//! it prices golden workbook scenarios through `POST /api/quotes/calculate`, with each
//! scenario's exchange rates stored as the server's own, to the workbook's values.

use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::path::Path;

#[path = "../../../plugins/import-calc/tests/golden_map.rs"]
mod golden_map;

/// Products in five currencies, each with a stored rate.
const MULTI_CURRENCY: &str = "test_raschet_multi_currency_correct_rate_2711.json";
/// The 93-product workbook; products without a purchase currency are `XXX` items, which
/// need no stored rate (the plugin prices them from their own rate attribute).
const NINETY_THREE: &str = "test_raschet.json";

async fn the_multi_currency_scenario_prices_over_http(backend: Backend) {
    prices_over_http(backend, MULTI_CURRENCY).await;
}

async fn the_93_product_scenario_prices_over_http(backend: Backend) {
    let request = prices_over_http(backend, NINETY_THREE).await;
    assert!(
        request["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["currency"] == golden_map::NO_CURRENCY),
        "the scenario has items in no currency, which must price without a stored rate"
    );
}

/// Prices `scenario` and checks every workbook value; returns the request it sent.
async fn prices_over_http(backend: Backend, scenario: &str) -> Value {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    admin
        .upload("import", plugin_bytes("import-calc"))
        .await
        .expect(201);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/import-calc/golden")
        .join(scenario);
    let scenario = golden_map::load_scenario(&path);

    // The scenario's rates become stored rates; the server supplies them itself.
    let mut request = scenario.request.clone();
    let rates = request.as_object_mut().unwrap().remove("rates").unwrap();
    for rate in rates.as_array().unwrap() {
        let date = rate["date"].as_str().unwrap();
        let triple = (
            rate["base"].as_str().unwrap(),
            rate["quote"].as_str().unwrap(),
            rate["rate"].as_str().unwrap(),
        );
        server.seed_rates(date, &[triple]).await;
    }
    request["plugin"] = json!("import@1");
    let priced = admin
        .post("/api/quotes/calculate", &request)
        .await
        .expect(200);
    let sorted = |rates: &Value| {
        let mut rates = rates.as_array().unwrap().clone();
        rates.sort_by_key(|rate| rate["quote"].as_str().unwrap().to_string());
        rates
    };
    assert_eq!(
        sorted(&priced.body["rates"]),
        sorted(&rates),
        "the plugin got exactly the scenario's rates"
    );

    let misses = scenario.misses_in_json(&priced.body["result"]);
    let compared = scenario.all_expectations().count();
    eprintln!(
        "{}: {}/{compared} values matched over HTTP",
        scenario.name,
        compared - misses.len()
    );
    assert!(compared > 0, "the scenario has workbook values to compare");
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses.join("\n")
    );
    request
}

on_both_databases!(
    the_multi_currency_scenario_prices_over_http,
    the_93_product_scenario_prices_over_http
);
