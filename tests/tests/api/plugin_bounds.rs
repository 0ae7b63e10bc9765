//! What a plugin may cost the host, over HTTP: refused uploads leave nothing on disk, a
//! compile has a time limit and a bounded number of slots, plugin output and error text
//! are bounded, and a timeout reports the fuel it really burned.

use super::quotes::{plain_quote, seed_sample_rates};
use quote_tests::prometheus::metric;
use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::path::Path;

fn calculation(plugin: &str) -> Value {
    let mut body = plain_quote("t");
    body.as_object_mut().unwrap().remove("title");
    body["plugin"] = json!(plugin);
    body
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn refused_uploads_leave_no_compiled_artifact(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.runtime.describe_timeout_ms = 300;
        config.runtime.fuel = u64::MAX / 2;
    })
    .await;
    let admin = server.admin();
    let artifacts = server.data_dir.path().join("plugin-cache");
    let before = files_in(&artifacts);
    admin
        .upload("x", plugin_bytes("hostile-wrong-world"))
        .await
        .expect_error(422, "wrong_world");
    admin
        .upload("x", plugin_bytes("hostile-describe-loop"))
        .await
        .expect_error(422, "calculation_timeout");
    assert_eq!(files_in(&artifacts), before, "a refused upload left files");
    let health = admin.get("/api/health/detailed").await.expect(200);
    assert!(
        health.body["plugin_cache"]["compiles"].as_u64().unwrap() >= 3,
        "{}",
        health.text
    );
}

async fn a_slow_compile_is_refused_with_its_own_code(backend: Backend) {
    let server = TestServer::start(backend).await;
    seed_sample_rates(&server).await;
    // Restarted with a limit no compile meets; the standard plugin is on disk already.
    let (mut config, data_dir, database) = server.stop().await;
    config.runtime.compile_timeout_ms = 1;
    config.runtime.max_concurrent_compiles = 1;
    let server = TestServer::launch(config, data_dir, database).await;
    let admin = server.admin();
    let refused = admin
        .upload("slow", plugin_bytes("hostile-slow-ok"))
        .await
        .expect_error(422, "compile_timeout");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 1 ms"),
        "{}",
        refused.text
    );
    // The abandoned compile still holds the only slot: the next one is told to retry.
    let busy = admin
        .upload("other", plugin_bytes("hostile-trap"))
        .await
        .expect_error(503, "compile_busy");
    assert_eq!(busy.headers["retry-after"], "1");
    admin
        .get("/api/plugins/slow")
        .await
        .expect_error(404, "plugin_not_found");
    admin
        .post("/api/quotes/calculate", &calculation("standard"))
        .await
        .expect(200);
}

async fn plugin_output_and_errors_are_bounded(backend: Backend) {
    let server = TestServer::start(backend).await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    for crate_name in ["hostile-huge-output", "hostile-huge-error"] {
        admin
            .upload(crate_name, plugin_bytes(crate_name))
            .await
            .expect(201);
    }
    let output = admin
        .post(
            "/api/quotes/calculate",
            &calculation("hostile-huge-output@1"),
        )
        .await
        .expect_error(422, "invalid_plugin_output");
    assert!(output.text.contains("at once"), "{}", output.text);
    // 4 MiB of error message, answered in a small body.
    let error = admin
        .post(
            "/api/quotes/calculate",
            &calculation("hostile-huge-error@1"),
        )
        .await
        .expect_error(422, "plugin_error");
    assert!(error.text.len() < 4096, "{} bytes", error.text.len());
    let message = error.body["error"]["details"]["plugin_error"]["message"]
        .as_str()
        .unwrap();
    assert!(message.ends_with("more bytes cut)"), "{message}");
}

async fn a_timeout_reports_the_fuel_it_burned(backend: Backend) {
    let budget = 1_000_000_000_000u64;
    let server = TestServer::start_with(backend, |config| {
        config.runtime.timeout_ms = 200;
        config.runtime.fuel = budget;
    })
    .await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    admin
        .upload("loop", plugin_bytes("hostile-loop-pure"))
        .await
        .expect(201);
    let reply = admin
        .post("/api/quotes/calculate", &calculation("loop@1"))
        .await
        .expect_error(408, "calculation_timeout");
    let fuel_used = reply.body["error"]["details"]["fuel_used"]
        .as_u64()
        .unwrap();
    assert!(
        fuel_used > 1_000_000 && fuel_used <= budget,
        "a 200 ms loop reported {fuel_used} fuel"
    );
    let metrics = server.anonymous().get("/metrics").await.expect(200);
    let recorded = metric(
        &metrics.text,
        "calculation_fuel_sum",
        &[("outcome", "calculation_timeout")],
    );
    assert!(recorded >= fuel_used as f64, "metrics recorded {recorded}");
}

on_both_databases!(
    refused_uploads_leave_no_compiled_artifact,
    a_slow_compile_is_refused_with_its_own_code,
    plugin_output_and_errors_are_bounded,
    a_timeout_reports_the_fuel_it_burned
);
