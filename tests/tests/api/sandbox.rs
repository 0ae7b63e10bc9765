//! Real hostile plugins over HTTP: each failure has its own status and code, admins see
//! the plugin's stderr, and the server keeps answering other requests meanwhile.

use super::quotes::{plain_quote, seed_sample_rates};
use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, Client, TestServer, on_both_databases, wait};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn calculation(plugin: &str) -> Value {
    let mut body = plain_quote("t");
    body.as_object_mut().unwrap().remove("title");
    body["plugin"] = json!(plugin);
    body
}

/// Waits until `count` calculations hold a calculation slot on the server.
async fn until_in_flight(admin: &Client, count: u64) {
    let what = format!("{count} calculations in flight");
    wait::until(&what, Duration::from_secs(30), async || {
        let health = admin.get("/api/health/detailed").await.expect(200);
        health.body["calculations_in_flight"] == count
    })
    .await;
}

async fn every_plugin_failure_has_its_code(backend: Backend) {
    // A limit that the 10 MiB stderr flood fits in, even in a debug build.
    let server = TestServer::start_with(backend, |config| {
        config.runtime.timeout_ms = 5_000;
        config.runtime.fuel = 1_000_000_000;
    })
    .await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    let cases = [
        ("hostile-loop-sleep", 408, "calculation_timeout"),
        ("hostile-loop-pure", 422, "fuel_exhausted"),
        ("hostile-memory-hog", 422, "memory_limit"),
        ("hostile-trap", 422, "plugin_trap"),
        ("hostile-deep-recursion", 422, "plugin_trap"),
        ("hostile-panic", 422, "plugin_trap"),
        ("hostile-calc-error", 422, "plugin_error"),
        ("hostile-bad-decimal", 422, "invalid_plugin_output"),
        ("hostile-wrong-count", 422, "invalid_plugin_output"),
        ("hostile-huge-output", 422, "invalid_plugin_output"),
    ];
    for (crate_name, _, _) in cases {
        admin
            .upload(crate_name, plugin_bytes(crate_name))
            .await
            .expect(201);
    }
    for (crate_name, status, code) in cases {
        let reply = admin
            .post(
                "/api/quotes/calculate",
                &calculation(&format!("{crate_name}@1")),
            )
            .await;
        let reply = reply.expect_error(status, code);
        assert!(
            reply.body["error"]["details"]["fuel_used"].is_u64(),
            "{}",
            reply.text
        );
    }

    // The panic message reaches admins, not members.
    let panic = admin
        .post("/api/quotes/calculate", &calculation("hostile-panic@1"))
        .await;
    let stderr = panic.body["error"]["details"]["stderr"].as_str().unwrap();
    assert!(
        stderr.contains("hostile panic: pricing table missing"),
        "{stderr}"
    );
    let member_key = admin
        .post("/api/api-keys", &json!({"name": "m", "role": "member"}))
        .await
        .expect(201);
    let member = server.client(member_key.body["key_secret"].as_str().unwrap());
    let hidden = member
        .post("/api/quotes/calculate", &calculation("hostile-panic@1"))
        .await
        .expect(422);
    assert!(
        hidden.body["error"]["details"].get("stderr").is_none(),
        "{}",
        hidden.text
    );

    // A chatty plugin still prices.
    admin
        .upload("chatty", plugin_bytes("hostile-stderr-flood"))
        .await
        .expect(201);
    admin
        .post("/api/quotes/calculate", &calculation("chatty@1"))
        .await
        .expect(200);
}

/// Safety bounds for a loaded machine, not speed checks: a burning plugin that held a
/// worker thread would keep requests waiting until it times out (6 s), and let at most one
/// round through in the 2 s of measuring.
async fn the_server_answers_while_a_plugin_burns(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.runtime.timeout_ms = 6_000;
        config.runtime.fuel = u64::MAX / 2;
    })
    .await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    admin
        .upload("loop", plugin_bytes("hostile-loop-pure"))
        .await
        .expect(201);
    admin
        .upload("sleep", plugin_bytes("hostile-loop-sleep"))
        .await
        .expect(201);
    let burners: Vec<_> = ["loop@1", "loop@1", "sleep@1"]
        .into_iter()
        .map(|plugin| {
            let admin = admin.clone();
            tokio::spawn(async move {
                admin
                    .post("/api/quotes/calculate", &calculation(plugin))
                    .await
            })
        })
        .collect();
    until_in_flight(&admin, 3).await;
    let started = Instant::now();
    let mut answered = 0;
    while started.elapsed() < Duration::from_secs(2) {
        let before = Instant::now();
        server.anonymous().get("/api/health").await.expect(200);
        admin
            .post("/api/quotes/calculate", &calculation("standard"))
            .await
            .expect(200);
        assert!(
            before.elapsed() < Duration::from_secs(2),
            "a request waited {:?}",
            before.elapsed()
        );
        answered += 1;
    }
    for burner in burners {
        burner
            .await
            .unwrap()
            .expect_error(408, "calculation_timeout");
    }
    assert!(answered >= 3, "only {answered} rounds answered");
}

async fn busy_slots_answer_503_with_retry_after(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.calculations.max_in_flight_per_org = 1;
        config.calculations.queue_wait_ms = 100;
        config.runtime.timeout_ms = 2_000;
        config.runtime.fuel = u64::MAX / 2;
    })
    .await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    admin
        .upload("sleep", plugin_bytes("hostile-loop-sleep"))
        .await
        .expect(201);
    let holder = {
        let admin = admin.clone();
        tokio::spawn(async move {
            admin
                .post("/api/quotes/calculate", &calculation("sleep@1"))
                .await
        })
    };
    until_in_flight(&admin, 1).await;
    let busy = admin
        .post("/api/quotes/calculate", &calculation("standard"))
        .await;
    let busy = busy.expect_error(503, "calculation_capacity");
    assert_eq!(busy.headers["retry-after"], "1");
    // Another organization has its own slots.
    let other = super::other_organization(&server, "acme");
    other
        .upload("standard", plugin_bytes("standard"))
        .await
        .expect(201);
    other
        .post("/api/plugins/standard/activate", &json!({"version": 1}))
        .await
        .expect(200);
    other
        .post("/api/quotes/calculate", &calculation("standard"))
        .await
        .expect(200);
    holder
        .await
        .unwrap()
        .expect_error(408, "calculation_timeout");
    admin
        .post("/api/quotes/calculate", &calculation("standard"))
        .await
        .expect(200);
}

async fn many_clients_price_at_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    let clients = (0..64).map(|n| {
        let admin = admin.clone();
        async move {
            let mut body = calculation("standard");
            body["items"][0]["quantity"] = json!((n % 9 + 1).to_string());
            let reply = admin.post("/api/quotes/calculate", &body).await.expect(200);
            (
                n,
                reply.body["result"]["items"][0]["total"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        }
    });
    // 19.99 USD at 92.5 = 1849.075, rounded to 1849.08 RUB a unit (no markup), times
    // 1 to 9 units.
    let by_quantity = [
        "1849.08", "3698.16", "5547.24", "7396.32", "9245.40", "11094.48", "12943.56", "14792.64",
        "16641.72",
    ];
    for (n, total) in futures::future::join_all(clients).await {
        assert_eq!(total, by_quantity[n % 9], "client {n}");
    }
}

on_both_databases!(
    every_plugin_failure_has_its_code,
    the_server_answers_while_a_plugin_burns,
    busy_slots_answer_503_with_retry_after,
    many_clients_price_at_once,
);
