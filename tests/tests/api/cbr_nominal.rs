//! Currencies the Central Bank quotes per 100 or per 10,000 units (JPY, VND), priced
//! from the real fixture with totals worked out by hand from `Value` / `Nominal`.

use quote_tests::fake_cbr::{FIXTURE, FakeCbr, Reply};
use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Waits until the start-up fetch has stored the fixture's day.
async fn wait_for_fixture_rates(admin: &Client) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while admin
        .get("/api/exchange-rates/JPY/RUB?date=2023-11-02")
        .await
        .status
        != 200
    {
        assert!(
            Instant::now() < deadline,
            "the start-up fetch did not store rates"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn rate_of<'a>(priced: &'a Value, base: &str) -> &'a Value {
    priced["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rate| rate["base"] == base)
        .unwrap_or_else(|| panic!("no {base} rate in {}", priced["rates"]))
}

async fn yen_and_dong_are_priced_per_unit_not_per_nominal(backend: Backend) {
    let cbr = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let server = TestServer::start_with(backend, |config| {
        config.exchange_rates.enabled = true;
        config.exchange_rates.fetch_on_start = true;
        config.exchange_rates.source_url = cbr.url.clone();
        config.exchange_rates.retries = 0;
    })
    .await;
    let admin = server.admin();
    wait_for_fixture_rates(&admin).await;

    // The fixture (02.11.2023):
    //   JPY  Nominal 100    Value 61,6524  ->  1 JPY = 61.6524 / 100    = 0.616524 RUB
    //   VND  Nominal 10000  Value 38,7231  ->  1 VND = 38.7231 / 10000  = 0.00387231 RUB
    // Standard rules, no markup or discount, VAT 20 %, rounding half away from zero:
    //   JPY line: 1234 × 0.616524 = 760.790616 -> unit 760.79; × 3 = 2282.37
    //   VND line: 250000 × 0.00387231 = 968.0775 -> unit 968.08; × 2 = 1936.16
    //   subtotal 2282.37 + 1936.16 = 4218.53
    //   VAT 4218.53 × 20 / 100 = 843.706 -> 843.71
    //   total 4218.53 + 843.71 = 5062.24
    let body = json!({"currency": "RUB", "date": "2023-11-02", "items": [
        {"sku": "J", "quantity": "3", "unit_price": "1234", "currency": "JPY"},
        {"sku": "V", "quantity": "2", "unit_price": "250000", "currency": "VND"}]});
    let priced = admin
        .post("/api/quotes/calculate", &body)
        .await
        .expect(200)
        .body;
    assert_eq!(rate_of(&priced, "JPY")["rate"], "0.616524");
    assert_eq!(rate_of(&priced, "VND")["rate"], "0.00387231");
    let result = &priced["result"];
    assert_eq!(result["items"][0]["unit_price"], "760.79", "{result}");
    assert_eq!(result["items"][0]["total"], "2282.37");
    assert_eq!(result["items"][1]["unit_price"], "968.08");
    assert_eq!(result["items"][1]["total"], "1936.16");
    assert_eq!(result["subtotal"], "4218.53");
    assert_eq!(result["tax"], "843.71");
    assert_eq!(result["total"], "5062.24");

    // A yen quote (no minor unit) for a rouble item, through the inverse:
    //   1 RUB = 1 / 0.616524 JPY = 1.62199687... JPY
    //   1000 RUB -> 1621.99687... -> 1622 JPY; VAT 0 -> total 1622
    let body = json!({"currency": "JPY", "date": "2023-11-02", "variables": {"vat_percent": "0"},
                      "items": [{"sku": "R", "quantity": "1", "unit_price": "1000", "currency": "RUB"}]});
    let priced = admin
        .post("/api/quotes/calculate", &body)
        .await
        .expect(200)
        .body;
    assert_eq!(rate_of(&priced, "JPY")["rate"], "0.616524");
    assert_eq!(priced["result"]["items"][0]["unit_price"], "1622");
    assert_eq!(priced["result"]["total"], "1622");
}

on_both_databases!(yen_and_dong_are_priced_per_unit_not_per_nominal);
