//! How many calculations run at once: a global cap and a per-organization cap. A
//! calculation waits briefly for a slot, then the caller answers 503.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

/// Holding this is a slot; dropping it frees the slot.
pub struct Slot {
    _organization: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

pub struct CalculationGate {
    global: Arc<Semaphore>,
    global_limit: usize,
    per_organization: usize,
    organizations: moka::sync::Cache<Uuid, Arc<Semaphore>>,
    wait: Duration,
}

impl CalculationGate {
    /// `tracked_organizations` bounds the per-organization map; idle entries expire.
    pub fn new(
        global: usize,
        per_organization: usize,
        wait: Duration,
        tracked_organizations: u64,
    ) -> Self {
        Self {
            global: Arc::new(Semaphore::new(global)),
            global_limit: global,
            per_organization,
            organizations: moka::sync::Cache::builder()
                .max_capacity(tracked_organizations)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            wait,
        }
    }

    /// A slot within the wait time, or `None`: the organization's own slots first, so
    /// one busy tenant queues on its own cap without holding global slots meanwhile.
    pub async fn enter(&self, organization: Uuid) -> Option<Slot> {
        let own = self.organizations.get_with(organization, || {
            Arc::new(Semaphore::new(self.per_organization))
        });
        let deadline = tokio::time::Instant::now() + self.wait;
        let own = tokio::time::timeout_at(deadline, own.acquire_owned())
            .await
            .ok()?
            .ok()?;
        let global = tokio::time::timeout_at(deadline, self.global.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        Some(Slot {
            _organization: own,
            _global: global,
        })
    }

    /// Calculations running now.
    pub fn in_flight(&self) -> usize {
        self.global_limit - self.global.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_capped_globally_and_per_organization() {
        let gate = CalculationGate::new(3, 2, Duration::from_millis(50), 100);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let a1 = gate.enter(a).await.expect("a slot");
        let _a2 = gate.enter(a).await.expect("a second slot");
        assert!(gate.enter(a).await.is_none(), "a's own cap is 2");
        let _b1 = gate.enter(b).await.expect("b is not blocked by a");
        assert_eq!(gate.in_flight(), 3);
        assert!(
            gate.enter(Uuid::new_v4()).await.is_none(),
            "the global cap is 3"
        );
        drop(a1);
        assert!(gate.enter(a).await.is_some(), "a freed slot is reusable");
    }
}
