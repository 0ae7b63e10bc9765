//! `accepted_by_month` of `GET /api/dashboard/stats`: the last `dashboard.chart_months`
//! calendar months, oldest first, every month present, currencies apart and zeros where
//! nothing was accepted; the knob at both ends of its range, and refused beyond them.

use chrono::{DateTime, Duration, Months, Utc};
use quote_host::dashboard::month_window;
use quote_tests::bulk::{execute, set_created_at};
use quote_tests::server::test_config;
use quote_tests::{Backend, Client, TestDatabase, TestServer, on_both_databases};
use serde_json::{Value, json};

/// Prices a one-line RUB quote (no rates needed), sends and accepts it; its number and
/// total.
async fn accepted_quote(admin: &Client, unit_price: &str) -> (String, String) {
    let body = json!({"currency": "RUB", "date": "2026-11-29", "items": [
        {"sku": "A-1", "quantity": "2", "unit_price": unit_price, "currency": "RUB"}]});
    let quote = admin.post("/api/quotes", &body).await.expect(201).body;
    let id = quote["id"].as_str().unwrap();
    admin.accept_quote(id).await;
    (
        quote["number"].as_str().unwrap().to_string(),
        quote["total"].as_str().unwrap().to_string(),
    )
}

/// Moves the quote `number` into the month `back` months before this one (mid-month);
/// 0 leaves it in this month.
async fn move_back(server: &TestServer, number: &str, back: u32) {
    if back == 0 {
        return;
    }
    let at = months_back(back) + Duration::days(14);
    set_created_at(server.database.backend, &server.database.url, number, at).await;
}

fn months_back(back: u32) -> DateTime<Utc> {
    month_window(Utc::now(), 1).month_start - Months::new(back)
}

/// `YYYY-MM` of each month of a series of `months`, oldest first.
fn expected_months(months: u32) -> Vec<String> {
    (0..months)
        .rev()
        .map(|back| months_back(back).format("%Y-%m").to_string())
        .collect()
}

fn totals(currency: &str, count: i64, total: &str) -> Value {
    json!({"currency": currency, "count": count, "total": total})
}

async fn series_of(admin: &Client) -> (Vec<Value>, Value) {
    let stats = admin.get("/api/dashboard/stats").await.expect(200);
    let series = stats.body["accepted_by_month"]
        .as_array()
        .unwrap_or_else(|| panic!("no accepted_by_month: {}", stats.text))
        .clone();
    (series, (*stats.body).clone())
}

async fn documented_months(server: &TestServer) -> (Value, Value) {
    let document = server.openapi().await;
    let field =
        &document["components"]["schemas"]["DashboardStats"]["properties"]["accepted_by_month"];
    (field["minItems"].clone(), field["maxItems"].clone())
}

async fn every_month_of_the_series_is_charted(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    let (_, this_month) = accepted_quote(&admin, "100.25").await;
    let (three_back, three_back_total) = accepted_quote(&admin, "40.10").await;
    move_back(&server, &three_back, 3).await;
    let (too_old, _) = accepted_quote(&admin, "999").await;
    move_back(&server, &too_old, 12).await;
    let (dollars, dollars_total) = accepted_quote(&admin, "7.50").await;
    move_back(&server, &dollars, 1).await;
    execute(
        &server,
        &format!("UPDATE quotes SET currency = 'USD' WHERE number = '{dollars}'"),
    )
    .await;
    // A quote not accepted counts nowhere.
    let draft = json!({"currency": "RUB", "date": "2026-11-29", "items": [
        {"sku": "D-1", "quantity": "1", "unit_price": "5000", "currency": "RUB"}]});
    admin.post("/api/quotes", &draft).await.expect(201);

    let (series, stats) = series_of(&admin).await;
    let months: Vec<&str> = series
        .iter()
        .map(|month| month["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, expected_months(12));
    for (index, month) in series.iter().enumerate() {
        let expected = match index {
            8 => [totals("RUB", 1, &three_back_total), totals("USD", 0, "0")],
            10 => [totals("RUB", 0, "0"), totals("USD", 1, &dollars_total)],
            11 => [totals("RUB", 1, &this_month), totals("USD", 0, "0")],
            _ => [totals("RUB", 0, "0"), totals("USD", 0, "0")],
        };
        assert_eq!(month["accepted"], json!(expected), "month {index}");
    }
    assert_eq!(
        stats["accepted"][0]["this_month"]["total"],
        this_month.as_str()
    );
    assert_eq!(
        stats["accepted"][1]["last_month"]["total"],
        dollars_total.as_str()
    );
    assert_eq!(documented_months(&server).await, (json!(12), json!(12)));
}

async fn the_series_spans_one_month_at_the_least_and_36_at_the_most(backend: Backend) {
    for months in [1, 36] {
        let server =
            TestServer::start_with(backend, |config| config.dashboard.chart_months = months).await;
        let admin = server.admin();
        let (oldest, total) = accepted_quote(&admin, "12.34").await;
        move_back(&server, &oldest, months - 1).await;
        let (before, _) = accepted_quote(&admin, "56.78").await;
        move_back(&server, &before, months).await;

        let (series, _) = series_of(&admin).await;
        assert_eq!(series.len(), months as usize);
        let listed: Vec<&str> = series
            .iter()
            .map(|m| m["month"].as_str().unwrap())
            .collect();
        assert_eq!(listed, expected_months(months));
        assert_eq!(series[0]["accepted"], json!([totals("RUB", 1, &total)]));
        let counted: i64 = series
            .iter()
            .map(|month| month["accepted"][0]["count"].as_i64().unwrap())
            .sum();
        assert_eq!(counted, 1, "the quote a month before the series is out");
        let documented = documented_months(&server).await;
        assert_eq!(documented, (json!(months), json!(months)));
    }
}

on_both_databases!(
    every_month_of_the_series_is_charted,
    the_series_spans_one_month_at_the_least_and_36_at_the_most
);

/// 0 and 37 months stop the start with a message naming the setting.
#[tokio::test]
async fn chart_months_beyond_the_range_are_refused_at_start() {
    for months in [0, 37] {
        let database = TestDatabase::create(Backend::Sqlite).await;
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = test_config(data_dir.path(), &database.url);
        config.dashboard.chart_months = months;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let started = quote_host::run(config, listener, std::future::pending()).await;
        let error = started.expect_err("the server must not start").to_string();
        assert_eq!(
            error,
            format!("dashboard.chart_months must be 1 to 36, got {months}")
        );
    }
}
