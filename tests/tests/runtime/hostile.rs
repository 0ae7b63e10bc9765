//! Every hostile plugin ends in its typed error, the process stays up, and the next
//! call of the same plugin and of another one is clean.

use super::*;
use quote_host::contract::{CalcError, QuoteRequest};
use quote_host::runtime::{CallError, LoadError};

/// After a failure, the same runtime still prices the standard way, exactly.
async fn assert_runtime_healthy(runtime: &Runtime) {
    let standard = load(runtime, "standard").await;
    let limits = runtime.config().calculation_limits();
    let outcome = runtime
        .calculate(&standard, &simple_request(), &limits)
        .await
        .expect("standard prices");
    // 19.99 USD * 92.5 = 1849.08 RUB (rounded), 3 of them, VAT 20 %.
    assert_eq!(outcome.value.items[0].unit_price, "1849.08");
    assert_eq!(outcome.value.subtotal, "5547.24");
    assert_eq!(outcome.value.total, "6656.69");
}

async fn failing_call(
    runtime: &Runtime,
    crate_name: &str,
    limits: &CallLimits,
) -> quote_host::runtime::CallFailure {
    let plugin = load(runtime, crate_name).await;
    let failure = runtime
        .calculate(&plugin, &simple_request(), limits)
        .await
        .expect_err("the call fails");
    // The same plugin fails the same way the second time: nothing leaked between calls.
    let again = runtime
        .calculate(&plugin, &simple_request(), limits)
        .await
        .expect_err("fails again");
    assert_eq!(
        again.error, failure.error,
        "{crate_name} failed differently on the second call"
    );
    assert_runtime_healthy(runtime).await;
    failure
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pure_loop_runs_out_of_fuel() {
    let runtime = test_runtime(RuntimeConfig::default());
    let failure = failing_call(
        &runtime,
        "hostile-loop-pure",
        &limits(Duration::from_secs(30), 100_000_000),
    )
    .await;
    assert_eq!(
        failure.error,
        CallError::FuelExhausted {
            budget: 100_000_000
        }
    );
    assert!(
        failure.report.fuel_used >= 99_000_000,
        "fuel used: {}",
        failure.report.fuel_used
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_hog_hits_the_memory_limit() {
    let runtime = test_runtime(RuntimeConfig::default());
    let failure = failing_call(
        &runtime,
        "hostile-memory-hog",
        &runtime.config().calculation_limits(),
    )
    .await;
    assert_eq!(
        failure.error,
        CallError::MemoryLimit {
            limit_bytes: 64 * 1024 * 1024
        }
    );
    assert!(
        failure.report.peak_memory_bytes > 60 * 1024 * 1024,
        "peak: {}",
        failure.report.peak_memory_bytes
    );
    assert!(failure.report.peak_memory_bytes <= 64 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_is_a_trap_with_a_backtrace() {
    let runtime = test_runtime(RuntimeConfig::default());
    let failure = failing_call(
        &runtime,
        "hostile-deep-recursion",
        &runtime.config().calculation_limits(),
    )
    .await;
    let CallError::Trap { message, backtrace } = &failure.error else {
        panic!("{:?}", failure.error)
    };
    assert!(message.contains("call stack exhausted"), "{message}");
    assert!(
        backtrace.iter().any(|frame| frame.contains("dive")),
        "{backtrace:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_output_is_rejected() {
    let runtime = test_runtime(RuntimeConfig::default());
    let failure = failing_call(
        &runtime,
        "hostile-huge-output",
        &runtime.config().calculation_limits(),
    )
    .await;
    let CallError::InvalidOutput(reason) = &failure.error else {
        panic!("{:?}", failure.error)
    };
    // Refused inside the lift, at 6 MiB copied, not after copying all 8 MiB into the host.
    assert!(
        reason.contains("more than 6291456 bytes to the host at once"),
        "{reason}"
    );
    assert!(reason.contains("at most 1048576 bytes"), "{reason}");
}

fn huge_error_request(error_kib: u64) -> QuoteRequest {
    let mut request = simple_request();
    request
        .variables
        .insert("error_kib".into(), error_kib.to_string());
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_plugin_errors_are_cut_or_refused() {
    let runtime = test_runtime(RuntimeConfig::default());
    let plugin = load(&runtime, "hostile-huge-error").await;
    let limits = runtime.config().calculation_limits();
    // 4 MiB of message: it fits through the lift, and only its first 512 bytes are kept.
    let failure = runtime
        .calculate(&plugin, &huge_error_request(4096), &limits)
        .await
        .expect_err("the plugin refuses");
    let CallError::Plugin(CalcError::Internal(message)) = &failure.error else {
        panic!("{:?}", failure.error)
    };
    assert!(
        message.starts_with("hostile: rule table corrupt; xxx"),
        "{message}"
    );
    assert!(message.len() < 600, "{} bytes kept", message.len());
    assert!(message.ends_with("(4193792 more bytes cut)"), "{message}");
    // 16 MiB: more than the canonical ABI may copy out at once, refused in the lift.
    let failure = runtime
        .calculate(&plugin, &huge_error_request(16 * 1024), &limits)
        .await
        .expect_err("refused");
    assert_eq!(
        failure.error.code(),
        "invalid_plugin_output",
        "{}",
        failure.error
    );
    assert_runtime_healthy(&runtime).await;
}

/// The lift cap charges what comes out of the plugin only: a request far larger than
/// it still reaches the plugin (it is lowered into the guest, not lifted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_request_is_not_charged_to_the_lift_cap() {
    let runtime = test_runtime(RuntimeConfig {
        max_result_bytes: 16 * 1024,
        ..RuntimeConfig::default()
    });
    let standard = load(&runtime, "standard").await;
    let mut request = simple_request();
    request.items[0].name = "n".repeat(1024 * 1024);
    let outcome = runtime
        .calculate(&standard, &request, &runtime.config().calculation_limits())
        .await
        .expect("a 1 MiB request passes a 96 KiB lift cap");
    assert_eq!(outcome.value.total, "6656.69");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trap_and_panic_are_traps_with_backtraces() {
    let runtime = test_runtime(RuntimeConfig::default());
    let trap = failing_call(
        &runtime,
        "hostile-trap",
        &runtime.config().calculation_limits(),
    )
    .await;
    let CallError::Trap { message, backtrace } = &trap.error else {
        panic!("{:?}", trap.error)
    };
    assert!(message.contains("unreachable"), "{message}");
    assert!(!backtrace.is_empty());

    let panic = failing_call(
        &runtime,
        "hostile-panic",
        &runtime.config().calculation_limits(),
    )
    .await;
    assert!(
        matches!(panic.error, CallError::Trap { .. }),
        "{:?}",
        panic.error
    );
    assert!(
        panic
            .report
            .stderr
            .contains("hostile panic: pricing table missing"),
        "{}",
        panic.report.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stderr_flood_succeeds_with_truncated_output() {
    let runtime = test_runtime(RuntimeConfig::default());
    let plugin = load(&runtime, "hostile-stderr-flood").await;
    let outcome = runtime
        .calculate(
            &plugin,
            &simple_request(),
            &runtime.config().calculation_limits(),
        )
        .await
        .expect("a chatty plugin still prices");
    assert!(outcome.report.stderr.starts_with("stderr-flood: start"));
    assert_eq!(outcome.report.stderr.len(), 16 * 1024);
    assert!(outcome.report.stderr_truncated);
    assert_eq!(outcome.value.items.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_probe_finds_nothing_to_escape_to() {
    let runtime = test_runtime(RuntimeConfig::default());
    let plugin = load(&runtime, "hostile-sandbox-probe").await;
    let limits = runtime.config().calculation_limits();
    let first = runtime
        .calculate(&plugin, &simple_request(), &limits)
        .await
        .expect("the probe returns");
    let seen = |key: &str| first.value.breakdown[key].as_str().unwrap().to_string();
    for key in [
        "file_read",
        "dir_list_cwd",
        "dir_list_root",
        "tcp_connect",
        "env_home",
    ] {
        assert!(seen(key).starts_with("err:"), "{key} = {}", seen(key));
    }
    assert_eq!(seen("env_count"), "0");
    assert_eq!(seen("args_count"), "0");
    // 2026-11-29T00:00:00Z: the quote date, not the real time.
    assert_eq!(seen("wall_clock_unix_secs"), "1795910400");
    assert_eq!(seen("monotonic_elapsed_nanos"), "0");
    // Randomness is seeded: the next call sees the very same bytes.
    let second = runtime
        .calculate(&plugin, &simple_request(), &limits)
        .await
        .unwrap();
    assert_eq!(
        first.value, second.value,
        "the same input must give the same output"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_violations_are_invalid_output() {
    let runtime = test_runtime(RuntimeConfig::default());
    let limits = runtime.config().calculation_limits();
    let bad_decimal = failing_call(&runtime, "hostile-bad-decimal", &limits).await;
    assert_eq!(
        bad_decimal.error,
        CallError::InvalidOutput(
            "items[0].unit_price: '12,50' is not a decimal number like 1234.50 (no exponent or separators)".into()
        )
    );
    let wrong_count = failing_call(&runtime, "hostile-wrong-count", &limits).await;
    assert_eq!(
        wrong_count.error,
        CallError::InvalidOutput(
            "0 line results for 1 items: there must be exactly one per item".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_errors_pass_through() {
    let runtime = test_runtime(RuntimeConfig::default());
    let failure = failing_call(
        &runtime,
        "hostile-calc-error",
        &runtime.config().calculation_limits(),
    )
    .await;
    assert_eq!(
        failure.error,
        CallError::Plugin(CalcError::Internal("hostile: rule table corrupt".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_components_are_refused_with_the_reason() {
    let runtime = test_runtime(RuntimeConfig {
        describe_timeout_ms: 300,
        ..RuntimeConfig::default()
    });
    let wrong_world = runtime
        .load_bytes(plugin_bytes("hostile-wrong-world"))
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(wrong_world, LoadError::WrongWorld(_)),
        "{wrong_world}"
    );
    assert!(
        wrong_world.to_string().contains("calculate"),
        "{wrong_world}"
    );

    let garbage = runtime
        .load_bytes(b"definitely not wasm".to_vec())
        .await
        .err()
        .expect("refused");
    assert_eq!(garbage.code(), "not_a_component");
    // A core module (the empty one) is WebAssembly but not a component.
    let core_module = runtime
        .load_bytes(b"\0asm\x01\0\0\0".to_vec())
        .await
        .err()
        .expect("refused");
    assert_eq!(core_module.code(), "not_a_component");

    let started = std::time::Instant::now();
    let describe_loop = runtime
        .inspect(plugin_bytes("hostile-describe-loop"))
        .await
        .err()
        .expect("refused");
    assert_eq!(
        describe_loop.code(),
        "calculation_timeout",
        "{describe_loop}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "describe ran {:?}",
        started.elapsed()
    );
    assert_runtime_healthy(&runtime).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_is_the_plugins_own_error() {
    let runtime = test_runtime(RuntimeConfig::default());
    let standard = load(&runtime, "standard").await;
    let mut request = simple_request();
    request.items[0].quantity = "0".into();
    let failure = runtime
        .calculate(&standard, &request, &runtime.config().calculation_limits())
        .await
        .expect_err("zero quantity is refused");
    assert_eq!(
        failure.error,
        CallError::Plugin(CalcError::InvalidInput(
            "items[0].quantity must be positive".into()
        ))
    );
}
