//! The hot path: a warm calculation and a health check reach no database, as the
//! pool's own acquire counter (`database.acquired_total` in detailed health) shows.

use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Background writes kept out of the measured window: activity entries are written in
/// batches of 1000 or once a minute, `last_used_at` once a minute per key, and the look
/// for scheduled versions once a minute per organization; no idle connection is kept, so
/// the pool's upkeep opens none by itself.
async fn quiet_server(backend: Backend, health_max_age_ms: u64) -> TestServer {
    TestServer::start_with(backend, |config| {
        config.database.min_connections = 0;
        config.activity.batch_size = 1_000;
        config.activity.flush_interval_ms = 60_000;
        config.auth.last_used_interval_s = 60;
        config.calculations.lookahead_interval_s = 60;
        config.http.health_check_max_age_ms = health_max_age_ms;
    })
    .await
}

/// Connections the server has handed out before this read.
async fn acquired(admin: &Client) -> u64 {
    let health = admin.get("/api/health/detailed").await.expect(200);
    health.body["database"]["acquired_total"]
        .as_u64()
        .unwrap_or_else(|| panic!("no acquired_total: {}", health.text))
}

/// How many connections one read of detailed health itself takes, once the server is
/// quiet (two reads in a row that cost the same).
async fn cost_of_a_read(admin: &Client) -> u64 {
    let mut last = acquired(admin).await;
    let mut cost = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = acquired(admin).await;
        if cost == Some(now - last) {
            return now - last;
        }
        assert!(Instant::now() < deadline, "the server never became quiet");
        cost = Some(now - last);
        last = now;
    }
}

fn calculation(plugin: Option<&str>) -> Value {
    let mut body = json!({"currency": "RUB", "variables": {"markup_percent": "0"},
        "items": [{"sku": "A-1", "quantity": "2", "unit_price": "100.00", "currency": "RUB"}]});
    if let Some(plugin) = plugin {
        body["plugin"] = json!(plugin);
    }
    body
}

async fn a_warm_calculation_makes_no_database_round_trip(backend: Backend) {
    let server = quiet_server(backend, 1_000).await;
    let admin = server.admin();
    let references = [None, Some("standard"), Some("standard@1")];
    for plugin in references {
        admin
            .post("/api/quotes/calculate", &calculation(plugin))
            .await
            .expect(200);
    }
    let read = cost_of_a_read(&admin).await;
    let before = acquired(&admin).await;
    for round in 0..30 {
        let plugin = references[round % references.len()];
        let priced = admin
            .post("/api/quotes/calculate", &calculation(plugin))
            .await
            .expect(200);
        assert_eq!(priced.body["plugin"]["version"], 1);
    }
    let after = acquired(&admin).await;
    assert_eq!(
        after - before,
        read,
        "30 warm calculations took {} connections",
        after - before - read
    );

    // A new version, activated: the next calculation reads it and runs it.
    let uploaded = admin
        .upload("standard", plugin_bytes("standard-markup"))
        .await
        .expect(201);
    assert_eq!(uploaded.body["version"], 2);
    admin
        .post("/api/plugins/standard/activate", &json!({"version": 2}))
        .await
        .expect(200);
    let before = acquired(&admin).await;
    let priced = admin
        .post("/api/quotes/calculate", &calculation(None))
        .await
        .expect(200);
    assert_eq!(priced.body["plugin"]["version"], 2, "{}", priced.text);
    assert_eq!(priced.body["plugin"]["name"], "standard");
    let after = acquired(&admin).await;
    assert!(
        after - before > read,
        "the first calculation after an activation reads the database"
    );
}

async fn health_reuses_a_recent_check(backend: Backend) {
    let server = quiet_server(backend, 60_000).await;
    let (admin, anonymous) = (server.admin(), server.anonymous());
    anonymous.get("/api/health").await.expect(200);
    // A background write of the server's own (a key's first `last_used_at`) can land in
    // one window; without reuse every window holds 20 pings, so three tries stay a check.
    let mut extra = Vec::new();
    for _ in 0..3 {
        let read = cost_of_a_read(&admin).await;
        let before = acquired(&admin).await;
        let checks = (0..20).map(|_| anonymous.get("/api/health"));
        for reply in futures::future::join_all(checks).await {
            reply.expect(200);
        }
        extra.push(acquired(&admin).await - before - read);
        if extra.last() == Some(&0) {
            break;
        }
    }
    assert_eq!(
        extra.last(),
        Some(&0),
        "20 health checks within a minute ping 0 times; connections beyond the reads: {extra:?}"
    );

    // With no reuse, each check is a ping.
    let server = quiet_server(backend, 0).await;
    let (admin, anonymous) = (server.admin(), server.anonymous());
    let read = cost_of_a_read(&admin).await;
    let before = acquired(&admin).await;
    for _ in 0..20 {
        anonymous.get("/api/health").await.expect(200);
    }
    let after = acquired(&admin).await;
    assert_eq!(after - before - read, 20);
}

/// The cache keys "no reference" apart from every named one: an empty name, which the
/// store refuses, is refused after the active plugin was cached too.
async fn an_empty_reference_is_not_the_cached_active_plugin(backend: Backend) {
    let server = quiet_server(backend, 1_000).await;
    let admin = server.admin();
    for _ in 0..2 {
        admin
            .post("/api/quotes/calculate", &calculation(None))
            .await
            .expect(200);
    }
    admin
        .post("/api/quotes/calculate", &calculation(Some("")))
        .await
        .expect_error(404, "plugin_not_found");
}

on_both_databases!(
    a_warm_calculation_makes_no_database_round_trip,
    an_empty_reference_is_not_the_cached_active_plugin,
    health_reuses_a_recent_check,
);
