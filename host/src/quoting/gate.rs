//! The one door every calculation goes through: a global cap and a per-organization cap
//! on calculations admitted, then a thread of the guest executor. `queue_wait_ms` covers
//! all of that waiting; a calculation that has not started running by then is refused
//! (the caller answers 503 with Retry-After). Its time limit counts from the start.

use crate::executor::{Executor, ExecutorReport, OrganizationUsage, Refusal};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

/// Holding this is a slot; dropping it frees the slot.
pub struct Slot {
    _organization: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
    /// When the wait for this slot began.
    entered: Instant,
    /// When the calculation must have started running.
    start_by: Instant,
}

/// How long a calculation waited and ran.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    /// From asking for a slot to the first instruction: slot wait plus thread wait.
    pub queue: Duration,
    /// From the start of running to the end, preemptions included.
    pub run: Duration,
}

/// Why the gate gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GateRefusal {
    #[error("no calculation slot or executor thread within the queue wait")]
    Busy,
    #[error("the calculation was lost in the executor")]
    Lost,
}

pub struct CalculationGate {
    global: Arc<Semaphore>,
    global_limit: usize,
    per_organization: usize,
    organizations: moka::sync::Cache<Uuid, Arc<Semaphore>>,
    wait: Duration,
    executor: Executor,
}

impl CalculationGate {
    /// `tracked_organizations` bounds the per-organization map; idle entries expire.
    pub fn new(
        global: usize,
        per_organization: usize,
        wait: Duration,
        tracked_organizations: u64,
        executor: Executor,
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
            executor,
        }
    }

    /// A slot within the wait time, or `None`: the organization's own slots first, so
    /// one busy tenant queues on its own cap without holding global slots meanwhile.
    pub async fn enter(&self, organization: Uuid) -> Option<Slot> {
        let own = self.organizations.get_with(organization, || {
            Arc::new(Semaphore::new(self.per_organization))
        });
        let entered = Instant::now();
        let start_by = entered + self.wait;
        let deadline = tokio::time::Instant::from_std(start_by);
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
            entered,
            start_by,
        })
    }

    /// Runs `calculation` for `organization` on the executor, within the slot and
    /// queue-wait rules; its value and how long it waited and ran.
    pub async fn run<F>(
        &self,
        organization: Uuid,
        calculation: F,
    ) -> Result<(F::Output, Timing), GateRefusal>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let Some(slot) = self.enter(organization).await else {
            metrics::counter!("calculations_refused_total", "reason" => "slots").increment(1);
            return Err(GateRefusal::Busy);
        };
        let ran = self
            .executor
            .run(organization, slot.start_by, calculation)
            .await;
        let entered = slot.entered;
        drop(slot);
        let ran = ran.map_err(|refusal| {
            let reason = match refusal {
                Refusal::Full(_) => "executor_full",
                Refusal::QueueTimeout => "queue_wait",
                Refusal::ShuttingDown => "shutdown",
                Refusal::Lost => return GateRefusal::Lost,
            };
            metrics::counter!("calculations_refused_total", "reason" => reason).increment(1);
            GateRefusal::Busy
        })?;
        let timing = Timing {
            queue: ran.started.saturating_duration_since(entered),
            run: ran.finished.saturating_duration_since(ran.started),
        };
        metrics::histogram!("calculation_queue_seconds").record(timing.queue.as_secs_f64());
        metrics::histogram!("calculation_run_seconds").record(timing.run.as_secs_f64());
        Ok((ran.value, timing))
    }

    /// Adds a finished calculation's fuel to its organization's usage.
    pub fn record_fuel(&self, organization: Uuid, fuel: u64) {
        self.executor.record_fuel(organization, fuel);
    }

    /// The `top` organizations by fuel burned since start.
    pub fn top_usage(&self, top: usize) -> Vec<OrganizationUsage> {
        self.executor.top_usage(top)
    }

    /// The executor's totals and the `top` busiest organizations' queues.
    pub fn executor_report(&self, top: usize) -> ExecutorReport {
        self.executor.report(top)
    }

    /// Calculations holding a slot now (waiting for a thread or running).
    pub fn in_flight(&self) -> usize {
        self.global_limit - self.global.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::ExecutorConfig;

    fn gate(global: usize, per_organization: usize, wait: Duration) -> CalculationGate {
        let config = ExecutorConfig {
            threads: 1,
            max_calls: 16,
            demote_after: Duration::from_millis(5),
            nice: 0,
        };
        let executor = Executor::start(&config, Box::new(|| {}), 100).unwrap();
        CalculationGate::new(global, per_organization, wait, 100, executor)
    }

    #[tokio::test]
    async fn slots_are_capped_globally_and_per_organization() {
        let gate = gate(3, 2, Duration::from_millis(50));
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

    #[tokio::test]
    async fn the_queue_wait_covers_the_slot_and_the_thread() {
        let gate = Arc::new(gate(8, 8, Duration::from_millis(100)));
        let org = Uuid::new_v4();
        // One thread, held for 400 ms by a call that never yields.
        let hog = {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.run(org, async {
                    std::thread::sleep(Duration::from_millis(400))
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let asked = Instant::now();
        let refused = gate.run(Uuid::new_v4(), async {}).await;
        assert_eq!(refused.unwrap_err(), GateRefusal::Busy);
        let waited = asked.elapsed();
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        assert!(
            waited < Duration::from_millis(300),
            "refused on time: {waited:?}"
        );
        let (_, timing) = hog.await.unwrap().unwrap();
        assert!(timing.run >= Duration::from_millis(400), "{timing:?}");
        assert!(timing.queue < Duration::from_millis(100), "{timing:?}");
    }
}
