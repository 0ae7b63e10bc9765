//! Replay: a version (active or not), an unsaved candidate and the `plugin replay` CLI
//! re-price the organization's most recent stored quotes and report identical, changed
//! and failed quotes with exact totals and deltas, store nothing, leave the host fine
//! after a hostile version, and are bounded, admin only and charged per quote.

use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::process::Command;

/// Three quotes priced by the standard rules (version 1: no markup by default, 20 % VAT),
/// oldest first, with the totals the `standard-markup` variant (10 % markup by default)
/// gives them:
/// - 2 × 10.00: 24.00; the variant 2 × 11.00 + 4.40 = 26.40 (delta 2.40);
/// - 1 × 100.00 at an explicit 5 % markup: 126.00, the same under the variant;
/// - 5 × 3.00: 18.00; the variant 5 × 3.30 + 3.30 = 19.80 (delta 1.80).
fn requests() -> [Value; 3] {
    let item = |quantity: &str, price: &str| json!({"sku": "A", "quantity": quantity, "unit_price": price, "currency": "RUB"});
    [
        json!({"currency": "RUB", "items": [item("2", "10.00")]}),
        json!({"currency": "RUB", "variables": {"markup_percent": "5"},
               "items": [item("1", "100.00")]}),
        json!({"currency": "RUB", "items": [item("5", "3.00")]}),
    ]
}

/// Stores the three quotes; their numbers, oldest first. The second is then `sent`.
async fn store_quotes(admin: &Client) -> Vec<String> {
    let mut numbers = Vec::new();
    for (request, total) in requests().iter().zip(["24.00", "126.00", "18.00"]) {
        let quote = admin.post("/api/quotes", request).await.expect(201).body;
        assert_eq!(quote["total"], total, "{quote}");
        numbers.push(quote["number"].as_str().unwrap().to_string());
        if total == "126.00" {
            let id = quote["id"].as_str().unwrap();
            admin
                .patch(&format!("/api/quotes/{id}"), &json!({"status": "sent"}))
                .await
                .expect(200);
        }
    }
    numbers
}

async fn replay(admin: &Client, version: i32, body: &Value) -> Value {
    let path = format!("/api/plugins/standard/versions/{version}/replay");
    admin.post(&path, body).await.expect(200).body.clone()
}

fn counts(report: &Value) -> [i64; 4] {
    ["replayed", "identical", "changed", "failed"].map(|key| report[key].as_i64().unwrap())
}

/// (number, old total, new total, delta) of each changed quote, newest first.
fn changes(report: &Value) -> Vec<(String, String, String, String)> {
    let text = |quote: &Value, key: &str| quote[key].as_str().unwrap().to_string();
    report["changed_quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|quote| {
            (
                text(quote, "number"),
                text(quote, "old_total"),
                text(quote, "new_total"),
                text(quote, "delta"),
            )
        })
        .collect()
}

