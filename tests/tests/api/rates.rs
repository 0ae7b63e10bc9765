//! Exchange rates over HTTP: fetched at start from a (fake) Central Bank endpoint serving
//! the real fixture, looked up directly, inverted and crossed, refreshed by an admin,
//! and used by calculations.

use quote_tests::fake_cbr::{FIXTURE, FakeCbr, Reply};
use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::json;
use std::time::{Duration, Instant};

async fn rates_arrive_and_feed_calculations(backend: Backend) {
    let cbr = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let server = TestServer::start_with(backend, |config| {
        config.exchange_rates.enabled = true;
        config.exchange_rates.fetch_on_start = true;
        config.exchange_rates.source_url = cbr.url.clone();
        config.exchange_rates.retries = 0;
    })
    .await;
    let admin = server.admin();
    let deadline = Instant::now() + Duration::from_secs(20);
    while admin
        .get("/api/exchange-rates/USD/RUB?date=2023-11-02")
        .await
        .status
        != 200
    {
        assert!(
            Instant::now() < deadline,
            "the start-up fetch did not store rates"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(cbr.hits(), 1, "one fetch at start");

    let table = admin
        .get("/api/exchange-rates?date=2023-11-02")
        .await
        .expect(200);
    assert_eq!(table.body["items"].as_array().unwrap().len(), 43);
    let usd = admin
        .get("/api/exchange-rates/USD/RUB?date=2023-11-02")
        .await
        .expect(200);
    assert_eq!(
        (usd.body["rate"].as_str(), usd.body["derivation"].as_str()),
        (Some("93.2801"), Some("direct"))
    );
    let jpy = admin.get("/api/exchange-rates/JPY/RUB").await.expect(200);
    assert_eq!(
        jpy.body["rate"], "0.616524",
        "per yen: the central bank quotes 100 yen"
    );
    assert_eq!(jpy.body["sources"][0]["nominal"], 100);
    let inverse = admin.get("/api/exchange-rates/RUB/USD").await.expect(200);
    assert_eq!(
        (
            inverse.body["rate"].as_str(),
            inverse.body["derivation"].as_str()
        ),
        (Some("0.0107204002"), Some("inverse"))
    );
    let cross = admin.get("/api/exchange-rates/USD/EUR").await.expect(200);
    assert_eq!(cross.body["derivation"], "cross");
    assert_eq!(cross.body["sources"].as_array().unwrap().len(), 2);
    admin
        .get("/api/exchange-rates/USD/XYZ")
        .await
        .expect_error(404, "rate_not_found");
    admin
        .get("/api/exchange-rates/USD/RUB?date=2020-01-01")
        .await
        .expect_error(404, "rate_not_found");
    admin
        .get("/api/exchange-rates/US/RUB")
        .await
        .expect_error(400, "invalid_currency");

    // A calculation dated that day is priced with the stored rate.
    let body = json!({"currency": "RUB", "date": "2023-11-02", "variables": {"vat_percent": "0"},
                      "items": [{"sku": "A", "quantity": "2", "unit_price": "10", "currency": "USD"}]});
    let priced = admin.post("/api/quotes/calculate", &body).await.expect(200);
    assert_eq!(priced.body["rates"][0]["rate"], "93.2801");
    assert_eq!(priced.body["result"]["total"], "1865.60");

    // A refresh takes the same path: the day is stored already, nothing new.
    let refreshed = admin
        .post("/api/exchange-rates/refresh", &json!({}))
        .await
        .expect(200);
    assert_eq!(refreshed.body["outcome"], "success");
    assert_eq!(refreshed.body["rates_stored"], 0);
    assert_eq!(refreshed.body["rate_date"], "2023-11-02");
    let member_key = admin
        .post("/api/api-keys", &json!({"name": "m", "role": "member"}))
        .await
        .expect(201);
    let member = server.client(member_key.body["key_secret"].as_str().unwrap());
    member
        .post("/api/exchange-rates/refresh", &json!({}))
        .await
        .expect_error(403, "forbidden");
    cbr.set_reply(Reply::Status(500));
    let failed = admin
        .post("/api/exchange-rates/refresh", &json!({}))
        .await
        .expect_error(502, "rate_fetch_failed");
    assert_eq!(failed.body["error"]["details"]["outcome"], "failed");

    let health = admin.get("/api/health/detailed").await.expect(200);
    let job = &health.body["exchange_rates"];
    assert_eq!(job["last_run"]["outcome"], "failed", "{job}");
    assert!(job["next_run"].is_string(), "{job}");
}

on_both_databases!(rates_arrive_and_feed_calculations);
