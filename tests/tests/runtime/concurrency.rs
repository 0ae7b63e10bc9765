//! Many tenants at once: independent, correct results, and a plugin burning its
//! whole time limit never stalls the async runtime.

use super::*;
use quote_host::contract::QuoteRequest;
use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;
use std::time::Instant;

/// A request whose correct answer is easy to state: `quantity` units at `price` RUB,
/// with the tenant's own markup and no VAT.
fn tenant_request(tenant: usize) -> (QuoteRequest, String) {
    let mut request = simple_request();
    let quantity = tenant % 7 + 1;
    let price = format!("{}.25", 10 + tenant);
    request.items = vec![item("1", &quantity.to_string(), &price, "RUB")];
    request
        .variables
        .insert("markup_percent".into(), (tenant % 5 * 10).to_string());
    request.variables.insert("vat_percent".into(), "0".into());
    let markup = Decimal::from(tenant % 5 * 10);
    let unit =
        Decimal::from_str(&price).unwrap() * (Decimal::ONE_HUNDRED + markup) / Decimal::ONE_HUNDRED;
    let unit = unit.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let mut total = unit * Decimal::from(quantity);
    total.rescale(2);
    (request, total.to_string())
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
            (tenant, outcome.value.total, expected_total)
        })
    });
    for call in futures::future::join_all(calls).await {
        let (tenant, total, expected) = call.unwrap();
        assert_eq!(total, expected, "tenant {tenant}");
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
    assert!(priced >= 10, "only {priced} calculations got through");
    assert!(
        longest_gap < Duration::from_millis(250),
        "the runtime stalled for {longest_gap:?}"
    );
}
