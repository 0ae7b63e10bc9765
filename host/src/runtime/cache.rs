//! Compiled plugins: linked `InstancePre`s in an in-memory cache bounded by bytes, in
//! front of the artifact directory. Compiles run on blocking threads, a bounded number at once, under a time limit.

use super::artifacts::{ArtifactDir, ArtifactLoad};
use super::bindings::CalculatorPre;
use super::call::{self, CallState};
use super::error::LoadError;
use super::{CompiledPlugin, RuntimeConfig, sha256_hex};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

/// Counters of the plugin caches since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct CacheStats {
    /// Plugins ready in memory now.
    pub entries: u64,
    /// Their total weight (compiled code image), bounded by `instance_cache_bytes`.
    pub bytes: u64,
    pub memory_hits: u64,
    pub memory_misses: u64,
    /// Misses served from a compiled artifact on disk.
    pub disk_hits: u64,
    /// Misses that compiled the component.
    pub compiles: u64,
    /// Artifacts on disk that failed authentication or deserialization and were replaced.
    pub rejected_artifacts: u64,
}

#[derive(Default)]
struct Counters {
    memory_hits: AtomicU64,
    memory_misses: AtomicU64,
    disk_hits: AtomicU64,
    compiles: AtomicU64,
    rejected_artifacts: AtomicU64,
}

/// A plugin compiled and linked but not kept yet: when `compiled` is set, nothing of it
/// is on disk or in memory, so dropping it leaves no trace.
pub struct UnkeptPlugin {
    pub(super) plugin: Arc<CompiledPlugin>,
    /// The component, when it was compiled for this candidate (not loaded from a cache).
    compiled: Option<Component>,
}

impl UnkeptPlugin {
    /// The compiled plugin, not kept anywhere yet.
    pub fn plugin(&self) -> &Arc<CompiledPlugin> {
        &self.plugin
    }
}

pub(super) struct PluginCache {
    engine: Engine,
    linker: Linker<CallState>,
    artifacts: Option<ArtifactDir>,
    loaded: moka::future::Cache<String, Arc<CompiledPlugin>>,
    compile_slots: Arc<Semaphore>,
    max_compiles: usize,
    compile_timeout: Duration,
    counters: Counters,
}

impl PluginCache {
    pub(super) fn new(engine: &Engine, config: &RuntimeConfig) -> anyhow::Result<Self> {
        let artifacts = match &config.artifact_dir {
            Some(dir) => Some(ArtifactDir::open(dir, engine)?),
            None => None,
        };
        if config.instance_cache_entries.is_some() {
            tracing::warn!(
                "runtime.instance_cache_entries is no longer used: the compiled-plugin cache \
                 is bounded by runtime.instance_cache_bytes"
            );
        }
        let max_compiles = config.max_concurrent_compiles.max(1);
        Ok(Self {
            engine: engine.clone(),
            linker: call::linker(engine)?,
            artifacts,
            loaded: moka::future::Cache::builder()
                .max_capacity(config.instance_cache_bytes)
                .weigher(|_sha256: &String, plugin: &Arc<CompiledPlugin>| {
                    u32::try_from(plugin.size_bytes).unwrap_or(u32::MAX)
                })
                .build(),
            compile_slots: Arc::new(Semaphore::new(max_compiles)),
            max_compiles,
            compile_timeout: Duration::from_millis(config.compile_timeout_ms),
            counters: Counters::default(),
        })
    }

    pub(super) async fn get_or_load<F>(
        &self,
        sha256: &str,
        fetch: F,
    ) -> Result<Arc<CompiledPlugin>, LoadError>
    where
        F: Future<Output = Result<Vec<u8>, String>> + Send,
    {
        if let Some(plugin) = self.memory_hit(sha256).await {
            return Ok(plugin);
        }
        // Concurrent misses of one plugin wait for a single load.
        self.loaded
            .try_get_with(sha256.to_string(), async {
                let candidate = self.prepare(sha256, fetch).await?;
                self.save_artifact(&candidate).await;
                Ok::<_, LoadError>(candidate.plugin)
            })
            .await
            .map_err(|error: Arc<LoadError>| (*error).clone())
    }

    /// The plugin made of `bytes`, compiled if no cache has it, but kept nowhere new
    /// until [`PluginCache::keep`]: the upload check, which may still refuse it.
    pub(super) async fn candidate(&self, bytes: Vec<u8>) -> Result<UnkeptPlugin, LoadError> {
        let sha256 = sha256_hex(&bytes);
        if let Some(plugin) = self.memory_hit(&sha256).await {
            return Ok(UnkeptPlugin {
                plugin,
                compiled: None,
            });
        }
        self.prepare(&sha256, async move { Ok(bytes) }).await
    }

