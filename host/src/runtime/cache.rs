//! Compiled plugins: linked `InstancePre`s in a bounded in-memory cache, and compiled
//! artifacts on disk keyed by content hash and engine, authenticated before use.

use super::bindings::CalculatorPre;
use super::call::{self, CallState};
use super::error::LoadError;
use super::{CompiledPlugin, RuntimeConfig, sha256_hex};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

/// Counters of the plugin caches since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct CacheStats {
    /// Plugins ready in memory now.
    pub entries: u64,
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

pub(super) struct PluginCache {
    engine: Engine,
    linker: Linker<CallState>,
    artifacts: Option<ArtifactDir>,
    loaded: moka::future::Cache<String, Arc<CompiledPlugin>>,
    counters: Counters,
}

impl PluginCache {
    pub(super) fn new(engine: &Engine, config: &RuntimeConfig) -> anyhow::Result<Self> {
        let artifacts = match &config.artifact_dir {
            Some(dir) => Some(ArtifactDir::open(dir, engine)?),
            None => None,
        };
        Ok(Self {
            engine: engine.clone(),
            linker: call::linker(engine)?,
            artifacts,
            loaded: moka::future::Cache::new(config.instance_cache_entries),
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
        if let Some(plugin) = self.loaded.get(sha256).await {
            self.counters.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(plugin);
        }
        self.counters.memory_misses.fetch_add(1, Ordering::Relaxed);
        // Concurrent misses of one plugin wait for a single load.
        self.loaded
            .try_get_with(sha256.to_string(), self.load_uncached(sha256, fetch))
            .await
            .map_err(|error| (*error).clone())
    }

    async fn load_uncached<F>(
        &self,
        sha256: &str,
        fetch: F,
    ) -> Result<Arc<CompiledPlugin>, LoadError>
    where
        F: Future<Output = Result<Vec<u8>, String>>,
    {
        let component = match self.load_artifact(sha256).await {
            Some(component) => component,
            None => {
                self.compile(sha256, fetch.await.map_err(LoadError::Fetch)?)
                    .await?
            }
        };
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|error| {
            LoadError::WrongWorld(format!(
                "{error:#}; plugins may import only WASI interfaces"
            ))
        })?;
        let pre = CalculatorPre::new(instance_pre)
            .map_err(|error| LoadError::WrongWorld(format!("{error:#}")))?;
        Ok(Arc::new(CompiledPlugin {
            sha256: sha256.to_string(),
            pre,
        }))
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

    async fn compile(&self, sha256: &str, bytes: Vec<u8>) -> Result<Component, LoadError> {
        if sha256_hex(&bytes) != sha256 {
            return Err(LoadError::HashMismatch {
                expected: sha256.to_string(),
            });
        }
        self.counters.compiles.fetch_add(1, Ordering::Relaxed);
        let engine = self.engine.clone();
        let artifacts = self.artifacts.clone();
        let sha256 = sha256.to_string();
        tokio::task::spawn_blocking(move || {
            let component = Component::new(&engine, &bytes)
                .map_err(|error| LoadError::NotAComponent(format!("{error:#}")))?;
            if let Some(artifacts) = artifacts {
                artifacts.save(&sha256, &component);
            }
            Ok(component)
        })
        .await
        .map_err(|error| LoadError::Internal(format!("compile task failed: {error}")))?
    }

    pub(super) async fn stats(&self) -> CacheStats {
        // Entry counts settle once pending evictions and inserts are applied.
        self.loaded.run_pending_tasks().await;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        CacheStats {
            entries: self.loaded.entry_count(),
            memory_hits: read(&self.counters.memory_hits),
            memory_misses: read(&self.counters.memory_misses),
            disk_hits: read(&self.counters.disk_hits),
            compiles: read(&self.counters.compiles),
            rejected_artifacts: read(&self.counters.rejected_artifacts),
        }
    }
}

/// First bytes of every artifact file we write.
const ARTIFACT_MAGIC: &[u8; 8] = b"QHCWASM1";
const MAC_LEN: usize = 32;

enum ArtifactLoad {
    Loaded(Component),
    Absent,
    Rejected,
}

/// A directory of compiled components. Each file is `magic | HMAC-SHA256 | artifact`,
/// the MAC keyed by a secret that only this installation holds and computed over
/// the plugin hash, the engine's compatibility hash and the artifact.
#[derive(Clone)]
struct ArtifactDir {
    dir: PathBuf,
    key: Arc<[u8; 32]>,
    engine_hash: String,
}

impl ArtifactDir {
    fn open(dir: &Path, engine: &Engine) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let key = load_or_create_key(&dir.join("artifact.key"))?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_hash = format!("{:016x}", hasher.finish());
        Ok(Self {
            dir: dir.to_path_buf(),
            key: Arc::new(key),
            engine_hash,
        })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{sha256}-{}.cwasm", self.engine_hash))
    }

    fn mac(&self, sha256: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.as_slice()).expect("any key length");
        mac.update(sha256.as_bytes());
        mac.update(self.engine_hash.as_bytes());
        mac
    }

