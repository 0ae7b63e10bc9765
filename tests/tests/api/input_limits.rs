//! What one calculation may carry, over HTTP: every identifier and text field and every
//! count at its limit and one over (422 naming the field, before any plugin runs), the
//! 5,000-item limit, and user text that is never repeated back at length, neither in an
//! error nor in the activity log.

use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

/// A calculation the demo organization's standard plugin prices, with `items` items.
fn calculation(items: usize) -> Value {
    let items: Vec<Value> = (0..items)
        .map(|n| json!({"sku": format!("SKU-{n}"), "quantity": "1", "unit_price": "2.50", "currency": "RUB"}))
        .collect();
    json!({"currency": "RUB", "date": "2026-11-29", "items": items})
}

/// Sets one field of a one-item calculation to `chars` characters.
type Field = fn(&mut Value, usize);

/// Each bounded field: where it is, its default limit, how to fill it to a length, and
/// what answers a request within the bound (200, or the variable check that comes next).
#[rustfmt::skip]
const FIELDS: &[(&str, usize, Field, u16)] = &[
    ("items[0].id", 128, |body, n| body["items"][0]["id"] = json!("i".repeat(n)), 200),
    ("items[0].sku", 128, |body, n| body["items"][0]["sku"] = json!("s".repeat(n)), 200),
    // Two-byte characters: the limit counts characters, as JSON Schema's maxLength does.
    ("items[0].name", 1024, |body, n| body["items"][0]["name"] = json!("é".repeat(n)), 200),
    // Empty tiers are skipped by the standard plugin: "10:5,,,,..." is a valid value.
    ("variables.discount_tiers", 1024, |body, n| body["variables"] = json!({"discount_tiers": tiers(n)}), 200),
    ("items[0].attributes.discount_tiers", 1024, |body, n| body["items"][0]["attributes"] = json!({"discount_tiers": tiers(n)}), 200),
    // An undeclared name within the bound reaches the variable check.
    ("variables (the name", 128, |body, n| body["variables"] = json!({"k".repeat(n): "1"}), 422),
    ("items[0].attributes (the name", 128, |body, n| body["items"][0]["attributes"] = json!({"k".repeat(n): "1"}), 422),
    ("plugin", 75, |body, n| body["plugin"] = json!("p".repeat(n)), 404),
];

fn tiers(chars: usize) -> String {
    format!("10:5{}", ",".repeat(chars - 4))
}

/// Asserts a 422 `code` whose message and details name `field`.
fn assert_refused(reply: quote_tests::server::Reply, code: &str, field: &str, limit: usize) {
    let reply = reply.expect_error(422, code);
    let error = &reply.body["error"];
    assert!(
        error["details"]["field"]
            .as_str()
            .unwrap()
            .starts_with(field),
        "{field}: {}",
        reply.text
    );
    assert_eq!(error["details"]["limit"], limit, "{}", reply.text);
    assert!(
        error["message"].as_str().unwrap().contains(field),
        "the message names {field}: {}",
        reply.text
    );
}

async fn every_text_field_is_bounded_at_its_limit(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    for (field, limit, fill, within) in FIELDS {
        let mut at_limit = calculation(1);
        fill(&mut at_limit, *limit);
        let reply = admin.post("/api/quotes/calculate", &at_limit).await;
        assert_eq!(
            reply.status.as_u16(),
            *within,
            "{field} at {limit}: {}",
            reply.text
        );
        if *within != 200 {
            assert_ne!(reply.code(), "field_too_long", "{field} at its limit");
        }
        let mut over = calculation(1);
        fill(&mut over, limit + 1);
        let reply = admin.post("/api/quotes/calculate", &over).await;
        assert_refused(reply, "field_too_long", field, *limit);
    }
    // Stored quotes are bounded the same way.
    let mut over = calculation(1);
    over["items"][0]["sku"] = json!("s".repeat(129));
    let reply = admin.post("/api/quotes", &over).await;
    assert_refused(reply, "field_too_long", "items[0].sku", 128);
}

async fn counts_and_currencies_are_bounded(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.input_limits.max_variables = 3;
        config.input_limits.max_attributes = 2;
    })
    .await;
    let admin = server.admin();
    let declared = json!({"markup_percent": "1", "discount_tiers": "", "vat_percent": "20"});
    let mut at_limit = calculation(1);
    at_limit["variables"] = declared.clone();
    at_limit["items"][0]["attributes"] = json!({"markup_percent": "1", "discount_tiers": ""});
    admin
        .post("/api/quotes/calculate", &at_limit)
        .await
        .expect(200);
    let mut variables = at_limit.clone();
    variables["variables"]["extra"] = json!("1");
    let reply = admin.post("/api/quotes/calculate", &variables).await;
    assert_refused(reply, "too_many_variables", "variables", 3);
    let mut attributes = at_limit.clone();
    attributes["items"][0]["attributes"]["extra"] = json!("1");
    let reply = admin.post("/api/quotes/calculate", &attributes).await;
    assert_refused(reply, "too_many_attributes", "items[0].attributes", 2);
    for bad in ["0", "rub", "RUBX", ""] {
        let mut quote = calculation(1);
        quote["currency"] = json!(bad);
        let reply = admin.post("/api/quotes/calculate", &quote).await;
        assert_refused(reply, "invalid_currency", "currency", 3);
        let mut item = calculation(1);
        item["items"][0]["currency"] = json!(bad);
        let reply = admin.post("/api/quotes/calculate", &item).await;
        assert_refused(reply, "invalid_currency", "items[0].currency", 3);
    }
}

