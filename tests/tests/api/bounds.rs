//! Every in-memory map has a limit: caches at a size of one or two stay there, and the
//! rate limiter's map of client addresses stops growing at its cap.

use super::quotes::{plain_quote, seed_sample_rates};
use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};

async fn caches_stay_within_their_limits(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.dashboard.cache_entries = 1;
        config.auth.cache_entries = 2;
        config.exchange_rates.cache_entries = 2;
        // Smaller than any compiled plugin: none is kept, and every one still prices.
        config.runtime.instance_cache_bytes = 1;
    })
    .await;
    seed_sample_rates(&server).await;
    let demo = server.admin();
    let acme = super::other_organization(&server, "acme");
    let third = demo
        .post("/api/api-keys", &json!({"name": "third", "role": "admin"}))
        .await
        .expect(201);
    let third = server.client(third.body["key_secret"].as_str().unwrap());
    for client in [&demo, &acme, &third] {
        client.get("/api/dashboard/stats").await.expect(200);
    }
    demo.upload("other", plugin_bytes("hostile-slow-ok"))
        .await
        .expect(201);
    let mut calculation = plain_quote("t");
    calculation.as_object_mut().unwrap().remove("title");
    for plugin in ["standard", "other@1", "standard"] {
        calculation["plugin"] = json!(plugin);
        demo.post("/api/quotes/calculate", &calculation)
            .await
            .expect(200);
    }
    for pair in ["USD/RUB", "EUR/RUB", "USD/EUR"] {
        demo.get(&format!("/api/exchange-rates/{pair}?date=2026-11-29"))
            .await
            .expect(200);
    }
    let health = demo.get("/api/health/detailed").await.expect(200);
    let caches = &health.body["caches"];
    assert!(
        caches["dashboard_entries"].as_u64().unwrap() <= 1,
        "{caches}"
    );
    assert!(caches["api_key_entries"].as_u64().unwrap() <= 2, "{caches}");
    assert!(
        caches["exchange_rate_entries"].as_u64().unwrap() <= 2,
        "{caches}"
    );
    let plugins = &health.body["plugin_cache"];
    assert_eq!(plugins["entries"], 0, "{plugins}");
    assert_eq!(plugins["bytes"], 0, "{plugins}");
}

/// A client whose connections come from `127.0.0.<last>`: loopback answers them all.
fn from_address(server: &TestServer, last: u8) -> quote_tests::Client {
    let http = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .build()
        .unwrap();
    server.anonymous().with_http_client(http)
}

async fn the_address_map_stops_growing_at_its_cap(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.rate_limits.enabled = true;
        config.rate_limits.default_per_minute = 1;
        config.rate_limits.max_tracked_keys = 2;
    })
    .await;
    // Addresses are tracked on their own up to the cap (two, and the one crossing it)...
    for last in [1, 2, 3] {
        from_address(&server, last)
            .get("/api/me")
            .await
            .expect_error(401, "missing_api_key");
    }
    // ...then every address shares a single overflow bucket, so the map stops growing
    // (until idle entries are pruned).
    from_address(&server, 1)
        .get("/api/me")
        .await
        .expect_error(401, "missing_api_key");
    for last in [4, 5, 1] {
        from_address(&server, last)
            .get("/api/me")
            .await
            .expect_error(429, "rate_limited");
    }
}

on_both_databases!(
    caches_stay_within_their_limits,
    the_address_map_stops_growing_at_its_cap
);
