//! API keys: 256-bit random secrets shown once, stored only as a SHA-256 hash and
//! listed by a short prefix; the short-lived cache of recently seen keys; and the
//! throttled record of when each key was last used.

mod cache;
#[cfg(test)]
mod test_store;
mod usage;

pub use cache::AuthCache;
pub use usage::{KeyUsage, KeyUsageWriter, UsageLimits};

use crate::store::{ApiKey, NewApiKey, Organization, Role};
use sha2::{Digest, Sha256};
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
        max_unrevoked: None,
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
