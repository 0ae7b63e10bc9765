//! The database check `/api/health` answers from: at most `max_age` old, and when it
//! is older one request pings while the others wait for its answer, so a load balancer
//! polling hard costs the database one query per `max_age`.

use crate::store::Store;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A check's outcome: `Err` holds what the database said.
pub type Checked = Result<(), String>;

/// The latest check and the lock a new one is made under.
pub struct HealthCheck {
    max_age: Duration,
    ping_timeout: Duration,
    latest: Mutex<Option<(Instant, Checked)>>,
    pinging: tokio::sync::Mutex<()>,
}

impl HealthCheck {
    /// Checks at most `max_age` old (zero: every call pings), each ping bounded by
    /// `ping_timeout`.
    pub fn new(max_age: Duration, ping_timeout: Duration) -> Self {
        Self {
            max_age,
            ping_timeout,
            latest: Mutex::new(None),
            pinging: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether the database answered, at most `max_age` ago.
    pub async fn check(&self, store: &dyn Store) -> Checked {
        if let Some(recent) = self.recent() {
            return recent;
        }
        let _pinging = self.pinging.lock().await;
        // Whoever held the lock before us may have just checked.
        if let Some(recent) = self.recent() {
            return recent;
        }
        let checked = store
            .ping(self.ping_timeout)
            .await
            .map_err(|error| error.to_string());
        if !self.max_age.is_zero() {
            *self.latest() = Some((Instant::now(), checked.clone()));
        }
        checked
    }

    fn recent(&self) -> Option<Checked> {
        match &*self.latest() {
            Some((at, checked)) if at.elapsed() < self.max_age => Some(checked.clone()),
            _ => None,
        }
    }

    fn latest(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Checked)>> {
        self.latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
