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
