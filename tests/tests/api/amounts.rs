//! Quantities, unit prices and amounts have documented maxima: quotes at them are stored,
//! accepted and summed by the dashboard; one beyond them answers 422 naming the field;
//! and totals stored before the maxima existed (4e28 each) still give a dashboard, never
//! a 500.

use quote_tests::bulk::execute;
use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};

/// The defaults of `calculations.max_quantity`, `max_unit_price` and `max_amount`.
const MAX_QUANTITY: &str = "1000000000";
const MAX_UNIT_PRICE: &str = "1000000000000";
const MAX_AMOUNT: &str = "1000000000000000";

/// A one-line RUB quote priced by `exact` (hostile-slow-ok: line total = unit price x
/// quantity, no tax, so the totals are known).
fn exact_quote(quantity: &str, unit_price: &str) -> Value {
    json!({
        "currency": "RUB",
        "plugin": "exact",
        "items": [{"sku": "BIG", "quantity": quantity, "unit_price": unit_price, "currency": "RUB"}]
    })
}

async fn with_exact_plugin(server: &TestServer) -> Client {
    let admin = server.admin();
    admin
        .upload("exact", plugin_bytes("hostile-slow-ok"))
        .await
        .expect(201);
    admin
        .post("/api/plugins/exact/activate", &json!({"version": 1}))
        .await
        .expect(200);
    admin
}

async fn amounts_at_their_maxima_pass_and_beyond_them_name_the_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = with_exact_plugin(&server).await;

    // At the limits: the largest quantity and the largest unit price, each with a total
    // of exactly the largest amount.
    for (quantity, unit_price) in [(MAX_QUANTITY, "1000000"), ("1000", MAX_UNIT_PRICE)] {
        let quote = admin
            .post("/api/quotes", &exact_quote(quantity, unit_price))
            .await
            .expect(201);
        assert_eq!(quote.body["total"], MAX_AMOUNT, "{}", quote.text);
        admin.accept_quote(quote.body["id"].as_str().unwrap()).await;
    }
    let stats = admin.get("/api/dashboard/stats").await.expect(200);
    let rub = &stats.body["accepted"][0];
    assert_eq!(rub["currency"], "RUB", "{}", stats.text);
    assert_eq!(rub["this_month"]["count"], 2);
    assert_eq!(rub["this_month"]["total"], "2000000000000000");
    assert_eq!(rub["this_month"]["average"], MAX_AMOUNT);

    // Beyond them: 422 naming the field, before anything is stored.
    let beyond = [
        (("1000000000.0001", "1"), "items[0].quantity"),
        (("-1000000001", "1"), "items[0].quantity"),
        (("1", "1000000000000.01"), "items[0].unit_price"),
        ((MAX_QUANTITY, "1000000.01"), "result.total"),
        (("1", &"9".repeat(40)), "items[0].unit_price"),
    ];
    for ((quantity, unit_price), field) in beyond {
        let body = exact_quote(quantity, unit_price);
        for path in ["/api/quotes", "/api/quotes/calculate"] {
            let refused = admin
                .post(path, &body)
                .await
                .expect_error(422, "amount_out_of_range");
            assert_eq!(refused.body["error"]["details"]["field"], field);
            let message = refused.body["error"]["message"].as_str().unwrap();
            assert!(message.contains(field), "{message}");
        }
    }
    let malformed = admin
        .post("/api/quotes", &exact_quote("1e3", "1"))
        .await
        .expect_error(422, "invalid_amount");
    assert_eq!(
        malformed.body["error"]["details"]["field"],
        "items[0].quantity"
    );
    let listed = admin.get("/api/quotes").await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
}

/// Sets stored columns of the quote numbered `number` (text for SQLite, which stores
/// decimals and times as text; literals PostgreSQL casts).
async fn tamper(server: &TestServer, number: &str, assignments: &str) {
    execute(
        server,
        &format!("UPDATE quotes SET {assignments} WHERE number = '{number}'"),
    )
    .await;
}

async fn totals_stored_beyond_the_maxima_still_give_a_dashboard(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = with_exact_plugin(&server).await;
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let quote = admin
            .post("/api/quotes", &exact_quote("1", "1"))
            .await
            .expect(201);
        admin.accept_quote(quote.body["id"].as_str().unwrap()).await;
        numbers.push(quote.body["number"].as_str().unwrap().to_string());
    }
    // Two accepted quotes of 4e28 this month (their sum is beyond a decimal's range) and
    // a tiny one last month (the trend from it is beyond the range too).
    for number in &numbers[..2] {
        tamper(&server, number, "total = '40000000000000000000000000000'").await;
    }
    let window = quote_host::dashboard::month_window(chrono::Utc::now(), 12);
    let last_month = window.prev_month_start + chrono::Duration::days(1);
    let last_month = match backend {
        Backend::Sqlite => last_month.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        Backend::Postgres => last_month.to_rfc3339(),
    };
    tamper(
        &server,
        &numbers[2],
        &format!("total = '0.0001', created_at = '{last_month}'"),
    )
    .await;

    let stats = admin.get("/api/dashboard/stats").await.expect(200);
    let rub = &stats.body["accepted"][0];
    assert_eq!(rub["this_month"]["count"], 2, "{}", stats.text);
    assert_eq!(
        rub["this_month"]["total"], "79228162514264337593543950335",
        "the sum saturates at the largest decimal"
    );
    assert_eq!(rub["last_month"]["total"], "0.0001");
    assert_eq!(rub["trend_percent"], Value::Null);
}

on_both_databases!(
    amounts_at_their_maxima_pass_and_beyond_them_name_the_field,
    totals_stored_beyond_the_maxima_still_give_a_dashboard
);
