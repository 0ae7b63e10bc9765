//! The plugin runtime: the only code that touches wasmtime. One engine, compiled
//! plugins cached on disk and in memory, and a fresh limited store per call.

mod artifacts;
mod cache;
mod call;
mod convert;
mod engine;
mod error;
mod wasi;

pub use cache::{CacheStats, UnkeptPlugin};
pub use error::{CallError, CallFailure, CallReport, LoadError};

use crate::contract::{PluginInfo, QuoteRequest, QuoteResult};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The bindings of `wit/quote.wit`, generated once for the whole host.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "calculator",
        exports: { default: async },
    });
}

/// Limits and sizing of the sandbox. Every field has a default and can be set in the
/// config file (`[runtime]`) or the environment (`QUOTE_RUNTIME__<FIELD>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    /// Wall-clock limit of one calculation, in milliseconds. Default 60000.
    pub timeout_ms: u64,
    /// Fuel per calculation (about one unit per wasm instruction). Default 10^10.
    pub fuel: u64,
    /// Linear memory per plugin instance, in MiB. Default 64.
    pub memory_mib: u64,
    /// Wall-clock limit of `describe` (run at upload), in milliseconds. Default 5000.
    pub describe_timeout_ms: u64,
    /// WebAssembly stack, in KiB. Default 512.
    pub max_wasm_stack_kib: usize,
    /// Captured stdout+stderr per call, in bytes; the rest is counted and dropped. Default 16384.
    pub stderr_cap_bytes: usize,
    /// Largest accepted result (or `describe` output), in bytes. Default 1 MiB. It also
    /// caps what the canonical ABI may copy out of a plugin in one go (its result, or the
    /// arguments of one host call): [`RuntimeConfig::hostcall_fuel`].
    pub max_result_bytes: usize,
    /// Longest plugin error message kept (the text of a `calc-error`), in bytes; the rest
    /// is cut and counted. Default 512.
    pub max_plugin_error_bytes: usize,
    /// Total size of the compiled plugins kept ready in memory, in bytes (each weighs
    /// its compiled code image, about the size of its artifact on disk). A plugin larger
    /// than the whole budget still works, compiled or loaded from disk on every use.
    /// Default 256 MiB.
    pub instance_cache_bytes: u64,
    /// Replaced by `instance_cache_bytes`: still accepted so old config files load, but
    /// ignored (with a warning at start-up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_cache_entries: Option<u64>,
    /// Wall-clock limit of compiling one plugin, in milliseconds. Default 20000. A plugin
    /// that takes longer is refused (`compile_timeout`); the abandoned compile still
    /// holds its slot until it really ends.
    pub compile_timeout_ms: u64,
    /// Compiles running at once (each already uses every core). Default 2. A compile
    /// that waits `compile_timeout_ms` for a slot is refused as busy (`compile_busy`).
    pub max_concurrent_compiles: usize,
    /// Where compiled artifacts are kept between runs; unset disables the disk cache.
    /// Default `./data/plugin-cache`.
    pub artifact_dir: Option<PathBuf>,
    /// Use the pooling instance allocator. Default true. Without it every call maps and
    /// unmaps its memory: measured 4x slower here, and slower on 2 threads than on 1.
    pub pooling_allocator: bool,
    /// Plugin instances alive at once (pool size). Default 256.
    pub max_concurrent_instances: u32,
    /// Memory and table bytes a pool slot keeps resident between calls. Default 2 MiB.
    /// Memory a call touches beyond it is given back to the kernel after the call, which
    /// is slow and contends across threads (0 measured 2x slower per call and slower on
    /// 2 threads than on 1); raise it when plugins' `peak_memory_bytes` exceed it.
    pub keep_resident_bytes: usize,
    /// Period of the epoch ticker, in milliseconds: the granularity of time checks. Default 10.
    pub epoch_tick_ms: u64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 60_000,
            fuel: 10_000_000_000,
            memory_mib: 64,
            describe_timeout_ms: 5_000,
            max_wasm_stack_kib: 512,
            stderr_cap_bytes: 16 * 1024,
            max_result_bytes: 1024 * 1024,
            max_plugin_error_bytes: 512,
            instance_cache_bytes: 256 * 1024 * 1024,
            instance_cache_entries: None,
            compile_timeout_ms: 20_000,
            max_concurrent_compiles: 2,
            artifact_dir: Some(PathBuf::from("./data/plugin-cache")),
            pooling_allocator: true,
            max_concurrent_instances: 256,
            keep_resident_bytes: 2 * 1024 * 1024,
            epoch_tick_ms: 10,
        }
    }
}

