//! The services the suite needs, checked by each test binary's `environment::*` tests:
//! under `CI` a missing one fails the run instead of its tests passing unrun.

use crate::db::postgres_url;
use std::time::Duration;

/// Whether skipping is not allowed: `CI` or the given variable is set.
fn skipping_forbidden(variable: Option<&str>) -> bool {
    std::env::var_os("CI").is_some()
        || variable.is_some_and(|name| std::env::var_os(name).is_some())
}

/// `QUOTE_TEST_POSTGRES_URL` is set under `CI`, the tests were built with it (so the
/// PostgreSQL variants are not ignored), and the server answers.
pub async fn postgres_is_configured() {
    let Some(url) = postgres_url() else {
        assert!(
            !skipping_forbidden(None),
            "CI is set but QUOTE_TEST_POSTGRES_URL is not: every PostgreSQL variant is ignored"
        );
        return;
    };
    if cfg!(quote_tests_without_postgres) {
        panic!(
            "QUOTE_TEST_POSTGRES_URL is set but was unset when these tests were built, so the \
             PostgreSQL variants are ignored: run them through `cargo test`, which rebuilds"
        );
    }
    use sqlx::Connection;
    let connect = sqlx::postgres::PgConnection::connect(&url);
    match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok(connection)) => connection.close().await.unwrap(),
        Ok(Err(error)) => panic!("QUOTE_TEST_POSTGRES_URL is set but unusable: {error}"),
        Err(_) => panic!("QUOTE_TEST_POSTGRES_URL is set but the server did not answer in 10 s"),
    }
}

/// The stock `wasmtime` CLI's version line, or `None` when it is not on `PATH`; panics
/// instead when `CI` or `QUOTE_REQUIRE_WASMTIME_CLI` is set.
pub fn wasmtime_cli() -> Option<String> {
    match std::process::Command::new("wasmtime")
        .arg("--version")
        .output()
    {
        Ok(output) if output.status.success() => {
            Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
        }
        _ => {
            assert!(
                !skipping_forbidden(Some("QUOTE_REQUIRE_WASMTIME_CLI")),
                "the `wasmtime` CLI is required (CI or QUOTE_REQUIRE_WASMTIME_CLI is set) but \
                 not on PATH: cargo install wasmtime-cli --version 48.0.8 --locked"
            );
            None
        }
    }
}

/// The `environment::postgres_is_configured` test, for a test binary with PostgreSQL variants.
#[macro_export]
macro_rules! environment_tests {
    () => {
        /// The services the suite needs (see `quote_tests::environment`).
        mod environment {
            #[tokio::test]
            async fn postgres_is_configured() {
                $crate::environment::postgres_is_configured().await;
            }
        }
    };
}

/// `QUOTE_TEST_REDIS_URL` is set under `CI`, and when set, the Redis it names answers.
pub fn redis_is_configured() {
    let Some(url) = crate::redis::redis_url() else {
        assert!(
            !skipping_forbidden(None),
            "CI is set but QUOTE_TEST_REDIS_URL is not: the shared rate-limit tests would not run"
        );
        return;
    };
    let address = crate::redis::address_of(&url);
    assert!(
        crate::redis::answers(&address, Duration::from_secs(5)),
        "QUOTE_TEST_REDIS_URL is set to {url} but no Redis answers PING at {address}"
    );
}

/// The Redis tests run with `QUOTE_TEST_REDIS_URL`; without it they are skipped, except
/// under `CI`, where that fails.
pub fn redis_or_skip(test: &str) -> Option<String> {
    let url = crate::redis::redis_url();
    if url.is_none() {
        assert!(
            !skipping_forbidden(None),
            "CI is set but QUOTE_TEST_REDIS_URL is not"
        );
        eprintln!("SKIPPED {test}: QUOTE_TEST_REDIS_URL is unset");
    }
    url
}
