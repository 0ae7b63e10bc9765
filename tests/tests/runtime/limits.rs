//! Time limits hold whether the guest is computing or blocked inside a host call,
//! and they are accurate.

use super::*;
use quote_host::runtime::{CallError, CallReport};
use std::time::Instant;

/// Fuel that never runs out within these tests' time limits.
const UNLIMITED_FUEL: u64 = u64::MAX / 2;

async fn time_out(crate_name: &str, limit: Duration) -> Duration {
    time_out_with_report(crate_name, limit).await.0
}

async fn time_out_with_report(crate_name: &str, limit: Duration) -> (Duration, CallReport) {
    let runtime = test_runtime(RuntimeConfig::default());
    let plugin = load(&runtime, crate_name).await;
    let started = Instant::now();
    let failure = runtime
        .calculate(&plugin, &simple_request(), &limits(limit, UNLIMITED_FUEL))
        .await
        .expect_err("the loop never returns");
    let elapsed = started.elapsed();
    let limit_ms = u64::try_from(limit.as_millis()).unwrap();
    assert_eq!(failure.error, CallError::Timeout { limit_ms });
    assert!(
        elapsed >= limit,
        "{crate_name} stopped early, after {elapsed:?}"
    );
    (elapsed, failure.report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pure_loop_stops_at_200_ms() {
    let elapsed = time_out("hostile-loop-pure", Duration::from_millis(200)).await;
    assert!(
        elapsed < Duration::from_millis(300),
        "stopped after {elapsed:?}"
    );
}

/// A timeout reports the fuel the loop really burned (a safety bound, not a speed claim:
/// any machine runs far more than a million instructions in 200 ms), never more than
/// the budget; it once reported the few thousand units burned before the loop began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_reports_the_fuel_it_burned() {
    let (_, report) = time_out_with_report("hostile-loop-pure", Duration::from_millis(200)).await;
    eprintln!("a 200 ms pure loop burned {} fuel", report.fuel_used);
    assert!(
        report.fuel_used > 1_000_000,
        "fuel used: {}",
        report.fuel_used
    );
    assert!(report.fuel_used <= UNLIMITED_FUEL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loop_blocked_in_a_wasi_sleep_stops_at_200_ms() {
    let elapsed = time_out("hostile-loop-sleep", Duration::from_millis(200)).await;
    assert!(
        elapsed < Duration::from_millis(300),
        "stopped after {elapsed:?}"
    );
}

/// The default limit, end to end: a ticker that drifts would overshoot by a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_second_limit_stops_within_sixty_one() {
    let elapsed = time_out("hostile-loop-pure", Duration::from_secs(60)).await;
    eprintln!("60 s limit stopped the pure loop after {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(61),
        "stopped after {elapsed:?}"
    );
}
