//! Compiled artifacts on disk, keyed by content hash and engine, authenticated with an
//! installation secret before they are trusted.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::Component;

/// First bytes of every artifact file we write.
const ARTIFACT_MAGIC: &[u8; 8] = b"QHCWASM1";
const MAC_LEN: usize = 32;

pub(super) enum ArtifactLoad {
    Loaded(Component),
    Absent,
    Rejected,
}

/// A directory of compiled components. Each file is `magic | HMAC-SHA256 | artifact`,
/// the MAC keyed by a secret that only this installation holds and computed over
/// the plugin hash, the engine's compatibility hash and the artifact.
#[derive(Clone)]
pub(super) struct ArtifactDir {
    dir: PathBuf,
    key: Arc<[u8; 32]>,
    engine_hash: String,
}

impl ArtifactDir {
    pub(super) fn open(dir: &Path, engine: &Engine) -> anyhow::Result<Self> {
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

    pub(super) fn load(&self, engine: &Engine, sha256: &str) -> ArtifactLoad {
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

    pub(super) fn save(&self, sha256: &str, component: &Component) {
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
