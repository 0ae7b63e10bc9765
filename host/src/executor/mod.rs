//! The guest executor: plugin calls run on a few OS threads of their own, apart from the
//! tokio runtime that serves HTTP, the database and the timers, so none of those ever
//! waits behind a guest. Calls queue per organization and are served by least CPU time
//! used ([`queues`]); a guest yields at every epoch tick and fuel checkpoint, and when a
//! queued call outranks a running one the epoch is advanced at once, so the running
//! calls give way within microseconds. A guest waiting on a WASI timer holds no thread:
//! its timer lives on a one-thread tokio runtime of the executor's own.

mod job;
pub mod queues;
mod usage;
mod worker;

pub use job::{Ran, Refusal};
pub use queues::OrganizationQueue;
pub use usage::{OrganizationUsage, UsageBoard};

use job::{Call, Job};
use queues::{Cancelled, FairQueues, Policy, TaskId};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use uuid::Uuid;

/// Sizing and policy of the executor.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Threads running guests; 0 means one per core.
    pub threads: usize,
    /// Calls alive at once (queued, running or waiting on a timer).
    pub max_calls: usize,
    /// Run time after which a call drops a feedback level (again at ten times it).
    pub demote_after: Duration,
    /// Nice value a worker thread takes while it runs a demoted call (0 leaves priorities
    /// alone); fresh calls run at the thread's own value.
    pub nice: i32,
}

/// Makes every running guest reach its next epoch check now (advances the engine's epoch).
pub type Preempt = Box<dyn Fn() + Send + Sync>;

/// Totals since start, for health.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ExecutorCounters {
    /// Times running calls were made to yield because a queued call outranked them.
    pub preemptions: u64,
    /// Calls that dropped a feedback level (each drop counted).
    pub demotions: u64,
    /// Calls refused because they did not start within `queue_wait_ms`.
    pub expired: u64,
}

/// The executor's state for health: totals and the busiest organizations' queues.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExecutorReport {
    pub threads: usize,
    pub max_calls: usize,
    /// Calls alive now.
    pub calls: usize,
    #[serde(flatten)]
    pub counters: ExecutorCounters,
    /// The organizations with the most calls alive (at most `calculations.report_top_orgs`).
    pub organizations: Vec<OrganizationQueue>,
}

pub(crate) struct State {
    queues: FairQueues,
    jobs: HashMap<TaskId, Box<dyn Job>>,
    /// Running calls whose caller gave up: dropped when their slice ends.
    cancelled: HashSet<TaskId>,
    idle_workers: usize,
    /// A preemption was asked for and no slice has ended since.
    preempt_pending: bool,
    shutdown: bool,
    counters: ExecutorCounters,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    work: Condvar,
    preempt: Preempt,
    /// The runtime guest timers (WASI sleeps, the wall-clock limit) register with.
    timers: tokio::runtime::Handle,
    usage: UsageBoard,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker panicking mid-update is caught outside the lock; poisoning would only
        // come from a bug in the queues themselves, which keep no half-made state.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wake(&self, id: TaskId) {
        let mut state = self.lock();
        if state.queues.wake(id) {
            self.runnable_added(&mut state);
        }
    }

    /// A call became runnable: hand it to an idle thread, or make the running calls
    /// yield when it outranks one of them.
    fn runnable_added(&self, state: &mut State) {
        if state.idle_workers > 0 {
            self.work.notify_one();
        } else if !state.preempt_pending && state.queues.should_preempt(Instant::now()) {
            state.preempt_pending = true;
            state.counters.preemptions += 1;
            metrics::counter!("guest_preemptions_total").increment(1);
            (self.preempt)();
        }
    }
}

