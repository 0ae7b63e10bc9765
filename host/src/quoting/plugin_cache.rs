//! The plugin versions calculations resolved recently, with their `describe` parsed,
//! so a warm calculation asks the database nothing: bounded in entries and age, held
//! at most until the organization's next scheduled switch, dropped through the
//! changes hook (`Change::Plugins`, `Change::Everything`).

use crate::changes::{Change, Invalidate};
use crate::contract::PluginInfo;
use crate::store::{PluginStore, PluginVersion, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;
use uuid::Uuid;

/// A version a calculation may use, and what it declares.
#[derive(Debug)]
pub struct Resolved {
    pub version: PluginVersion,
    pub info: PluginInfo,
}

/// An entry: the resolution and the instant a scheduled switch makes it stale.
#[derive(Clone)]
struct Held {
    resolved: Arc<Resolved>,
    stale_at: Option<Instant>,
}

/// By organization and the request's plugin reference (`None` for "the active one", so
/// that a reference the store refuses, such as `""`, never shares its entry).
type Key = (Uuid, Option<String>);

/// Recently resolved versions. Off (every lookup resolves) when built with a TTL of 0.
pub struct PluginCache {
    entries: Option<moka::future::Cache<Key, Held>>,
    /// Counts changes seen. A fill stores what it read only if no change happened since
    /// it started; fills hold the read lock while they check and insert, `invalidate`
    /// the write lock while it counts and removes, so a racing fill is removed or skipped.
    changes: RwLock<u64>,
}

impl PluginCache {
    /// Up to `entries` resolutions, each trusted for `ttl` (zero: no cache).
    pub fn new(entries: u64, ttl: Duration) -> Self {
        let entries = (!ttl.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(entries)
                .time_to_live(ttl)
                .build()
        });
        Self {
            entries,
            changes: RwLock::new(0),
        }
    }

    /// The version `reference` names for `organization`: cached, or from `resolve` (and
    /// then cached until the next scheduled switch `store` knows of, at the latest).
    pub async fn resolve<E, F>(
        &self,
        store: &dyn PluginStore,
        organization: Uuid,
        reference: Option<&str>,
        resolve: F,
    ) -> Result<Arc<Resolved>, E>
    where
        E: From<StoreError>,
        F: Future<Output = Result<Resolved, E>>,
    {
        let Some(entries) = &self.entries else {
            return resolve.await.map(Arc::new);
        };
        let key = (organization, reference.map(str::to_owned));
        if let Some(held) = entries.get(&key).await {
            if held.stale_at.is_none_or(|at| Instant::now() < at) {
                return Ok(held.resolved);
            }
            entries.invalidate(&key).await;
        }
        let started_after = *self.changes.read().await;
        // Read the switch first: a resolution read after it is valid until it at least.
        let switch = store.next_plugin_switch(organization).await?;
        let resolved = Arc::new(resolve.await?);
        let stale_at = switch.map(|at| {
            let ahead = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
            Instant::now() + ahead
        });
        let changes = self.changes.read().await;
        if *changes == started_after && stale_at.is_none_or(|at| Instant::now() < at) {
            let held = Held {
                resolved: resolved.clone(),
                stale_at,
            };
            entries.insert(key, held).await;
        }
        Ok(resolved)
    }

    /// Drops the organization's entries, or every entry with `None`.
    async fn forget(&self, organization: Option<Uuid>) {
        let mut changes = self.changes.write().await;
        *changes += 1;
        if let Some(entries) = &self.entries {
            match organization {
                None => entries.invalidate_all(),
                Some(organization) => {
                    let keys: Vec<Arc<Key>> = entries
                        .iter()
                        .filter(|(key, _)| key.0 == organization)
                        .map(|(key, _)| key)
                        .collect();
                    for key in keys {
                        entries.invalidate(key.as_ref()).await;
                    }
                }
            }
        }
        drop(changes);
    }

    /// Entries held now (pending inserts and evictions applied first).
    pub async fn entry_count(&self) -> u64 {
        match &self.entries {
            Some(entries) => {
                entries.run_pending_tasks().await;
                entries.entry_count()
            }
            None => 0,
        }
    }
}

