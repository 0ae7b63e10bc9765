//! What changed, for the caches that depend on it: the one hook through which every
//! cache is told to drop entries, fed by this host's own writes and, on PostgreSQL, by
//! other hosts' writes (see the many-hosts issue's listener).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};
use uuid::Uuid;

/// A change some cache depends on. Serialized as the payload of a notification, so
/// hosts of different builds agree on it: add variants, never rename them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// An API key was created or revoked.
    ApiKey { organization: Uuid, key: Uuid },
    /// A plugin version was uploaded, activated, scheduled or deleted.
    Plugins { organization: Uuid },
    /// A quote was created, changed or deleted.
    Quotes { organization: Uuid },
    /// Exchange rates were stored.
    ExchangeRates,
    /// Anything may have changed: a listener lost its connection and may have missed
    /// notifications.
    Everything,
}

/// A cache that drops what a change makes stale.
#[async_trait]
pub trait Invalidate: Send + Sync {
    /// Drops the entries `change` makes stale. Once it returns, no lookup that started
    /// before may put a stale entry back.
    async fn invalidate(&self, change: &Change);
}

/// The caches of this process, told of every change in turn.
#[derive(Default)]
pub struct Changes {
    caches: RwLock<Vec<Arc<dyn Invalidate>>>,
}

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a cache to tell of changes.
    pub fn subscribe(&self, cache: Arc<dyn Invalidate>) {
        self.caches
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(cache);
    }

    /// Tells every cache of `change` and returns once each has dropped its entries.
    pub async fn apply(&self, change: &Change) {
        let caches = self
            .caches
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        for cache in caches {
            cache.invalidate(change).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Change>>);

    #[async_trait]
    impl Invalidate for Recorder {
        async fn invalidate(&self, change: &Change) {
            self.0.lock().unwrap().push(change.clone());
        }
    }

    #[tokio::test]
    async fn every_subscribed_cache_hears_each_change() {
        let changes = Changes::new();
        let (a, b) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
        changes.subscribe(a.clone());
        changes.subscribe(b.clone());
        changes.apply(&Change::ExchangeRates).await;
        changes.apply(&Change::Everything).await;
        for recorder in [a, b] {
            let heard = recorder.0.lock().unwrap().clone();
            assert_eq!(heard, [Change::ExchangeRates, Change::Everything]);
        }
    }

    #[test]
    fn a_change_reads_back_from_its_notification_payload() {
        let change = Change::Quotes {
            organization: Uuid::from_u128(7),
        };
        let payload = serde_json::to_string(&change).unwrap();
        assert_eq!(
            payload,
            r#"{"change":"quotes","organization":"00000000-0000-0000-0000-000000000007"}"#
        );
        assert_eq!(serde_json::from_str::<Change>(&payload).unwrap(), change);
    }
}
