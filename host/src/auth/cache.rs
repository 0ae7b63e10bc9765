//! The cache of recently verified keys, and how a revocation empties it even while
//! lookups that read the key before the revocation are still on their way.

use super::{Caller, hash_key};
use crate::changes::{Change, Invalidate};
use crate::store::{StoreError, TenantStore};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::RwLock;
use uuid::Uuid;

/// Recently verified keys by hash, so most requests skip the database. Bounded in
/// entries and age; a key revoked here is refused as soon as the revocation returns,
/// one revoked on another host stays usable here for at most the TTL.
pub struct AuthCache {
    keys: moka::future::Cache<String, Option<Arc<Caller>>>,
    /// Counts revocations seen by [`forget`](Self::forget). A lookup caches what it read
    /// only if no revocation happened since it started: what it read may be stale.
    /// Fills hold the read lock while they check and insert, `forget` the write lock
    /// while it counts and removes, so a fill is either removed or skipped.
    revocations: RwLock<u64>,
}

impl AuthCache {
    pub fn new(entries: u64, ttl: Duration) -> Self {
        Self {
            keys: moka::future::Cache::builder()
                .max_capacity(entries)
                .time_to_live(ttl)
                .build(),
            revocations: RwLock::new(0),
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
        let started_after = *self.revocations.read().await;
        let found = store
            .api_key_by_hash(&hash)
            .await?
            .map(|(key, organization)| Arc::new(Caller { organization, key }));
        let revocations = self.revocations.read().await;
        // Unknown keys are remembered too, so a flood of bad keys costs one lookup each per TTL.
        if *revocations == started_after {
            self.keys.insert(hash, found.clone()).await;
        }
        Ok(found)
    }

    /// Forgets every cached entry of this key. Call it after the revocation is stored:
    /// once it returns, no lookup can put the key back.
    pub async fn forget(&self, key_id: Uuid) {
        let mut revocations = self.revocations.write().await;
        *revocations += 1;
        let cached: Vec<Arc<String>> = self
            .keys
            .iter()
            .filter(|(_, caller)| caller.as_ref().is_some_and(|c| c.key.id == key_id))
            .map(|(hash, _)| hash)
            .collect();
        for hash in cached {
            self.keys.invalidate(hash.as_str()).await;
        }
        drop(revocations);
    }

    /// Forgets every cached key: anything may have changed.
    pub async fn forget_all(&self) {
        let mut revocations = self.revocations.write().await;
        *revocations += 1;
        self.keys.invalidate_all();
        drop(revocations);
    }

    /// Entries held now (pending inserts and evictions applied first).
    pub async fn entry_count(&self) -> u64 {
        self.keys.run_pending_tasks().await;
        self.keys.entry_count()
    }
}

#[async_trait::async_trait]
impl Invalidate for AuthCache {
    async fn invalidate(&self, change: &Change) {
        match change {
            // A created key is not cached yet, unless as "unknown": forget that too.
            Change::ApiKey { key, .. } => self.forget(*key).await,
            Change::Everything => self.forget_all().await,
            Change::Plugins { .. } | Change::Quotes { .. } | Change::ExchangeRates => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::TestKeys;
    use super::*;

    /// The race of the issue, made deterministic: a lookup reads the key, the key is
    /// revoked and forgotten, then the lookup finishes. The key must be refused after.
    #[tokio::test]
    async fn a_lookup_that_read_before_a_revocation_does_not_cache_the_key() {
        let store = Arc::new(TestKeys::with_key("qh_secret"));
        let cache = Arc::new(AuthCache::new(100, Duration::from_secs(60)));
        let gate = store.hold_lookups();
        let lookup = tokio::spawn({
            let (store, cache) = (store.clone(), cache.clone());
            async move { cache.verify(store.as_ref(), "qh_secret").await }
        });
        gate.wait_reached().await;

        store.revoke();
        cache.forget(store.key_id()).await;
        gate.release();

        let raced = lookup.await.unwrap().unwrap();
        assert!(
            raced.is_some(),
            "the lookup read the key before the revocation"
        );
        let after = cache.verify(store.as_ref(), "qh_secret").await.unwrap();
        assert!(
            after.is_none(),
            "a revoked key must be refused once forget returned"
        );
    }

    #[tokio::test]
    async fn forget_removes_a_cached_key_and_keeps_the_others() {
        let store = TestKeys::with_key("qh_secret");
        let cache = AuthCache::new(100, Duration::from_secs(60));
        assert!(cache.verify(&store, "qh_secret").await.unwrap().is_some());
        assert!(cache.verify(&store, "qh_unknown").await.unwrap().is_none());
        assert_eq!(cache.entry_count().await, 2);
        store.revoke();
        cache.forget(store.key_id()).await;
        assert_eq!(cache.entry_count().await, 1);
        assert!(cache.verify(&store, "qh_secret").await.unwrap().is_none());
        assert_eq!(store.lookups(), 3);
    }
}