    /// Keeps an accepted candidate: its artifact on disk, the plugin in memory.
    pub(super) async fn keep(&self, candidate: &UnkeptPlugin) {
        self.save_artifact(candidate).await;
        self.loaded
            .insert(candidate.plugin.sha256.clone(), candidate.plugin.clone())
            .await;
    }

    async fn memory_hit(&self, sha256: &str) -> Option<Arc<CompiledPlugin>> {
        match self.loaded.get(sha256).await {
            Some(plugin) => {
                self.counters.memory_hits.fetch_add(1, Ordering::Relaxed);
                Some(plugin)
            }
            None => {
                self.counters.memory_misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Loads from disk, else compiles; then links. Writes nothing.
    async fn prepare<F>(&self, sha256: &str, fetch: F) -> Result<UnkeptPlugin, LoadError>
    where
        F: Future<Output = Result<Vec<u8>, String>>,
    {
        let (component, compiled) = match self.load_artifact(sha256).await {
            Some(component) => (component, false),
            None => {
                let bytes = fetch.await.map_err(LoadError::Fetch)?;
                (self.compile(sha256, bytes).await?, true)
            }
        };
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|error| {
            LoadError::WrongWorld(format!(
                "{error:#}; plugins may import only WASI interfaces"
            ))
        })?;
        let pre = CalculatorPre::new(instance_pre)
            .map_err(|error| LoadError::WrongWorld(format!("{error:#}")))?;
        let image = component.image_range();
        let plugin = Arc::new(CompiledPlugin {
            sha256: sha256.to_string(),
            size_bytes: (image.end as usize - image.start as usize) as u64,
            pre,
        });
        Ok(UnkeptPlugin {
            plugin,
            compiled: compiled.then_some(component),
        })
    }

    async fn save_artifact(&self, candidate: &UnkeptPlugin) {
        let (Some(artifacts), Some(component)) = (self.artifacts.clone(), &candidate.compiled)
        else {
            return;
        };
        let (sha256, component) = (candidate.plugin.sha256.clone(), component.clone());
        let saved = tokio::task::spawn_blocking(move || artifacts.save(&sha256, &component));
        if let Err(error) = saved.await {
            tracing::warn!(%error, "saving the compiled plugin failed");
        }
    }

    async fn load_artifact(&self, sha256: &str) -> Option<Component> {
        let artifacts = self.artifacts.clone()?;
        let engine = self.engine.clone();
        let sha256 = sha256.to_string();
        let loaded = tokio::task::spawn_blocking(move || artifacts.load(&engine, &sha256))
            .await
            .ok()?;
        match loaded {
            ArtifactLoad::Loaded(component) => {
                self.counters.disk_hits.fetch_add(1, Ordering::Relaxed);
                Some(component)
            }
            ArtifactLoad::Absent => None,
            ArtifactLoad::Rejected => {
                self.counters
                    .rejected_artifacts
                    .fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Compiles on a blocking thread once a compile slot is free, under the time limit.
    /// A compile that runs past it cannot be stopped: it is abandoned, and keeps its slot
    /// until it ends, so abandoned compiles still count against the bound.
    async fn compile(&self, sha256: &str, bytes: Vec<u8>) -> Result<Component, LoadError> {
        if sha256_hex(&bytes) != sha256 {
            return Err(LoadError::HashMismatch {
                expected: sha256.to_string(),
            });
        }
        let waiting = Instant::now();
        let slot = match tokio::time::timeout(
            self.compile_timeout,
            self.compile_slots.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(slot)) => slot,
            Ok(Err(closed)) => return Err(LoadError::Internal(closed.to_string())),
            Err(_elapsed) => {
                return Err(LoadError::CompileBusy {
                    slots: self.max_compiles,
                    waited_ms: millis(waiting.elapsed()),
                });
            }
        };
        self.counters.compiles.fetch_add(1, Ordering::Relaxed);
        let engine = self.engine.clone();
        let compiling = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            Component::new(&engine, &bytes)
                .map_err(|error| LoadError::NotAComponent(format!("{error:#}")))
        });
        match tokio::time::timeout(self.compile_timeout, compiling).await {
            Ok(Ok(compiled)) => compiled,
            Ok(Err(error)) => Err(LoadError::Internal(format!("compile task failed: {error}"))),
            Err(_elapsed) => Err(LoadError::CompileTimeout {
                limit_ms: millis(self.compile_timeout),
            }),
        }
    }

    pub(super) async fn stats(&self) -> CacheStats {
        // Entry counts settle once pending evictions and inserts are applied.
        self.loaded.run_pending_tasks().await;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        CacheStats {
            entries: self.loaded.entry_count(),
            bytes: self.loaded.weighted_size(),
            memory_hits: read(&self.counters.memory_hits),
            memory_misses: read(&self.counters.memory_misses),
            disk_hits: read(&self.counters.disk_hits),
            compiles: read(&self.counters.compiles),
            rejected_artifacts: read(&self.counters.rejected_artifacts),
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