/// How many host bytes the lift of a result may take per byte of the result's own size
/// (`max_result_bytes` counts text plus 16 bytes a field). The lift charges every string
/// its bytes and every list element its host size: a line result with empty strings
/// weighs 96 bytes (three `String`s and a `Vec`) against its 16, the worst ratio of the
/// contract, so any result within `max_result_bytes` also fits through the lift.
/// Lowering the request into the plugin is not charged (wasmtime counts only data
/// coming out of the guest), so a large request needs no margin here.
const LIFT_BYTES_PER_RESULT_BYTE: usize = 6;

impl RuntimeConfig {
    /// Bytes the canonical ABI may copy out of a plugin in one lift (its return value, or
    /// the arguments of one WASI call): `max_result_bytes` times 6. A larger result fails
    /// inside the lift, before it is copied whole into the host.
    pub fn hostcall_fuel(&self) -> usize {
        self.max_result_bytes
            .saturating_mul(LIFT_BYTES_PER_RESULT_BYTE)
    }

    pub(crate) fn memory_limit_bytes(&self) -> usize {
        usize::try_from(self.memory_mib * 1024 * 1024).unwrap_or(usize::MAX)
    }

    /// The limits of a calculation under this configuration.
    pub fn calculation_limits(&self) -> CallLimits {
        CallLimits {
            timeout: Duration::from_millis(self.timeout_ms),
            fuel: self.fuel,
            memory_bytes: self.memory_mib * 1024 * 1024,
        }
    }

    /// The limits of `describe`: same fuel and memory, a shorter clock.
    pub fn describe_limits(&self) -> CallLimits {
        CallLimits {
            timeout: Duration::from_millis(self.describe_timeout_ms.min(self.timeout_ms)),
            ..self.calculation_limits()
        }
    }
}

/// The limits of one call. The memory limit cannot exceed the pool's slot size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallLimits {
    pub timeout: Duration,
    pub fuel: u64,
    pub memory_bytes: u64,
}

/// A call's value and what it cost.
#[derive(Debug, Clone)]
pub struct Outcome<T> {
    pub value: T,
    pub report: CallReport,
}

/// A plugin compiled and linked, ready to instantiate.
pub struct CompiledPlugin {
    /// Hex SHA-256 of the component bytes: the plugin's identity.
    pub sha256: String,
    /// Size of its compiled code image (about its artifact's size): its weight in the cache.
    pub size_bytes: u64,
    pre: bindings::CalculatorPre<call::CallState>,
}

/// The sandbox. One per process; cheap to share behind an `Arc`.
pub struct Runtime {
    config: RuntimeConfig,
    engine: wasmtime::Engine,
    plugins: cache::PluginCache,
    _ticker: engine::EpochTicker,
}

