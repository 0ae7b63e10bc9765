//! The executor's threads: workers that run one call's slice at a time, and the thread
//! that drives the guests' timers.

use super::job::{Job, Refusal, TaskWaker};
use super::{Shared, State};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::{self, JoinHandle};
use std::time::Instant;
use tokio::sync::oneshot;

/// Starts the one-thread tokio runtime guest timers register with; it runs until the
/// sender is used or dropped, and is dropped on its own thread (a runtime may not be
/// dropped inside another one's context).
pub(super) fn start_timer_thread()
-> std::io::Result<(tokio::runtime::Handle, oneshot::Sender<()>, JoinHandle<()>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("guest-timers")
        .build()?;
    let handle = runtime.handle().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = thread::Builder::new()
        .name("guest-timers".into())
        .spawn(move || {
            runtime.block_on(async {
                let _ = stopped.await;
            });
        })?;
    Ok((handle, stop, thread))
}

pub(super) fn spawn(
    shared: Arc<Shared>,
    index: usize,
    nice: i32,
) -> std::io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("guest-{index}"))
        .spawn(move || work(shared, Priority::new(nice)))
}

/// A guest thread's nice value, set per slice: a fresh call (feedback level 0) runs at
/// the thread's own value, a demoted one at `executor_nice`, so the kernel gives a core
/// to a short call (and to HTTP and database threads) before a long one. On Linux the
/// nice value belongs to a thread, and `setpriority(PRIO_PROCESS, 0)` sets the calling
/// thread's only (setpriority(2), BUGS). Lowering a priority needs no privilege; raising
/// it back may (RLIMIT_NICE): where that is refused, the thread stays at `executor_nice`
/// for every call, as if all were demoted.
struct Priority {
    /// The thread's value at start: fresh calls run at it.
    base: i32,
    /// `executor_nice`, for demoted calls (equal to `base`: nothing is changed).
    demoted: i32,
    current: i32,
    /// Raising the priority back was refused once: stay at `demoted`.
    stuck: bool,
}

impl Priority {
    fn new(nice: i32) -> Self {
        let base = current_nice();
        let demoted = if nice == 0 { base } else { nice.max(base) };
        Self {
            base,
            demoted,
            current: base,
            stuck: false,
        }
    }

    /// Sets the thread's nice value for a slice of a call on `level`.
    fn for_level(&mut self, level: usize) {
        let wanted = if level == 0 && !self.stuck {
            self.base
        } else {
            self.demoted
        };
        if wanted == self.current {
            return;
        }
        match set_nice(wanted) {
            Ok(()) => self.current = wanted,
            Err(error) if wanted < self.current => {
                tracing::warn!(%error, nice = self.demoted,
                    "cannot raise a guest thread's priority back; it stays lowered for every call");
                self.stuck = true;
            }
            Err(error) => {
                tracing::warn!(%error, nice = wanted, "cannot lower the priority of a guest thread");
                self.demoted = self.current;
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn current_nice() -> i32 {
    rustix::process::getpriority_process(None).unwrap_or(0)
}

#[cfg(not(target_os = "linux"))]
fn current_nice() -> i32 {
    0
}

#[cfg(target_os = "linux")]
fn set_nice(nice: i32) -> rustix::io::Result<()> {
    rustix::process::setpriority_process(None, nice)
}

#[cfg(not(target_os = "linux"))]
fn set_nice(_nice: i32) -> Result<(), &'static str> {
    Err("thread priorities are set on Linux only")
}

/// Takes the next call, runs one slice of it, gives it back; until shutdown.
fn work(shared: Arc<Shared>, mut priority: Priority) {
    let _timers = shared.timers.enter();
    while let Some((id, level, mut job)) = next_call(&shared) {
        priority.for_level(level);
        let waker = Waker::from(Arc::new(TaskWaker {
            id,
            shared: Arc::downgrade(&shared),
        }));
        let mut cx = Context::from_waker(&waker);
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| job.poll_slice(&mut cx)));
        let finished = match polled {
            Ok(Poll::Pending) => false,
            Ok(Poll::Ready(())) => true,
            Err(_) => {
                tracing::error!("a guest call panicked in the executor; it is answered as lost");
                true
            }
        };
        let mut state = shared.lock();
        state.preempt_pending = false;
        let cancelled = state.cancelled.remove(&id);
        if let Some(end) = state
            .queues
            .end_slice(id, Instant::now(), finished || cancelled)
        {
            shared.usage.add_cpu(end.organization, end.ran);
            for level in end.demoted {
                state.counters.demotions += 1;
                metrics::counter!("guest_calls_demoted_total", "level" => level.to_string())
                    .increment(1);
            }
        }
        if finished || cancelled {
            drop(state);
            drop(job);
        } else {
            state.jobs.insert(id, job);
        }
    }
}

/// Waits for a call to run, refusing on the way those that waited past their start
/// deadline. `None` at shutdown.
fn next_call(shared: &Shared) -> Option<(u64, usize, Box<dyn Job>)> {
    let mut state = shared.lock();
    loop {
        if state.shutdown {
            return None;
        }
        let now = Instant::now();
        let expired = take_expired(&mut state, now);
        if !expired.is_empty() {
            drop(state);
            for job in expired {
                job.refuse(Refusal::QueueTimeout);
            }
            state = shared.lock();
            continue;
        }
        if let Some(id) = state.queues.pick(now) {
            let job = state.jobs.remove(&id).expect("a picked call has its job");
            let level = state.queues.level(id).unwrap_or(0);
            return Some((id, level, job));
        }
        state.idle_workers += 1;
        state = shared
            .work
            .wait(state)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.idle_workers -= 1;
    }
}

fn take_expired(state: &mut MutexGuard<'_, State>, now: Instant) -> Vec<Box<dyn Job>> {
    let ids = state.queues.take_expired(now);
    state.counters.expired += ids.len() as u64;
    ids.iter().filter_map(|id| state.jobs.remove(id)).collect()
}