/// The executor. Dropping it stops its threads (calls still alive are answered
/// [`Refusal::Lost`]).
pub struct Executor {
    shared: Arc<Shared>,
    threads: usize,
    max_calls: usize,
    workers: Vec<JoinHandle<()>>,
    timers: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Executor {
    /// Starts the worker threads and the timer thread. `tracked_organizations` bounds the
    /// usage board (fuel and CPU per organization).
    pub fn start(
        config: &ExecutorConfig,
        preempt: Preempt,
        tracked_organizations: u64,
    ) -> std::io::Result<Self> {
        let threads = match config.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let (timers, stop_timers, timer_thread) = worker::start_timer_thread()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queues: FairQueues::new(Policy {
                    max_calls: config.max_calls,
                    demote_after: config.demote_after,
                }),
                jobs: HashMap::new(),
                cancelled: HashSet::new(),
                idle_workers: 0,
                preempt_pending: false,
                shutdown: false,
                counters: ExecutorCounters::default(),
            }),
            work: Condvar::new(),
            preempt,
            timers,
            usage: UsageBoard::new(tracked_organizations),
        });
        let workers = (0..threads)
            .map(|index| worker::spawn(shared.clone(), index, config.nice))
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Self {
            shared,
            threads,
            max_calls: config.max_calls,
            workers,
            timers: Some((stop_timers, timer_thread)),
        })
    }

    /// Runs `future` for `organization` on the executor. It must start by `start_by`, or
    /// the answer is [`Refusal::QueueTimeout`]. Dropping the returned future cancels the call.
    pub async fn run<F>(
        &self,
        organization: Uuid,
        start_by: Instant,
        future: F,
    ) -> Result<Ran<F::Output>, Refusal>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Call::new(future, reply));
        let id = {
            let mut state = self.shared.lock();
            if state.shutdown {
                return Err(Refusal::ShuttingDown);
            }
            let Some(id) = state.queues.admit(organization, start_by) else {
                drop(state);
                job.refuse(Refusal::Full(self.max_calls));
                return Err(Refusal::Full(self.max_calls));
            };
            state.jobs.insert(id, job);
            self.shared.runnable_added(&mut state);
            id
        };
        let mut guard = CancelOnDrop {
            shared: Arc::downgrade(&self.shared),
            id,
            armed: true,
        };
        let mut answer = answer;
        let answer = match tokio::time::timeout_at(start_by.into(), &mut answer).await {
            Ok(answer) => answer.unwrap_or(Err(Refusal::Lost)),
            // Refused on time, not only when a thread next looks at the queues.
            Err(_) if self.expire_unstarted(id) => Err(Refusal::QueueTimeout),
            Err(_) => answer.await.unwrap_or(Err(Refusal::Lost)),
        };
        guard.armed = false;
        answer
    }

    /// Takes a call that has not started out of the executor; true then.
    fn expire_unstarted(&self, id: TaskId) -> bool {
        let job = {
            let mut state = self.shared.lock();
            if !state.queues.expire(id) {
                return false;
            }
            state.counters.expired += 1;
            state.jobs.remove(&id)
        };
        drop(job);
        true
    }

    /// Adds a finished call's fuel to its organization's usage.
    pub fn record_fuel(&self, organization: Uuid, fuel: u64) {
        self.shared.usage.add_fuel(organization, fuel);
    }

    /// The `top` organizations that burned the most fuel (with their CPU time).
    pub fn top_usage(&self, top: usize) -> Vec<OrganizationUsage> {
        self.shared.usage.top(top)
    }

    /// Totals and the `top` busiest organizations' queues.
    pub fn report(&self, top: usize) -> ExecutorReport {
        let state = self.shared.lock();
        ExecutorReport {
            threads: self.threads,
            max_calls: self.max_calls,
            calls: state.queues.alive(),
            counters: state.counters.clone(),
            organizations: state.queues.report(top),
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        let jobs: Vec<Box<dyn Job>> = {
            let mut state = self.shared.lock();
            state.shutdown = true;
            state.jobs.drain().map(|(_, job)| job).collect()
        };
        self.shared.work.notify_all();
        let _timers = self.shared.timers.enter();
        for job in jobs {
            job.refuse(Refusal::ShuttingDown);
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        // Calls a worker put back while stopping.
        let left: Vec<Box<dyn Job>> = self.shared.lock().jobs.drain().map(|(_, j)| j).collect();
        drop(left);
        if let Some((stop, thread)) = self.timers.take() {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}

/// Cancels a call whose caller stopped waiting (a client that went away).
struct CancelOnDrop {
    shared: Weak<Shared>,
    id: TaskId,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let job = {
            let mut state = shared.lock();
            match state.queues.cancel(self.id) {
                Cancelled::Removed => state.jobs.remove(&self.id),
                Cancelled::Running => {
                    state.cancelled.insert(self.id);
                    None
                }
                Cancelled::Unknown => None,
            }
        };
        // Dropped outside the lock: a guest's future may wake (and lock) as it unwinds.
        let _timers = shared.timers.enter();
        drop(job);
    }
}

#[cfg(test)]
mod tests;