impl Runtime {
    /// Builds the engine, opens the artifact directory and starts the epoch ticker.
    pub fn new(config: RuntimeConfig) -> anyhow::Result<Self> {
        let engine = engine::build_engine(&config)?;
        let plugins = cache::PluginCache::new(&engine, &config)?;
        let ticker = engine::EpochTicker::start(
            engine.clone(),
            Duration::from_millis(config.epoch_tick_ms.max(1)),
        )?;
        Ok(Self {
            config,
            engine,
            plugins,
            _ticker: ticker,
        })
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The plugin with this SHA-256, from memory, else from the artifact directory,
    /// else compiled from the bytes `fetch` supplies (called only then).
    pub async fn load<F>(&self, sha256: &str, fetch: F) -> Result<Arc<CompiledPlugin>, LoadError>
    where
        F: Future<Output = Result<Vec<u8>, String>> + Send,
    {
        self.plugins.get_or_load(sha256, fetch).await
    }

    /// The plugin made of these bytes (validating, compiling and caching them).
    pub async fn load_bytes(&self, bytes: Vec<u8>) -> Result<Arc<CompiledPlugin>, LoadError> {
        let sha256 = sha256_hex(&bytes);
        self.load(&sha256, async move { Ok(bytes) }).await
    }

    /// Loads the bytes and asks the plugin what it is: the upload check.
    /// Nothing of a refused plugin remains: it is written to the artifact directory and
    /// kept in memory only once `describe` has passed.
    /// Runs `describe` where it is called: for the CLI and the start-up install, with
    /// no tenant to share with ([`Pricer::inspect`](crate::quoting::Pricer::inspect) runs
    /// an upload's on the guest executor).
    pub async fn inspect(
        &self,
        bytes: Vec<u8>,
    ) -> Result<(Arc<CompiledPlugin>, PluginInfo), LoadError> {
        let candidate = self.candidate(bytes).await?;
        let info = self
            .describe(&candidate.plugin)
            .await
            .map_err(LoadError::Describe)?;
        self.keep(&candidate).await;
        Ok((candidate.plugin, info.value))
    }

    /// The first step of the upload check: the bytes validated and compiled (or found
    /// compiled), kept nowhere until [`Runtime::keep`].
    pub async fn candidate(&self, bytes: Vec<u8>) -> Result<UnkeptPlugin, LoadError> {
        self.plugins.candidate(bytes).await
    }

    /// Keeps a candidate whose `describe` passed: its artifact on disk, the plugin in memory.
    pub async fn keep(&self, candidate: &UnkeptPlugin) {
        self.plugins.keep(candidate).await;
    }

    /// Calls `describe` under the describe limits.
    pub async fn describe(
        &self,
        plugin: &CompiledPlugin,
    ) -> Result<Outcome<PluginInfo>, CallFailure> {
        call::describe(self, plugin, &self.config.describe_limits()).await
    }

    /// Prices a request under `limits`, validating what the plugin returns.
    pub async fn calculate(
        &self,
        plugin: &CompiledPlugin,
        request: &QuoteRequest,
        limits: &CallLimits,
    ) -> Result<Outcome<QuoteResult>, CallFailure> {
        call::calculate(self, plugin, request, limits).await
    }

    /// What makes every running guest reach its next epoch check at once (it then
    /// yields, or stops past its deadline): the guest executor's preemption.
    pub fn preempter(&self) -> Box<dyn Fn() + Send + Sync> {
        let engine = self.engine.clone();
        Box::new(move || engine.increment_epoch())
    }

    /// Counters of the compiled-plugin caches.
    pub async fn cache_stats(&self) -> CacheStats {
        self.plugins.stats().await
    }
}

/// Lower-case hex SHA-256 of the bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::RuntimeConfig;

    #[test]
    fn an_old_config_with_an_entry_count_still_loads() {
        let config: RuntimeConfig = toml::from_str("instance_cache_entries = 256").unwrap();
        assert_eq!(config.instance_cache_entries, Some(256));
        assert_eq!(config.instance_cache_bytes, 256 * 1024 * 1024);
    }

    #[test]
    fn the_lift_cap_follows_the_result_cap() {
        assert_eq!(RuntimeConfig::default().hostcall_fuel(), 6 * 1024 * 1024);
        let small = RuntimeConfig {
            max_result_bytes: 1000,
            ..RuntimeConfig::default()
        };
        assert_eq!(small.hostcall_fuel(), 6000);
    }
}
