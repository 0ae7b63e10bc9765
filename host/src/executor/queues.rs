//! The executor's scheduling policy, without threads or clocks of its own (time is passed
//! in): calls queue per organization; a free thread serves the organization that has used
//! the least CPU time, and inside it the call on the highest feedback level. An
//! organization that had nothing to run cannot bank credit: when it becomes busy again its
//! account is raised to the least-served busy organization's.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A call known to the queues.
pub type TaskId = u64;

/// Feedback levels: 0 for calls that have run less than `demote_after`, 1 below ten times
/// that, 2 beyond.
pub const LEVELS: usize = 3;

/// The second demotion comes at this multiple of the first.
const SECOND_DEMOTION_FACTOR: u32 = 10;

/// What the policy is told at start.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Calls alive at once (queued, running or waiting on a timer).
    pub max_calls: usize,
    /// Run time after which a call drops from level 0 to 1 (and at ten times it, to 2).
    pub demote_after: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Ready to run, in its organization's queue.
    Queued,
    /// On a thread now.
    Running,
    /// Waiting for its waker (a guest blocked in a WASI sleep): holds no thread.
    Parked,
}

struct Task {
    organization: Uuid,
    level: usize,
    ran: Duration,
    state: State,
    /// Woken while running: queue it again when its slice ends.
    woken: bool,
    started: bool,
    start_by: Instant,
    slice_started: Option<Instant>,
}

#[derive(Default)]
struct Organization {
    /// CPU time charged: what the least-used rule compares.
    used: Duration,
    /// CPU time used while it has been known here (for reports).
    cpu: Duration,
    runnable: [VecDeque<TaskId>; LEVELS],
    running: usize,
    alive: usize,
}

impl Organization {
    fn queued(&self) -> usize {
        self.runnable.iter().map(VecDeque::len).sum()
    }
    fn busy(&self) -> bool {
        self.running > 0 || self.queued() > 0
    }
    fn best_level(&self) -> Option<usize> {
        self.runnable.iter().position(|queue| !queue.is_empty())
    }
}

/// How a slice ended, for the counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceEnd {
    pub organization: Uuid,
    pub ran: Duration,
    /// The levels the call dropped through in this slice (empty when it kept its level;
    /// two when a slice took it from 0 past both thresholds).
    pub demoted: std::ops::Range<usize>,
}

/// What cancelling a call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// It was not running: it is gone now.
    Removed,
    /// It is on a thread: drop it when its slice ends.
    Running,
    Unknown,
}

/// One organization's line in a report.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct OrganizationQueue {
    pub organization_id: Uuid,
    /// Calls ready to run, waiting for a thread.
    pub queued: usize,
    /// Calls on a thread now.
    pub running: usize,
    /// Calls waiting on a timer (a WASI sleep), holding no thread.
    pub waiting: usize,
    /// Queued calls per feedback level (0: fresh, 1: ran past `demote_after_ms`, 2: ten times that).
    pub queued_by_level: Vec<usize>,
    /// CPU time its calls used while it had calls here, in ms.
    pub cpu_ms: f64,
}

/// The per-organization queues.
pub struct FairQueues {
    policy: Policy,
    tasks: HashMap<TaskId, Task>,
    organizations: HashMap<Uuid, Organization>,
    /// The calls on a thread now (at most one per thread).
    running: Vec<TaskId>,
    next_id: TaskId,
}

