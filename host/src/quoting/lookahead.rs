//! Compiling scheduled versions before their instant, on every host: at most once per
//! `interval` per organization, a calculation looks up the organization's pending
//! activations and loads their versions in the background, so the first quote after
//! a switch does not wait for a compile (the runtime caches by SHA-256; a version
//! already loaded costs a lookup).

use moka::sync::Cache;
use std::time::Duration;
use uuid::Uuid;

/// Which organizations were looked at recently.
pub struct Lookahead {
    checked: Cache<Uuid, ()>,
}

impl Lookahead {
    /// At most `tracked_orgs` organizations remembered, each for `interval`.
    pub fn new(tracked_orgs: u64, interval: Duration) -> Self {
        Self {
            checked: Cache::builder()
                .max_capacity(tracked_orgs)
                .time_to_live(interval)
                .build(),
        }
    }

    /// Whether `organization` is due a look now; marks it looked at.
    pub fn due(&self, organization: Uuid) -> bool {
        self.checked.entry(organization).or_insert(()).is_fresh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_is_due_once_per_interval() {
        let lookahead = Lookahead::new(10, Duration::from_secs(3600));
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(lookahead.due(a));
        assert!(!lookahead.due(a), "looked at within the interval");
        assert!(lookahead.due(b), "organizations are counted apart");
    }
}