#[async_trait::async_trait]
impl Invalidate for PluginCache {
    async fn invalidate(&self, change: &Change) {
        match change {
            Change::Plugins { organization } => self.forget(Some(*organization)).await,
            Change::Everything => self.forget(None).await,
            Change::ApiKey { .. } | Change::Quotes { .. } | Change::ExchangeRates => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{PoolOptionsConfig, SqliteStore, Store};

    /// An in-memory database on one connection kept open (each connection would be
    /// another database), with no plugins: no switch is scheduled.
    async fn empty_store() -> SqliteStore {
        let one_connection = PoolOptionsConfig {
            max_connections: 1,
            min_connections: 1,
            idle_timeout: None,
            ..PoolOptionsConfig::default()
        };
        let store = SqliteStore::connect("sqlite::memory:", &one_connection)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store
    }

    fn resolution(version: i32) -> Resolved {
        Resolved {
            version: PluginVersion {
                organization_id: Uuid::nil(),
                plugin_name: "p".into(),
                version,
                sha256: String::new(),
                size_bytes: 0,
                describe: serde_json::Value::Null,
                uploaded_at: chrono::Utc::now(),
                uploaded_by: None,
            },
            info: PluginInfo {
                name: "p".into(),
                version: version.to_string(),
                description: String::new(),
                variables: Vec::new(),
            },
        }
    }

    async fn version_of(cache: &PluginCache, store: &SqliteStore, org: Uuid, fill: i32) -> i32 {
        let resolved = cache
            .resolve::<StoreError, _>(store, org, None, async move { Ok(resolution(fill)) })
            .await
            .unwrap();
        resolved.version.version
    }

    #[tokio::test]
    async fn a_change_drops_the_organizations_entries_only() {
        let store = empty_store().await;
        let cache = PluginCache::new(100, Duration::from_secs(60));
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(version_of(&cache, &store, a, 1).await, 1);
        assert_eq!(version_of(&cache, &store, b, 1).await, 1);
        assert_eq!(version_of(&cache, &store, a, 2).await, 1, "cached");
        cache.invalidate(&Change::Plugins { organization: a }).await;
        assert_eq!(version_of(&cache, &store, a, 2).await, 2);
        assert_eq!(
            version_of(&cache, &store, b, 2).await,
            1,
            "another organization"
        );
        cache.invalidate(&Change::Everything).await;
        assert_eq!(version_of(&cache, &store, b, 3).await, 3);
    }

    /// A fill that read the old version before a change must not be stored after it.
    #[tokio::test]
    async fn a_fill_that_raced_a_change_is_not_stored() {
        let store = Arc::new(empty_store().await);
        let cache = Arc::new(PluginCache::new(100, Duration::from_secs(60)));
        let org = Uuid::from_u128(1);
        let (read, was_read) = tokio::sync::oneshot::channel();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let fill = tokio::spawn({
            let (store, cache) = (store.clone(), cache.clone());
            async move {
                let resolve = async move {
                    read.send(()).unwrap();
                    released.await.unwrap();
                    Ok::<_, StoreError>(resolution(1))
                };
                cache.resolve(store.as_ref(), org, None, resolve).await
            }
        });
        was_read.await.unwrap();
        cache
            .invalidate(&Change::Plugins { organization: org })
            .await;
        release.send(()).unwrap();
        assert_eq!(fill.await.unwrap().unwrap().version.version, 1);
        assert_eq!(version_of(&cache, &store, org, 2).await, 2, "not stored");
    }

    #[tokio::test]
    async fn entries_stay_within_the_limit_and_a_zero_ttl_turns_the_cache_off() {
        let store = empty_store().await;
        let cache = PluginCache::new(3, Duration::from_secs(60));
        for org in 0..10 {
            version_of(&cache, &store, Uuid::from_u128(org), 1).await;
        }
        assert!(cache.entry_count().await <= 3);

        let off = PluginCache::new(3, Duration::ZERO);
        let org = Uuid::from_u128(1);
        assert_eq!(version_of(&off, &store, org, 1).await, 1);
        assert_eq!(version_of(&off, &store, org, 2).await, 2);
        assert_eq!(off.entry_count().await, 0);
    }
}