impl FairQueues {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            tasks: HashMap::new(),
            organizations: HashMap::new(),
            running: Vec::new(),
            next_id: 1,
        }
    }

    /// Calls alive now.
    pub fn alive(&self) -> usize {
        self.tasks.len()
    }

    /// A new call, queued at level 0; `None` when `max_calls` are alive already.
    pub fn admit(&mut self, organization: Uuid, start_by: Instant) -> Option<TaskId> {
        if self.tasks.len() >= self.policy.max_calls {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.organizations.entry(organization).or_default().alive += 1;
        self.tasks.insert(
            id,
            Task {
                organization,
                level: 0,
                ran: Duration::ZERO,
                state: State::Parked,
                woken: false,
                started: false,
                start_by,
                slice_started: None,
            },
        );
        self.enqueue(id);
        Some(id)
    }

    /// The call's waker fired. True when that made it runnable.
    pub fn wake(&mut self, id: TaskId) -> bool {
        let Some(task) = self.tasks.get_mut(&id) else {
            return false;
        };
        match task.state {
            State::Parked => {
                self.enqueue(id);
                true
            }
            State::Running => {
                task.woken = true;
                false
            }
            State::Queued => false,
        }
    }

    /// Puts a parked call in its organization's queue; an organization that had nothing
    /// to run is raised to the least-used busy organization first.
    fn enqueue(&mut self, id: TaskId) {
        let organization = self.tasks[&id].organization;
        let idle = !self.organizations[&organization].busy();
        if idle && let Some(least) = self.least_busy_used(organization) {
            let own = self.organizations.get_mut(&organization).expect("known");
            own.used = own.used.max(least);
        }
        self.push(id);
    }

    /// Queues the call at the back of its level.
    fn push(&mut self, id: TaskId) {
        let task = self.tasks.get_mut(&id).expect("a known task");
        task.state = State::Queued;
        self.organizations
            .get_mut(&task.organization)
            .expect("known")
            .runnable[task.level]
            .push_back(id);
    }

    fn least_busy_used(&self, except: Uuid) -> Option<Duration> {
        self.organizations
            .iter()
            .filter(|(id, org)| **id != except && org.busy())
            .map(|(_, org)| org.used)
            .min()
    }

    /// CPU time charged to the organization, counting its slices running now.
    fn effective_used(&self, organization: Uuid, now: Instant) -> Duration {
        let running: Duration = self
            .running
            .iter()
            .map(|id| &self.tasks[id])
            .filter(|task| task.organization == organization)
            .filter_map(|task| task.slice_started)
            .map(|started| now.saturating_duration_since(started))
            .sum();
        self.organizations[&organization].used + running
    }

    /// The rank of the best queued call: (organization, level, its rank key).
    fn best_queued(&self, now: Instant) -> Option<(Uuid, usize, (Duration, usize))> {
        self.organizations
            .iter()
            .filter_map(|(id, org)| org.best_level().map(|level| (*id, level)))
            .map(|(id, level)| (id, level, (self.effective_used(id, now), level)))
            .min_by_key(|(_, _, rank)| *rank)
    }

    /// The feedback level of a known call (0: fresh).
    pub fn level(&self, id: TaskId) -> Option<usize> {
        self.tasks.get(&id).map(|task| task.level)
    }

    /// The next call for a free thread, marked running.
    pub fn pick(&mut self, now: Instant) -> Option<TaskId> {
        let (organization, level, _) = self.best_queued(now)?;
        let org = self.organizations.get_mut(&organization).expect("known");
        let id = org.runnable[level].pop_front().expect("a queued call");
        org.running += 1;
        let task = self.tasks.get_mut(&id).expect("a known task");
        task.state = State::Running;
        task.started = true;
        task.slice_started = Some(now);
        self.running.push(id);
        Some(id)
    }

    /// Whether a queued call outranks a running one: then the running ones should yield.
    pub fn should_preempt(&self, now: Instant) -> bool {
        let Some((_, _, best)) = self.best_queued(now) else {
            return false;
        };
        self.running
            .iter()
            .map(|id| &self.tasks[id])
            .any(|task| best < (self.effective_used(task.organization, now), task.level))
    }

    /// A running call's slice ended at `now`: charge its organization, demote it when it
    /// has run long, and queue it again (it yielded), park it (it waits on a timer) or
    /// forget it (`finished`).
    pub fn end_slice(&mut self, id: TaskId, now: Instant, finished: bool) -> Option<SliceEnd> {
        let task = self.tasks.get_mut(&id)?;
        let started = task.slice_started.take()?;
        self.running.retain(|running| *running != id);
        let task = self.tasks.get_mut(&id).expect("a known task");
        let ran = now.saturating_duration_since(started);
        task.ran += ran;
        let level = level_for(task.ran, self.policy.demote_after);
        let demoted = task.level + 1..level + 1;
        task.level = level;
        let organization = task.organization;
        let woken = std::mem::take(&mut task.woken);
        task.state = State::Parked;
        if !finished && woken {
            // It yielded: still busy, so no raise of its account.
            self.push(id);
        }
        let org = self.organizations.get_mut(&organization).expect("known");
        org.used += ran;
        org.cpu += ran;
        org.running -= 1;
        if finished {
            self.forget(id);
        }
        Some(SliceEnd {
            organization,
            ran,
            demoted,
        })
    }

    /// The caller gave up on the call.
    pub fn cancel(&mut self, id: TaskId) -> Cancelled {
        match self.tasks.get(&id).map(|task| task.state) {
            None => Cancelled::Unknown,
            Some(State::Running) => Cancelled::Running,
            Some(_) => {
                self.forget(id);
                Cancelled::Removed
            }
        }
    }

    /// Takes the call out if it has not started yet; true then.
    pub fn expire(&mut self, id: TaskId) -> bool {
        match self.tasks.get(&id) {
            Some(task) if !task.started => {
                self.forget(id);
                true
            }
            _ => false,
        }
    }

    /// Calls that did not start by their deadline, taken out of the queues.
    pub fn take_expired(&mut self, now: Instant) -> Vec<TaskId> {
        let expired: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(_, task)| !task.started && task.start_by <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in &expired {
            self.forget(*id);
        }
        expired
    }

    /// Removes a call that is not running; an organization with no calls left is forgotten.
    fn forget(&mut self, id: TaskId) {
        let Some(task) = self.tasks.remove(&id) else {
            return;
        };
        let org = self
            .organizations
            .get_mut(&task.organization)
            .expect("known");
        if task.state == State::Queued {
            org.runnable[task.level].retain(|queued| *queued != id);
        }
        org.alive -= 1;
        if org.alive == 0 {
            self.organizations.remove(&task.organization);
        }
    }

    /// The `top` organizations with the most calls alive (then the most CPU used).
    pub fn report(&self, top: usize) -> Vec<OrganizationQueue> {
        let mut lines: Vec<OrganizationQueue> = self
            .organizations
            .iter()
            .map(|(id, org)| OrganizationQueue {
                organization_id: *id,
                queued: org.queued(),
                running: org.running,
                waiting: org.alive - org.queued() - org.running,
                queued_by_level: org.runnable.iter().map(VecDeque::len).collect(),
                cpu_ms: org.cpu.as_secs_f64() * 1000.0,
            })
            .collect();
        lines.sort_by(|a, b| {
            let alive = |line: &OrganizationQueue| line.queued + line.running + line.waiting;
            alive(b).cmp(&alive(a)).then(b.cpu_ms.total_cmp(&a.cpu_ms))
        });
        lines.truncate(top);
        lines
    }
}

/// The feedback level of a call that has run `ran` in total.
fn level_for(ran: Duration, demote_after: Duration) -> usize {
    if ran < demote_after {
        0
    } else if ran < demote_after * SECOND_DEMOTION_FACTOR {
        1
    } else {
        2
    }
}

#[cfg(test)]
#[path = "queues_tests.rs"]
mod tests;
