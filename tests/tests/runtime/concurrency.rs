//! Many tenants at once: independent, correct results, and a plugin burning its
//! whole time limit never stalls the async runtime.

use super::*;
use quote_host::contract::QuoteRequest;
use std::time::Instant;

/// The standard rules worked by hand, VAT 0: `quantity` units at `unit_price` RUB with
/// `markup_percent`. The unit price is rounded half away from zero to kopecks before it
/// is multiplied.
const CASES: &[(&str, &str, &str, &str)] = &[
    // (quantity, unit_price, markup_percent, line total)
    ("1", "10.25", "0", "10.25"),
    ("2", "11.25", "10", "24.76"),  // 12.375 -> 12.38, x2
    ("3", "12.25", "20", "44.10"),  // 14.70, x3
    ("4", "13.25", "30", "68.92"),  // 17.225 -> 17.23, x4
    ("5", "14.25", "40", "99.75"),  // 19.95, x5
    ("6", "0.05", "50", "0.48"),    // 0.075 -> 0.08, x6
    ("7", "99.99", "15", "804.93"), // 114.9885 -> 114.99, x7
];

/// Tenant `n`'s request: one of the cases, its line named after the tenant, so a result
/// that went to the wrong caller shows.
fn tenant_request(tenant: usize) -> (QuoteRequest, &'static str) {
    let (quantity, unit_price, markup, total) = CASES[tenant % CASES.len()];
    let mut request = simple_request();
    request.items = vec![item(
        &format!("tenant-{tenant}"),
        quantity,
        unit_price,
        "RUB",
    )];
    request
        .variables
        .insert("markup_percent".into(), markup.into());
    request.variables.insert("vat_percent".into(), "0".into());
    (request, total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tenants_get_their_own_results() {
    let runtime = Arc::new(test_runtime(RuntimeConfig::default()));
    let standard = load(&runtime, "standard").await;
    let calls = (0..200).map(|tenant| {
        let (runtime, standard) = (runtime.clone(), standard.clone());
        tokio::spawn(async move {
            let (request, expected_total) = tenant_request(tenant);
            let limits = runtime.config().calculation_limits();
            let outcome = runtime
                .calculate(&standard, &request, &limits)
                .await
                .expect("prices");
            (tenant, outcome.value, expected_total)
        })
    });
    for call in futures::future::join_all(calls).await {
        let (tenant, result, expected) = call.unwrap();
        assert_eq!(result.items[0].id, format!("tenant-{tenant}"));
        assert_eq!(result.items[0].total, expected, "tenant {tenant}");
        assert_eq!(result.total, expected, "tenant {tenant}: one line, no VAT");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burning_plugins_do_not_stall_other_work() {
    let runtime = Arc::new(test_runtime(RuntimeConfig::default()));
    let looping = load(&runtime, "hostile-loop-pure").await;
    let standard = load(&runtime, "standard").await;
    let burn = Duration::from_secs(3);
    // As many burning calculations as there are worker threads.
    let burners: Vec<_> = (0..2)
        .map(|_| {
            let (runtime, looping) = (runtime.clone(), looping.clone());
            tokio::spawn(async move {
                runtime
                    .calculate(&looping, &simple_request(), &limits(burn, u64::MAX / 2))
                    .await
            })
        })
        .collect();
    let started = Instant::now();
    // A heartbeat that would see a long gap if a worker thread were held.
    let heartbeat = tokio::spawn(async move {
        let mut longest = Duration::ZERO;
        let mut last = Instant::now();
        while last.duration_since(started) < burn - Duration::from_millis(500) {
            tokio::time::sleep(Duration::from_millis(5)).await;
            longest = longest.max(last.elapsed());
            last = Instant::now();
        }
        longest
    });
    let mut priced = 0;
    while started.elapsed() < burn - Duration::from_secs(1) {
        let limits = runtime.config().calculation_limits();
        runtime
            .calculate(&standard, &simple_request(), &limits)
            .await
            .expect("prices meanwhile");
        priced += 1;
    }
    let longest_gap = heartbeat.await.unwrap();
    for burner in burners {
        assert!(burner.await.unwrap().is_err(), "the loop cannot succeed");
    }
    eprintln!(
        "{priced} calculations while two plugins burned; longest heartbeat gap {longest_gap:?}"
    );
    // Generous bounds for a loaded machine: a held worker would stall the heartbeat for
    // the whole burn (3 s) and let at most one calculation through.
    assert!(priced >= 3, "only {priced} calculations got through");
    assert!(
        longest_gap < Duration::from_secs(1),
        "the runtime stalled for {longest_gap:?}"
    );
}
