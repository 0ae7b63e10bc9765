//! The sandbox, in process: every hostile plugin through the real runtime, the limits'
//! timing, the compile caches, concurrency, the reference rule set's golden files and
//! the command-line harnesses.

mod cache;
mod cli;
mod concurrency;
mod golden;
mod hostile;
mod limits;
mod scaffold;

use quote_host::bundled::plugin_path;
use quote_host::contract::{LineItem, QuoteRequest, Rate};
use quote_host::runtime::{CallLimits, CompiledPlugin, Runtime, RuntimeConfig};
use std::sync::Arc;
use std::time::Duration;

/// A runtime sized for tests: a small pool, no artifact directory unless given.
pub fn test_runtime(config: RuntimeConfig) -> Runtime {
    Runtime::new(RuntimeConfig {
        max_concurrent_instances: 64,
        artifact_dir: None,
        ..config
    })
    .expect("the runtime starts")
}

/// The bytes of a plugin built by the host's build script (`standard`, `hostile-trap`, ...).
pub fn plugin_bytes(crate_name: &str) -> Vec<u8> {
    let path = plugin_path(crate_name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

pub async fn load(runtime: &Runtime, crate_name: &str) -> Arc<CompiledPlugin> {
    runtime
        .load_bytes(plugin_bytes(crate_name))
        .await
        .expect("the plugin loads")
}

pub fn item(id: &str, quantity: &str, unit_price: &str, currency: &str) -> LineItem {
    LineItem {
        id: id.into(),
        sku: format!("SKU-{id}"),
        name: format!("Item {id}"),
        quantity: quantity.into(),
        unit_price: unit_price.into(),
        currency: currency.into(),
        attributes: Default::default(),
    }
}

/// A one-item RUB quote dated 2026-11-29 with a USD->RUB rate.
pub fn simple_request() -> QuoteRequest {
    QuoteRequest {
        currency: "RUB".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        variables: Default::default(),
        items: vec![item("1", "3", "19.99", "USD")],
        rates: vec![Rate {
            base: "USD".into(),
            quote: "RUB".into(),
            rate: "92.5".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
        }],
    }
}

/// The services this binary needs (see `quote_tests::environment`).
mod environment {
    /// Fails when `CI` or `QUOTE_REQUIRE_WASMTIME_CLI` is set and the CLI is missing, so the
    /// stock-CLI test cannot pass unrun there.
    #[test]
    fn wasmtime_cli_is_installed() {
        quote_tests::environment::wasmtime_cli();
    }
}

pub fn limits(timeout: Duration, fuel: u64) -> CallLimits {
    CallLimits {
        timeout,
        fuel,
        memory_bytes: 64 * 1024 * 1024,
    }
}
