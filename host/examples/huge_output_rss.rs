//! Peak resident memory of the host while 64 calls of `hostile-huge-output` (a result of
//! about 8 MiB against a 1 MiB cap) run at once, read from `/proc/self/status` (VmHWM).
//!
//! ```sh
//! cargo run --release -p quote-host --example huge_output_rss            # the default cap
//! cargo run --release -p quote-host --example huge_output_rss -- 134217728
//! ```
//!
//! The optional argument is `max_result_bytes`; the lift cap is 6 times it. With
//! 134217728 the 8 MiB results are lifted whole and accepted (then converted too): an
//! upper reference, not the old behaviour, which lifted them whole and then refused them.

use quote_host::bundled::plugin_path;
use quote_host::contract::{LineItem, QuoteRequest};
use quote_host::runtime::{Runtime, RuntimeConfig};
use std::sync::Arc;

const CONCURRENT_CALLS: usize = 64;

/// A line of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

fn request() -> QuoteRequest {
    QuoteRequest {
        currency: "RUB".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        variables: Default::default(),
        items: vec![LineItem {
            id: "1".into(),
            sku: "A-1".into(),
            name: "Bearing".into(),
            quantity: "1".into(),
            unit_price: "1.00".into(),
            currency: "RUB".into(),
            attributes: Default::default(),
        }],
        rates: Vec::new(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let max_result_bytes = match std::env::args().nth(1) {
        Some(bytes) => bytes.parse()?,
        None => RuntimeConfig::default().max_result_bytes,
    };
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        max_result_bytes,
        max_concurrent_instances: CONCURRENT_CALLS as u32,
        artifact_dir: None,
        ..RuntimeConfig::default()
    })?);
    let bytes = std::fs::read(plugin_path("hostile-huge-output"))?;
    let plugin = runtime.load_bytes(bytes).await?;
    let limits = runtime.config().calculation_limits();
    // One call first, so the baseline holds the code, the pool and the allocator's arenas.
    let _ = runtime.calculate(&plugin, &request(), &limits).await;
    let baseline_kib = status_kib("VmHWM");

    let calls: Vec<_> = (0..CONCURRENT_CALLS)
        .map(|_| {
            let (runtime, plugin) = (runtime.clone(), plugin.clone());
            tokio::spawn(async move {
                let limits = runtime.config().calculation_limits();
                runtime
                    .calculate(&plugin, &request(), &limits)
                    .await
                    .map_err(|failure| failure.error.code())
            })
        })
        .collect();
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    for call in calls {
        let outcome = match call.await? {
            Ok(_) => "success",
            Err(code) => code,
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    let peak_kib = status_kib("VmHWM");
    println!(
        "max_result_bytes {max_result_bytes} (lift cap {} bytes), {CONCURRENT_CALLS} concurrent calls: {outcomes:?}",
        runtime.config().hostcall_fuel()
    );
    println!(
        "peak RSS (VmHWM): {} MiB after one call, {} MiB after {CONCURRENT_CALLS} concurrent calls (+{} MiB)",
        baseline_kib / 1024,
        peak_kib / 1024,
        peak_kib.saturating_sub(baseline_kib) / 1024
    );
    Ok(())
}