async fn five_thousand_items_are_priced_and_one_more_is_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    let priced = admin
        .post("/api/quotes/calculate", &calculation(5_000))
        .await
        .expect(200);
    assert_eq!(
        priced.body["result"]["items"].as_array().unwrap().len(),
        5_000
    );
    let reply = admin
        .post("/api/quotes/calculate", &calculation(5_001))
        .await;
    assert_refused(reply, "too_many_items", "items", 5_000);
    // Refused before a plugin ran: the failure carries no sandbox report.
    let reply = admin.post("/api/quotes", &calculation(5_001)).await;
    let reply = reply.expect_error(422, "too_many_items");
    assert!(reply.body["error"]["details"]["fuel_used"].is_null());
    // The limit is a setting.
    let small = TestServer::start_with(backend, |config| config.input_limits.max_items = 2).await;
    let admin = small.admin();
    admin
        .post("/api/quotes/calculate", &calculation(2))
        .await
        .expect(200);
    let reply = admin.post("/api/quotes/calculate", &calculation(3)).await;
    assert_refused(reply, "too_many_items", "items", 2);
}

/// The newest activity entry of `action`, waiting for the batching writer.
async fn newest_activity(admin: &Client, action: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = admin
            .get(&format!("/api/activity-logs?action={action}&limit=1"))
            .await
            .expect(200);
        if let Some(entry) = page.body["items"].get(0) {
            return entry.clone();
        }
        assert!(Instant::now() < deadline, "no {action} entry within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two items sharing an id of `bytes` bytes.
fn duplicate_ids(bytes: usize) -> Value {
    let mut body = calculation(2);
    let id = "d".repeat(bytes);
    body["items"][0]["id"] = json!(id);
    body["items"][1]["id"] = json!(id);
    body
}

async fn a_huge_duplicate_id_gets_a_short_error_and_a_short_activity_row(backend: Backend) {
    // With the default id limit, a 4 MiB id is refused for its length, in a few words.
    let server =
        TestServer::start_with(backend, |config| config.activity.flush_interval_ms = 20).await;
    let admin = server.admin();
    let reply = admin
        .post("/api/quotes/calculate", &duplicate_ids(4 * MIB))
        .await;
    assert!(reply.text.len() < 1024, "{} bytes", reply.text.len());
    assert_refused(reply, "field_too_long", "items[0].id", 128);
    let entry = newest_activity(&admin, "quote.calculate").await;
    assert!(entry.to_string().len() < 2048, "{entry}");

    // With ids allowed to be that long, the duplicate is found, and the id is repeated
    // only up to `http.max_echoed_text_bytes`, in the answer and in the activity log.
    let server = TestServer::start_with(backend, |config| {
        config.activity.flush_interval_ms = 20;
        config.input_limits.max_item_id_chars = 8 * MIB;
    })
    .await;
    let admin = server.admin();
    let reply = admin
        .post("/api/quotes/calculate", &duplicate_ids(4 * MIB))
        .await
        .expect_error(400, "invalid_request");
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.len() <= 512 + 32, "{} bytes", message.len());
    assert!(message.starts_with("items[1].id 'ddd"), "{message}");
    // "items[1].id '<id>' is used by another item"
    let message_bytes = 4 * MIB + "items[1].id '' is used by another item".len();
    assert!(
        message.ends_with(&format!("… ({} more bytes cut)", message_bytes - 512)),
        "{message}"
    );
    let entry = newest_activity(&admin, "quote.calculate").await;
    let logged = entry["metadata"]["error"].as_str().unwrap();
    assert!(logged.len() <= 512 + 32, "{} bytes", logged.len());
    assert!(
        entry.to_string().len() < 2048,
        "{} bytes",
        entry.to_string().len()
    );

    // The bound is a setting too.
    let server = TestServer::start_with(backend, |config| {
        config.http.max_echoed_text_bytes = 64;
        config.input_limits.max_item_id_chars = 8 * MIB;
    })
    .await;
    let reply = server
        .admin()
        .post("/api/quotes/calculate", &duplicate_ids(MIB))
        .await
        .expect_error(400, "invalid_request");
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.len() <= 64 + 32, "{message}");
}

on_both_databases!(
    every_text_field_is_bounded_at_its_limit,
    counts_and_currencies_are_bounded,
    five_thousand_items_are_priced_and_one_more_is_refused,
    a_huge_duplicate_id_gets_a_short_error_and_a_short_activity_row
);
