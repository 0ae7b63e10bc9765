//! A [`TenantStore`] holding one key, for the unit tests of this module: it can hold a
//! lookup between reading the key and answering, and counts what it is asked.

use super::hash_key;
use crate::store::{
    ApiKey, KeyRevocation, NewApiKey, Organization, Result, Role, StoreError, TenantStore,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use uuid::Uuid;

pub struct TestKeys {
    key: ApiKey,
    organization: Organization,
    key_hash: String,
    revoked: AtomicBool,
    lookups: AtomicU64,
    touches: Mutex<Vec<(Uuid, DateTime<Utc>)>>,
    lookup_gate: Mutex<Option<Arc<Gate>>>,
    touch_gate: Mutex<Option<Arc<Gate>>>,
}

/// Holds calls: the store signals when it reached the gate and waits to be released.
#[derive(Default)]
pub struct Gate {
    reached: Notify,
    released: Notify,
}

impl Gate {
    /// Waits until a call reached the gate.
    pub async fn wait_reached(&self) {
        self.reached.notified().await;
    }

    /// Lets the held call (and every later one) go on.
    pub fn release(&self) {
        self.released.notify_one();
    }

    async fn pass(&self) {
        self.reached.notify_one();
        self.released.notified().await;
    }
}

impl TestKeys {
    /// A store with one active admin key whose secret is `secret`.
    pub fn with_key(secret: &str) -> Self {
        let organization = Organization::new("acme");
        let key = ApiKey::new(&NewApiKey {
            organization_id: organization.id,
            name: "k".into(),
            role: Role::Admin,
            prefix: secret.chars().take(11).collect(),
            key_hash: hash_key(secret),
            max_unrevoked: None,
        });
        Self {
            key,
            organization,
            key_hash: hash_key(secret),
            revoked: AtomicBool::new(false),
            lookups: AtomicU64::new(0),
            touches: Mutex::new(Vec::new()),
            lookup_gate: Mutex::new(None),
            touch_gate: Mutex::new(None),
        }
    }

    pub fn key_id(&self) -> Uuid {
        self.key.id
    }

    /// The next lookup stops at the returned gate after reading the key.
    pub fn hold_lookups(&self) -> Arc<Gate> {
        let gate = Arc::new(Gate::default());
        *self.lookup_gate.lock().unwrap() = Some(gate.clone());
        gate
    }

    /// The next touch stops at the returned gate.
    pub fn hold_touches(&self) -> Arc<Gate> {
        let gate = Arc::new(Gate::default());
        *self.touch_gate.lock().unwrap() = Some(gate.clone());
        gate
    }

    pub fn revoke(&self) {
        self.revoked.store(true, Ordering::SeqCst);
    }

    /// Lookups by hash so far.
    pub fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::SeqCst)
    }

    /// The key ids of the last-used writes so far, in order.
    pub fn touched(&self) -> Vec<Uuid> {
        self.touches
            .lock()
            .unwrap()
            .iter()
            .map(|(id, _)| *id)
            .collect()
    }

    /// Waits (up to 5 s) until `count` last-used writes happened.
    pub async fn wait_for_touches(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.touches.lock().unwrap().len() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {:?} after 5 s",
                self.touched()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[async_trait]
impl TenantStore for TestKeys {
    async fn create_organization(&self, _name: &str) -> Result<Organization> {
        Err(not_kept_here())
    }

    async fn organization_by_name(&self, _name: &str) -> Result<Option<Organization>> {
        Err(not_kept_here())
    }

    async fn organization_by_id(&self, _id: Uuid) -> Result<Option<Organization>> {
        Err(not_kept_here())
    }

    async fn count_organizations(&self) -> Result<i64> {
        Err(not_kept_here())
    }

    async fn create_api_key(&self, _key: NewApiKey) -> Result<ApiKey> {
        Err(not_kept_here())
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKey, Organization)>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let found = (key_hash == self.key_hash && !self.revoked.load(Ordering::SeqCst))
            .then(|| (self.key.clone(), self.organization.clone()));
        let gate = self.lookup_gate.lock().unwrap().take();
        if let Some(gate) = gate {
            gate.pass().await;
        }
        Ok(found)
    }

    async fn list_api_keys(&self, _org: Uuid) -> Result<Vec<ApiKey>> {
        Err(not_kept_here())
    }

    async fn revoke_api_key(&self, _org: Uuid, _id: Uuid) -> Result<KeyRevocation> {
        Err(not_kept_here())
    }

    async fn touch_api_key_last_used(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        _min_gap: Duration,
    ) -> Result<()> {
        let gate = self.touch_gate.lock().unwrap().take();
        if let Some(gate) = gate {
            gate.pass().await;
        }
        self.touches.lock().unwrap().push((id, at));
        Ok(())
    }
}

/// What the calls this double does not keep answer: an error the test would report,
/// rather than a panic.
fn not_kept_here() -> StoreError {
    StoreError::Unavailable("the key-cache test store keeps only API keys".into())
}