fn rub_totals(report: &Value) -> (i64, &str, &str, &str) {
    let totals = report["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 1, "{report}");
    let rub = &totals[0];
    assert_eq!(rub["currency"], "RUB");
    (
        rub["quotes"].as_i64().unwrap(),
        rub["old_total"].as_str().unwrap(),
        rub["new_total"].as_str().unwrap(),
        rub["delta"].as_str().unwrap(),
    )
}

/// The variant's expected report over the three quotes (`numbers` oldest first).
fn assert_variant_report(report: &Value, numbers: &[String]) {
    assert_eq!(counts(report), [3, 1, 2, 0], "{report}");
    let change = |number: &String, old: &str, new: &str, delta: &str| {
        (number.clone(), old.into(), new.into(), delta.into())
    };
    assert_eq!(
        changes(report),
        [
            change(&numbers[2], "18.00", "19.80", "1.80"),
            change(&numbers[0], "24.00", "26.40", "2.40"),
        ]
    );
    assert_eq!(rub_totals(report), (3, "168.00", "172.20", "4.20"));
    let largest: Vec<(&str, &str)> = report["largest_deltas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["number"].as_str().unwrap(), d["delta"].as_str().unwrap()))
        .collect();
    assert_eq!(
        largest,
        [(numbers[0].as_str(), "2.40"), (numbers[2].as_str(), "1.80")]
    );
    for quote in report["changed_quotes"].as_array().unwrap() {
        // Unit price, line total, the line's markup, subtotal, tax and total differ: the
        // first 5 are listed (calculations.replay_differences_per_quote).
        let differences = quote["differences"].as_array().unwrap();
        assert_eq!(differences.len(), 5, "{quote}");
        assert_eq!(quote["differences_truncated"], true, "{quote}");
        for difference in differences {
            assert!(difference["path"].as_str().unwrap().starts_with('/'));
            assert_ne!(difference["stored"], difference["recomputed"]);
        }
    }
}

async fn replays_report_identical_changed_and_failed_quotes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    let numbers = store_quotes(&admin).await;

    // The active version over the quotes it priced: all identical.
    let same = replay(&admin, 1, &json!({})).await;
    assert_eq!(counts(&same), [3, 3, 0, 0], "{same}");
    assert_eq!(same["plugin"]["version"], 1);
    assert_eq!(same["changed_quotes"], json!([]));
    assert_eq!(same["largest_deltas"], json!([]));
    assert_eq!(rub_totals(&same), (3, "168.00", "168.00", "0.00"));

    // A changed version, uploaded but not active.
    admin
        .upload("standard", plugin_bytes("standard-markup"))
        .await
        .expect(201);
    let variant = replay(&admin, 2, &json!({"last": 100})).await;
    assert_eq!(variant["plugin"]["version"], 2);
    assert_variant_report(&variant, &numbers);
    // `last` takes the newest; `status` filters.
    let newest = replay(&admin, 2, &json!({"last": 1})).await;
    assert_eq!(counts(&newest), [1, 0, 1, 0]);
    assert_eq!(newest["changed_quotes"][0]["number"], numbers[2]);
    let sent = replay(&admin, 2, &json!({"status": "sent"})).await;
    assert_eq!(counts(&sent), [1, 1, 0, 0]);
    assert_eq!(rub_totals(&sent), (1, "126.00", "126.00", "0.00"));

    // Nothing was stored: the quotes, their totals and the active version are as before.
    let listed = admin.get("/api/quotes").await.expect(200).body;
    let totals: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|quote| quote["total"].as_str().unwrap())
        .collect();
    assert_eq!(totals, ["18.00", "126.00", "24.00"]);
    let plugin = admin.get("/api/plugins/standard").await.expect(200).body;
    assert_eq!(
        (&plugin["active_version"], &plugin["version_count"]),
        (&json!(1), &json!(2))
    );

    // An unsaved candidate, through the API and through the CLI: the same report, and
    // still no new version.
    let candidate = admin
        .send(
            admin
                .request(reqwest::Method::POST, "/api/plugins/standard/replay?last=3")
                .header("content-type", "application/wasm")
                .body(plugin_bytes("standard-markup")),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(candidate["plugin"]["version"], 0);
    assert_eq!(candidate["plugin"]["sha256"], variant["plugin"]["sha256"]);
    assert_variant_report(&candidate, &numbers);
    let from_cli = cli_replay(&server, &["--last", "3"]);
    assert_variant_report(&from_cli, &numbers);
    let plugin = admin.get("/api/plugins/standard").await.expect(200).body;
    assert_eq!(plugin["version_count"], 2, "a candidate is never stored");

    // A hostile version: every quote fails with its code, and the host carries on.
    admin
        .upload("standard", plugin_bytes("hostile-trap"))
        .await
        .expect(201);
    let hostile = replay(&admin, 3, &json!({})).await;
    assert_eq!(counts(&hostile), [3, 0, 0, 3], "{hostile}");
    // It declares no variables, so the quote with a markup fails before it runs.
    assert_eq!(
        hostile["failed_by_code"],
        json!({"plugin_trap": 2, "unknown_variable": 1})
    );
    let failed: Vec<(&str, &str)> = hostile["failed_quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["number"].as_str().unwrap(), q["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        failed,
        [
            (numbers[2].as_str(), "plugin_trap"),
            (numbers[1].as_str(), "unknown_variable"),
            (numbers[0].as_str(), "plugin_trap"),
        ]
    );
    assert_eq!(hostile["totals"], json!([]));
    let priced = admin
        .post("/api/quotes/calculate", &requests()[0])
        .await
        .expect(200)
        .body;
    assert_eq!(
        (&priced["plugin"]["version"], &priced["result"]["total"]),
        (&json!(1), &json!("24.00"))
    );
    assert_eq!(counts(&replay(&admin, 1, &json!({})).await), [3, 3, 0, 0]);
}

/// `quote-host plugin replay` of the variant's build against the server; its JSON report.
fn cli_replay(server: &TestServer, flags: &[&str]) -> Value {
    let file = quote_host::bundled::plugin_path("standard-markup");
    let output = Command::new(env!("CARGO_BIN_EXE_quote-host-under-test"))
        .args(["plugin", "replay"])
        .arg(&file)
        .args(["--name", "standard", "--server", &server.base_url])
        .args(["--key", &server.admin_key])
        .args(flags)
        .env("QUOTE_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "plugin replay: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = String::from_utf8_lossy(&output.stderr);
    assert!(
        summary.contains("replayed 3 quotes: 1 identical, 2 changed, 0 failed"),
        "{summary}"
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn replays_are_bounded_and_admin_only(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.calculations.replay_max_quotes = 2;
        config.calculations.replay_differences_per_quote = 1;
        config.calculations.replay_largest_deltas = 1;
    })
    .await;
    let admin = server.admin();
    let numbers = store_quotes(&admin).await;
    admin
        .upload("standard", plugin_bytes("standard-markup"))
        .await
        .expect(201);

    // At the limit: the 2 newest quotes, 1 difference each, the largest delta only.
    let at_limit = replay(&admin, 2, &json!({"last": 2})).await;
    assert_eq!(counts(&at_limit), [2, 1, 1, 0], "{at_limit}");
    let changed = &at_limit["changed_quotes"][0];
    assert_eq!(changed["number"], numbers[2]);
    assert_eq!(changed["differences"].as_array().unwrap().len(), 1);
    assert_eq!(changed["differences_truncated"], true);
    assert_eq!(at_limit["largest_deltas"].as_array().unwrap().len(), 1);
    // Without `last`: the default 100, capped by the configured maximum.
    assert_eq!(counts(&replay(&admin, 2, &json!({})).await)[0], 2);
    let path = "/api/plugins/standard/versions/2/replay";
    for last in [0, 3] {
        let refused = admin
            .post(path, &json!({"last": last}))
            .await
            .expect_error(400, "invalid_replay_size");
        assert_eq!(refused.body["error"]["details"]["limit"], 2);
    }
    admin
        .post(path, &json!({"status": "lost"}))
        .await
        .expect_error(400, "invalid_status");
    admin.post(path, &json!({"lats": 2})).await.expect(400);
    admin
        .post("/api/plugins/standard/versions/9/replay", &json!({}))
        .await
        .expect_error(404, "plugin_not_found");
    admin
        .post("/api/plugins/nope/versions/1/replay", &json!({}))
        .await
        .expect_error(404, "plugin_not_found");
    let candidate = |client: &Client, content_type: &str| {
        client
            .request(reqwest::Method::POST, "/api/plugins/standard/replay")
            .header("content-type", content_type.to_string())
            .body(b"not wasm".to_vec())
    };
    admin
        .send(candidate(&admin, "application/wasm"))
        .await
        .expect_error(422, "not_a_component");
    admin
        .send(candidate(&admin, "text/plain"))
        .await
        .expect_error(415, "unsupported_media_type");

    let member = server.new_member().await;
    member
        .post(path, &json!({}))
        .await
        .expect_error(403, "forbidden");
    member
        .send(candidate(&member, "application/wasm"))
        .await
        .expect_error(403, "forbidden");
}

/// With throttling on, a replay of N quotes costs N calculate requests.
async fn a_replay_costs_one_calculate_request_per_quote(backend: Backend) {
    let server = TestServer::start(backend).await;
    store_quotes(&server.admin()).await;
    server
        .admin()
        .upload("standard", plugin_bytes("standard-markup"))
        .await
        .expect(201);
    // Fresh limiters: 3 calculate requests a minute (one back every 20 s).
    let (mut config, data_dir, database) = server.stop().await;
    config.rate_limits.enabled = true;
    config.rate_limits.calculate_per_minute = 3;
    let server = TestServer::launch(config, data_dir, database).await;
    let admin = server.admin();
    let path = "/api/plugins/standard/versions/2/replay";
    let first = admin.post(path, &json!({"last": 3})).await.expect(200);
    assert_eq!(counts(&first.body)[0], 3);
    let refused = admin
        .post(path, &json!({"last": 1}))
        .await
        .expect_error(429, "rate_limited");
    assert!(refused.headers.contains_key("retry-after"));
    admin
        .post("/api/quotes/calculate", &requests()[0])
        .await
        .expect_error(429, "rate_limited");
}

on_both_databases!(
    replays_report_identical_changed_and_failed_quotes,
    replays_are_bounded_and_admin_only,
    a_replay_costs_one_calculate_request_per_quote,
);
