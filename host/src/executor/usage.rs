//! Fuel and CPU time per organization since start, for the metrics of the heaviest few.
//! Bounded: at most `tracked_organizations` are kept, the least recently used dropped.

use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use uuid::Uuid;

#[derive(Default)]
struct Usage {
    fuel: AtomicU64,
    cpu_micros: AtomicU64,
}

/// One organization's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrganizationUsage {
    pub organization_id: Uuid,
    pub fuel: u64,
    pub cpu_seconds: f64,
}

pub struct UsageBoard {
    organizations: moka::sync::Cache<Uuid, Arc<Usage>>,
}

impl UsageBoard {
    pub fn new(tracked_organizations: u64) -> Self {
        Self {
            organizations: moka::sync::Cache::new(tracked_organizations),
        }
    }

    fn of(&self, organization: Uuid) -> Arc<Usage> {
        self.organizations.get_with(organization, Arc::default)
    }

    pub fn add_fuel(&self, organization: Uuid, fuel: u64) {
        self.of(organization)
            .fuel
            .fetch_add(fuel, Ordering::Relaxed);
    }

    pub fn add_cpu(&self, organization: Uuid, cpu: Duration) {
        let micros = u64::try_from(cpu.as_micros()).unwrap_or(u64::MAX);
        self.of(organization)
            .cpu_micros
            .fetch_add(micros, Ordering::Relaxed);
    }

    /// The `top` organizations by fuel burned, heaviest first.
    pub fn top(&self, top: usize) -> Vec<OrganizationUsage> {
        let mut all: Vec<OrganizationUsage> = self
            .organizations
            .iter()
            .map(|(organization, usage)| OrganizationUsage {
                organization_id: *organization,
                fuel: usage.fuel.load(Ordering::Relaxed),
                cpu_seconds: usage.cpu_micros.load(Ordering::Relaxed) as f64 / 1e6,
            })
            .collect();
        all.sort_by(|a, b| {
            b.fuel
                .cmp(&a.fuel)
                .then(b.cpu_seconds.total_cmp(&a.cpu_seconds))
        });
        all.truncate(top);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heaviest_organizations_are_listed_first_and_only_top_of_them() {
        let board = UsageBoard::new(100);
        let orgs: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
        for (n, org) in orgs.iter().enumerate() {
            board.add_fuel(*org, 1000 * (n as u64 + 1));
            board.add_cpu(*org, Duration::from_millis(n as u64));
        }
        let top = board.top(2);
        assert_eq!(top.len(), 2);
        assert_eq!((top[0].organization_id, top[0].fuel), (orgs[3], 4000));
        assert_eq!(top[1].organization_id, orgs[2]);
        assert!((top[0].cpu_seconds - 0.003).abs() < 1e-9);
    }
}
