//! The harnesses a tenant's engineer uses: `quote-host plugin check|run` (same runtime
//! as the server) and the stock `wasmtime` CLI with the invocations the README shows.

use super::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn quote_host(args: &[&str]) -> (Output, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_quote-host-under-test"))
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (output, json)
}

fn path_of(crate_name: &str) -> String {
    plugin_path(crate_name).display().to_string()
}

fn sample_request() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/standard/sample-request.json")
}

#[test]
fn plugin_check_prints_describe_or_the_reason() {
    let (output, json) = quote_host(&["plugin", "check", &path_of("standard")]);
    assert!(output.status.success());
    assert_eq!(json["describe"]["name"], "standard");
    assert_eq!(json["describe"]["variables"][0]["name"], "markup_percent");
    assert_eq!(json["sha256"].as_str().unwrap().len(), 64);

    let (output, json) = quote_host(&["plugin", "check", &path_of("hostile-wrong-world")]);
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(json["error"]["code"], "wrong_world");
}

#[test]
fn plugin_run_prices_the_sample_request() {
    let input = sample_request().display().to_string();
    let (output, json) = quote_host(&["plugin", "run", &path_of("standard"), "--input", &input]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = &json["result"];
    assert_eq!(result["items"][0]["unit_price"], "2033.98");
    assert_eq!(result["items"][1]["unit_price"], "451.90");
    assert_eq!(result["subtotal"], "60329.94");
    assert_eq!(result["tax"], "12065.99");
    assert_eq!(result["total"], "72395.93");
    assert!(json["report"]["fuel_used"].as_u64().unwrap() > 0);
    assert!(json["report"]["peak_memory_bytes"].as_u64().unwrap() > 0);
    assert!(json["report"]["duration_us"].as_u64().is_some());
}

#[test]
fn plugin_run_reports_a_typed_error_and_fails() {
    let input = sample_request().display().to_string();
    let args = [
        "plugin",
        "run",
        &path_of("hostile-loop-pure"),
        "--input",
        &input,
        "--timeout-ms",
        "200",
    ];
    let (output, json) = quote_host(&[&args[..], &["--fuel", "1000000000000"]].concat());
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(json["error"]["code"], "calculation_timeout");
    // The fuel the loop really burned in 200 ms, not what it had burned before the loop.
    let fuel_used = json["report"]["fuel_used"].as_u64().unwrap();
    assert!(
        fuel_used > 1_000_000 && fuel_used <= 1_000_000_000_000,
        "a 200 ms loop reported {fuel_used} fuel"
    );

    let (output, json) = quote_host(&[&args[..], &["--fuel", "1000000"]].concat());
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(json["error"]["code"], "fuel_exhausted");

    let memory = [
        "plugin",
        "run",
        &path_of("hostile-memory-hog"),
        "--input",
        &input,
        "--memory-mib",
        "16",
    ];
    let (output, json) = quote_host(&memory);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(json["error"]["code"], "memory_limit");
    assert!(json["report"]["peak_memory_bytes"].as_u64().unwrap() <= 16 * 1024 * 1024);
}

/// The stock CLI, with the exact invocations of the README. CI installs `wasmtime`;
/// elsewhere this test says loudly that it could not run, and fails when
/// `QUOTE_REQUIRE_WASMTIME_CLI` is set.
#[test]
fn stock_wasmtime_cli_runs_the_standard_plugin() {
    let Ok(version) = Command::new("wasmtime").arg("--version").output() else {
        eprintln!("\n*** SKIPPED: the `wasmtime` CLI is not on PATH; install it with");
        eprintln!("***   cargo install wasmtime-cli --version 48.0.8 --locked\n");
        assert!(
            std::env::var_os("QUOTE_REQUIRE_WASMTIME_CLI").is_none(),
            "wasmtime CLI required but missing"
        );
        return;
    };
    eprintln!("using {}", String::from_utf8_lossy(&version.stdout).trim());
    let plugin = path_of("standard");
    let describe = Command::new("wasmtime")
        .args(["run", "--invoke", "describe()", &plugin])
        .output()
        .unwrap();
    assert!(
        describe.status.success(),
        "{}",
        String::from_utf8_lossy(&describe.stderr)
    );
    let describe = String::from_utf8_lossy(&describe.stdout);
    assert!(describe.starts_with("{name: \"standard\""), "{describe}");

    let calculate = concat!(
        "calculate({currency: \"RUB\", date: \"2026-11-29\", ",
        "variables: [{key: \"markup_percent\", value: \"10\"}], ",
        "items: [{id: \"1\", sku: \"A-1\", name: \"Bearing\", quantity: \"3\", unit-price: \"19.99\", ",
        "currency: \"USD\", attributes: []}], ",
        "rates: [{base: \"USD\", quote: \"RUB\", rate: \"92.5\", date: \"2026-11-28\"}]})"
    );
    let priced = Command::new("wasmtime")
        .args(["run", "--invoke", calculate, &plugin])
        .output()
        .unwrap();
    assert!(
        priced.status.success(),
        "{}",
        String::from_utf8_lossy(&priced.stderr)
    );
    let priced = String::from_utf8_lossy(&priced.stdout);
    assert!(priced.starts_with("ok({currency: \"RUB\""), "{priced}");
    assert!(
        priced.contains("subtotal: \"6101.94\", tax: \"1220.39\", total: \"7322.33\""),
        "{priced}"
    );
}