    fn load(&self, engine: &Engine, sha256: &str) -> ArtifactLoad {
        let path = self.path(sha256);
        let file = match std::fs::read(&path) {
            Ok(file) => file,
            Err(_) => return ArtifactLoad::Absent,
        };
        match self
            .authenticate(sha256, &file)
            .map(|artifact| deserialize_authenticated(engine, artifact))
        {
            Some(Ok(component)) => ArtifactLoad::Loaded(component),
            failure => {
                let reason = match failure {
                    Some(Err(error)) => format!("{error:#}"),
                    _ => "authentication failed".to_string(),
                };
                tracing::warn!(path = %path.display(), %reason, "compiled plugin artifact rejected; recompiling");
                let _ = std::fs::remove_file(&path);
                ArtifactLoad::Rejected
            }
        }
    }

    /// The artifact inside `file` if its MAC is ours.
    fn authenticate<'f>(&self, sha256: &str, file: &'f [u8]) -> Option<&'f [u8]> {
        let rest = file.strip_prefix(ARTIFACT_MAGIC.as_slice())?;
        if rest.len() < MAC_LEN {
            return None;
        }
        let (tag, artifact) = rest.split_at(MAC_LEN);
        let mut mac = self.mac(sha256);
        mac.update(artifact);
        mac.verify_slice(tag).ok().map(|()| artifact)
    }

    fn save(&self, sha256: &str, component: &Component) {
        if let Err(error) = self.try_save(sha256, component) {
            tracing::warn!(%sha256, error = %format!("{error:#}"), "could not cache the compiled plugin on disk");
        }
    }

    fn try_save(&self, sha256: &str, component: &Component) -> anyhow::Result<()> {
        let artifact = component.serialize()?;
        let mut mac = self.mac(sha256);
        mac.update(&artifact);
        let tag = mac.finalize().into_bytes();
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(ARTIFACT_MAGIC)?;
        file.write_all(&tag)?;
        file.write_all(&artifact)?;
        file.as_file().sync_all()?;
        file.persist(self.path(sha256))?;
        Ok(())
    }
}

/// Turns authenticated bytes back into a component.
fn deserialize_authenticated(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `Component::deserialize` trusts its input to be an artifact produced by
    // `Component::serialize` of a compatible engine; arbitrary bytes could be unsound.
    // These bytes passed `authenticate`: their HMAC, keyed by a secret created by this
    // installation with owner-only permissions, binds them to this plugin hash and this
    // engine's compatibility hash, so they are exactly what `try_save` wrote from our
    // own `serialize`. wasmtime additionally checks its version and settings header.
    unsafe { Component::deserialize(engine, artifact) }
}

/// Reads the artifact key, creating it (owner-only) on first use.
fn load_or_create_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    if let Ok(bytes) = std::fs::read(path)
        && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
    {
        return Ok(key);
    }
    let key: [u8; 32] = rand::random();
    let mut file = tempfile::NamedTempFile::new_in(path.parent().unwrap_or(Path::new(".")))?;
    file.write_all(&key)?;
    restrict_to_owner(file.path())?;
    match file.persist_noclobber(path) {
        Ok(_) => Ok(key),
        // Another process created it first: use theirs, so both trust the same artifacts.
        Err(_) => Ok(<[u8; 32]>::try_from(std::fs::read(path)?.as_slice())?),
    }
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
