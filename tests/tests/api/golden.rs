//! The reference import-pricing rule set over HTTP: uploaded like any tenant's plugin,
//! it prices a golden workbook scenario through `POST /api/quotes/calculate`, with the
//! scenario's exchange rates stored as the server's own, to the workbook's values.

use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::path::Path;

#[path = "../../../plugins/import-calc/tests/golden_map.rs"]
mod golden_map;

const SCENARIO: &str = "test_raschet_multi_currency_correct_rate_2711.json";

async fn a_golden_scenario_prices_over_http(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    admin
        .upload("import", plugin_bytes("import-calc"))
        .await
        .expect(201);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/import-calc/golden")
        .join(SCENARIO);
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

    let result = &priced.body["result"];
    let mut misses = Vec::new();
    for expectation in scenario.all_expectations() {
        let breakdown = match expectation.item_index {
            Some(index) => &result["items"][index]["breakdown"],
            None => &result["breakdown"],
        };
        if let Err(miss) =
            expectation.check(breakdown.get(&expectation.field).and_then(Value::as_str))
        {
            misses.push(miss);
        }
    }
    let compared = scenario.all_expectations().count();
    eprintln!(
        "{}: {}/{compared} values matched over HTTP",
        scenario.name,
        compared - misses.len()
    );
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

on_both_databases!(a_golden_scenario_prices_over_http);
