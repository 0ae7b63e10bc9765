//! Compiled plugins: kept in memory, kept on disk across restarts, and a corrupt or
//! foreign artifact is recompiled, never trusted.

use super::*;
use quote_host::runtime::{LoadError, sha256_hex};
use std::path::Path;

fn runtime_with_artifacts(dir: &Path) -> Runtime {
    Runtime::new(RuntimeConfig {
        max_concurrent_instances: 16,
        artifact_dir: Some(dir.to_path_buf()),
        ..RuntimeConfig::default()
    })
    .expect("the runtime starts")
}

fn artifact_of(dir: &Path, sha256: &str) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(sha256)
        })
        .unwrap_or_else(|| panic!("no artifact for {sha256} in {}", dir.display()))
}

async fn prices(runtime: &Runtime, plugin: &CompiledPlugin) {
    let limits = runtime.config().calculation_limits();
    let outcome = runtime
        .calculate(plugin, &simple_request(), &limits)
        .await
        .expect("prices");
    assert_eq!(outcome.value.total, "6656.69");
}

/// Loads by hash with no bytes available: only the disk cache can answer.
async fn load_without_bytes(
    runtime: &Runtime,
    sha256: &str,
) -> Result<Arc<CompiledPlugin>, LoadError> {
    runtime
        .load(sha256, async {
            Err("the bytes are not available".to_string())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loads_from_the_artifact_directory() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = plugin_bytes("standard");
    let sha256 = sha256_hex(&bytes);
    {
        let first = runtime_with_artifacts(dir.path());
        let plugin = first.load_bytes(bytes.clone()).await.unwrap();
        first.load_bytes(bytes.clone()).await.unwrap();
        let stats = first.cache_stats().await;
        assert_eq!(
            (stats.compiles, stats.memory_hits, stats.entries),
            (1, 1, 1)
        );
        prices(&first, &plugin).await;
    }
    let restarted = runtime_with_artifacts(dir.path());
    let plugin = load_without_bytes(&restarted, &sha256)
        .await
        .expect("served from disk");
    prices(&restarted, &plugin).await;
    let stats = restarted.cache_stats().await;
    assert_eq!(
        (stats.disk_hits, stats.compiles, stats.rejected_artifacts),
        (1, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_truncated_or_foreign_artifacts_are_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let standard = plugin_bytes("standard");
    let other = plugin_bytes("hostile-calc-error");
    let sha256 = sha256_hex(&standard);
    {
        let first = runtime_with_artifacts(dir.path());
        first.load_bytes(standard.clone()).await.unwrap();
        first.load_bytes(other.clone()).await.unwrap();
    }
    let path = artifact_of(dir.path(), &sha256);
    let original = std::fs::read(&path).unwrap();
    let other_artifact = std::fs::read(artifact_of(dir.path(), &sha256_hex(&other))).unwrap();

    let mut flipped = original.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    let truncated = original[..original.len() / 3].to_vec();
    for (case, contents) in [
        ("flipped byte", flipped),
        ("truncated", truncated),
        ("foreign", other_artifact),
    ] {
        std::fs::write(&path, contents).unwrap();
        let runtime = runtime_with_artifacts(dir.path());
        assert!(
            load_without_bytes(&runtime, &sha256).await.is_err(),
            "{case}: a bad artifact was trusted"
        );
        let plugin = runtime
            .load_bytes(standard.clone())
            .await
            .expect("recompiled from the bytes");
        prices(&runtime, &plugin).await;
        let stats = runtime.cache_stats().await;
        assert_eq!((stats.rejected_artifacts, stats.compiles), (1, 1), "{case}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_must_match_their_hash() {
    let runtime = test_runtime(RuntimeConfig::default());
    let claimed = sha256_hex(b"something else");
    let error = runtime
        .load(&claimed, async { Ok(plugin_bytes("standard")) })
        .await
        .err()
        .unwrap();
    assert!(matches!(error, LoadError::HashMismatch { .. }), "{error}");
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_components_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(RuntimeConfig {
        max_concurrent_instances: 16,
        artifact_dir: Some(dir.path().to_path_buf()),
        describe_timeout_ms: 300,
        fuel: u64::MAX / 2,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let before = files_in(dir.path());
    for (crate_name, code) in [
        ("hostile-wrong-world", "wrong_world"),
        ("hostile-describe-loop", "calculation_timeout"),
    ] {
        let refused = runtime
            .inspect(plugin_bytes(crate_name))
            .await
            .err()
            .expect("refused");
        assert_eq!(refused.code(), code, "{refused}");
    }
    assert_eq!(
        files_in(dir.path()),
        before,
        "a refused component left files"
    );
    let stats = runtime.cache_stats().await;
    assert_eq!((stats.entries, stats.compiles), (0, 2), "{stats:?}");
    // An accepted one is kept, on disk and in memory.
    runtime.inspect(plugin_bytes("standard")).await.unwrap();
    assert_eq!(files_in(dir.path()).len(), before.len() + 1);
    assert_eq!(runtime.cache_stats().await.entries, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compile_past_its_time_limit_is_refused() {
    let runtime = test_runtime(RuntimeConfig {
        compile_timeout_ms: 1,
        ..RuntimeConfig::default()
    });
    let error = runtime
        .load_bytes(plugin_bytes("standard"))
        .await
        .err()
        .expect("a 1 ms limit is too short for any real compile");
    assert!(
        matches!(error, LoadError::CompileTimeout { limit_ms: 1 }),
        "{error}"
    );
    assert_eq!(error.code(), "compile_timeout");
}

/// A compile that timed out cannot be stopped, so it keeps its slot until it ends: with
/// one slot, the next compile waits for it and, past the limit, is refused as busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_compile_keeps_its_slot() {
    let runtime = test_runtime(RuntimeConfig {
        compile_timeout_ms: 1,
        max_concurrent_compiles: 1,
        ..RuntimeConfig::default()
    });
    let first = runtime
        .load_bytes(plugin_bytes("standard"))
        .await
        .err()
        .unwrap();
    assert_eq!(first.code(), "compile_timeout", "{first}");
    let second = runtime
        .load_bytes(plugin_bytes("hostile-trap"))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(second, LoadError::CompileBusy { slots: 1, .. }),
        "{second}"
    );
    assert_eq!(second.code(), "compile_busy");
}

/// The weight of a plugin in the cache, measured on a runtime of its own.
async fn compiled_size(crate_name: &str) -> u64 {
    let runtime = test_runtime(RuntimeConfig::default());
    load(&runtime, crate_name).await.size_bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_cache_is_bounded_by_bytes() {
    let standard = compiled_size("standard").await;
    let other = compiled_size("hostile-slow-ok").await;
    assert!(standard > 0 && other > 0);
    // Room for either plugin, not for both.
    let bound = standard + other - 1;
    let runtime = test_runtime(RuntimeConfig {
        instance_cache_bytes: bound,
        ..RuntimeConfig::default()
    });
    let limits = runtime.config().calculation_limits();
    for _ in 0..2 {
        for crate_name in ["standard", "hostile-slow-ok"] {
            let plugin = load(&runtime, crate_name).await;
            runtime
                .calculate(&plugin, &simple_request(), &limits)
                .await
                .expect("prices");
        }
    }
    let stats = runtime.cache_stats().await;
    assert!(stats.bytes <= bound, "{stats:?}, bound {bound}");
    assert_eq!(stats.entries, 1, "{stats:?}");
    eprintln!("compiled sizes: standard {standard}, slow-ok {other}; {stats:?}");
}
