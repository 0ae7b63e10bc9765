//! How many exports an organization runs at once (`http.max_exports_per_org`): an export
//! holds its slot until its response body ends or is dropped, so a tenant's stalled
//! downloads take that tenant's slots and nobody else's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Exports running per organization; only organizations with one running are kept.
pub struct ExportGate {
    per_organization: usize,
    running: Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// Holding this is an export slot; dropping it frees the slot.
pub struct ExportSlot {
    organization: Uuid,
    running: Arc<Mutex<HashMap<Uuid, usize>>>,
}

impl ExportGate {
    /// At most `per_organization` exports at once per organization.
    pub fn new(per_organization: usize) -> Self {
        Self {
            per_organization,
            running: Arc::default(),
        }
    }

    /// A slot, or `None` when the organization runs its maximum already.
    pub fn enter(&self, organization: Uuid) -> Option<ExportSlot> {
        let mut running = self
            .running
            .lock()
            .expect("the export gate is not poisoned");
        let count = running.entry(organization).or_default();
        if *count >= self.per_organization {
            if *count == 0 {
                running.remove(&organization);
            }
            return None;
        }
        *count += 1;
        Some(ExportSlot {
            organization,
            running: self.running.clone(),
        })
    }

    /// Exports running now, all organizations together.
    pub fn running(&self) -> usize {
        let running = self
            .running
            .lock()
            .expect("the export gate is not poisoned");
        running.values().sum()
    }
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        let mut running = self
            .running
            .lock()
            .expect("the export gate is not poisoned");
        if let Some(count) = running.get_mut(&self.organization) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.organization);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_organization_and_come_back() {
        let gate = ExportGate::new(2);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let first = gate.enter(a).expect("a first slot");
        let _second = gate.enter(a).expect("a second slot");
        assert!(gate.enter(a).is_none(), "a's cap is 2");
        let _other = gate.enter(b).expect("b has its own slots");
        assert_eq!(gate.running(), 3);
        drop(first);
        assert!(gate.enter(a).is_some(), "a dropped slot comes back");
        assert!(ExportGate::new(0).enter(a).is_none());
    }
}
