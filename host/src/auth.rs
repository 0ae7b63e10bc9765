//! API keys: 256-bit random secrets shown once, stored only as a SHA-256 hash and
//! listed by a short prefix; and the short-lived cache of recently seen keys.

use crate::store::{ApiKey, NewApiKey, Organization, Role, StoreError, TenantStore};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Every key starts with this, so a leaked one is recognisable in logs and scanners.
pub const KEY_PREFIX: &str = "qh_";
/// Characters of the key shown in listings (`qh_` + 8 hex digits).
const DISPLAY_PREFIX_LEN: usize = KEY_PREFIX.len() + 8;

/// A freshly generated key: the secret (shown once) and what is stored.
pub struct GeneratedKey {
    pub secret: String,
    pub new_key: NewApiKey,
}

/// Generates a key for `organization_id`.
pub fn generate_key(organization_id: Uuid, name: &str, role: Role) -> GeneratedKey {
    let secret = format!("{KEY_PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()));
    let new_key = NewApiKey {
        organization_id,
        name: name.to_string(),
        role,
        prefix: secret[..DISPLAY_PREFIX_LEN].to_string(),
        key_hash: hash_key(&secret),
    };
    GeneratedKey { secret, new_key }
}

/// Lower-case hex SHA-256 of the secret: the only form that is stored. A plain hash is
/// enough: the secret has 256 bits of entropy, so there is nothing to brute-force.
pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Who is calling: a valid key and its organization.
#[derive(Debug, Clone)]
pub struct Caller {
    pub organization: Organization,
    pub key: ApiKey,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.key.role == Role::Admin
    }
}

/// Recently verified keys by hash, so most requests skip the database. Bounded in
/// entries and age; a key revoked here is dropped at once, one revoked on another host
/// stays usable here for at most the TTL.
pub struct AuthCache {
    keys: moka::future::Cache<String, Option<Arc<Caller>>>,
}

impl AuthCache {
    pub fn new(entries: u64, ttl: Duration) -> Self {
        Self {
            keys: moka::future::Cache::builder()
                .max_capacity(entries)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
        }
    }

    /// The caller this secret belongs to, or `None` for an unknown or revoked key.
    pub async fn verify(
        &self,
        store: &dyn TenantStore,
        secret: &str,
    ) -> Result<Option<Arc<Caller>>, StoreError> {
        let hash = hash_key(secret);
        if let Some(cached) = self.keys.get(&hash).await {
            return Ok(cached);
        }
        let found = store
            .api_key_by_hash(&hash)
            .await?
            .map(|(key, organization)| Arc::new(Caller { organization, key }));
        // Unknown keys are remembered too, so a flood of bad keys costs one lookup each per TTL.
        self.keys.insert(hash, found.clone()).await;
        Ok(found)
    }

    /// Forgets every cached entry of this key (after a revocation).
    pub async fn forget(&self, key_id: Uuid) {
        let _ = self.keys.invalidate_entries_if(move |_, caller| {
            caller
                .as_ref()
                .is_some_and(|caller| caller.key.id == key_id)
        });
        self.keys.run_pending_tasks().await;
    }

    /// Entries held now (pending inserts and evictions applied first).
    pub async fn entry_count(&self) -> u64 {
        self.keys.run_pending_tasks().await;
        self.keys.entry_count()
    }
}
