//! Cron scheduling of the exchange-rate job on tokio-cron-scheduler.
//!
//! [`RateScheduler::start`] registers the job on its [`Schedule`] and starts ticking;
//! [`RateScheduler::shutdown`] stops it.
//!
//! Every run goes through [`ExchangeRateJob::execute`], which catches panics and records
//! errors, so a bad run never stops the schedule. Runs are tracked here because
//! tokio-cron-scheduler only stops *ticking* on shutdown and does not wait for (or
//! cancel) runs it has spawned: after `shutdown` begins no run starts, the ones in
//! flight get a grace period, then their fetch is cancelled (recorded `failed`, lock
//! released).
//!
//! Time zones with daylight saving: tokio-cron-scheduler 0.15 computes a job's next
//! ticks with the UTC offset it had when the job was registered. When a run finds that
//! the zone's offset has changed, it registers the job again with the current offset;
//! the one run that fired at the shifted time is harmless, since a scheduled run is
//! skipped when rates were fetched since the schedule's last (correctly computed) time.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::jobs::exchange_rates::ExchangeRateJob;
use crate::jobs::run::{RunRequest, Trigger, panic_text};
use crate::jobs::schedule::{Schedule, ScheduleError};
use crate::jobs::tracker::Tracker;

/// The running schedule of the exchange-rate job. Stop it with
/// [`shutdown`](Self::shutdown); dropping it only refuses further runs.
pub struct RateScheduler {
    scheduler: JobScheduler,
    shared: Arc<Shared>,
}

/// What the cron callback needs.
struct Shared {
    job: Arc<ExchangeRateJob>,
    schedule: Schedule,
    tracker: Arc<Tracker>,
    registration: Mutex<Registration>,
}

/// The tokio-cron-scheduler job currently registered, and the offset it froze.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Registration {
    job_id: Uuid,
    offset: i32,
}

impl RateScheduler {
    /// Registers `job` on `schedule` and starts ticking. With `fetch_on_start`, also
    /// runs [`ExchangeRateJob::fetch_if_stale`] once in the background (a tracked run,
    /// so `shutdown` waits for or cancels it like a scheduled one).
    pub async fn start(
        job: Arc<ExchangeRateJob>,
        schedule: Schedule,
        fetch_on_start: bool,
    ) -> Result<Self, ScheduleError> {
        let scheduler = JobScheduler::new().await.map_err(scheduler_error)?;
        let shared = Arc::new(Shared {
            job,
            schedule,
            tracker: Arc::new(Tracker::default()),
            registration: Mutex::new(Registration {
                job_id: Uuid::nil(),
                offset: 0,
            }),
        });
        let registration = shared.register(&scheduler).await?;
        *shared.registration() = registration;
        scheduler.start().await.map_err(scheduler_error)?;
        if fetch_on_start && let Some(ticket) = shared.tracker.admit() {
            let shared = shared.clone();
            tokio::spawn(async move {
                let _ticket = ticket;
                let stop = shared.tracker.cancelled();
                let check = shared
                    .job
                    .fetch_if_stale_until(Utc::now(), &shared.schedule, stop);
                if let Err(panic) = AssertUnwindSafe(check).catch_unwind().await {
                    tracing::error!(
                        panic = panic_text(panic.as_ref()),
                        "exchange-rate start-up fetch panicked"
                    );
                }
            });
        }
        let this = Self { scheduler, shared };
        tracing::info!(
            schedule = this.shared.schedule.expression(),
            time_zone = %this.shared.schedule.time_zone(),
            next_run = ?this.next_run(),
            "exchange-rate scheduler started"
        );
        Ok(this)
    }

    /// The schedule it runs on.
    pub fn schedule(&self) -> &Schedule {
        &self.shared.schedule
    }

    /// When the job fires next (for health output).
    pub fn next_run(&self) -> Option<DateTime<Utc>> {
        self.shared.schedule.next_after(Utc::now())
    }

    /// Runs started by this scheduler that have not finished.
    pub fn runs_in_flight(&self) -> usize {
        self.shared.tracker.in_flight()
    }

    /// Stops the schedule: no run starts from now on; runs in flight get `grace` to
    /// finish, then their fetch is cancelled (recorded `failed`, lock released) and
    /// they get `grace` again to record that. Returns once none is left, or after
    /// that second wait (a run still stuck then is abandoned; its lock goes with its
    /// connection).
    pub async fn shutdown(mut self, grace: Duration) {
        self.shared.tracker.stop();
        if let Err(error) = self.scheduler.shutdown().await {
            tracing::warn!(%error, "tokio-cron-scheduler shutdown failed");
        }
        if !self.shared.tracker.wait_idle(grace).await {
            tracing::warn!(
                ?grace,
                "exchange-rate run still in flight at shutdown: cancelling it"
            );
            self.shared.tracker.cancel();
            if !self.shared.tracker.wait_idle(grace).await {
                tracing::error!(
                    ?grace,
                    "exchange-rate run did not stop after cancellation; abandoning it"
                );
            }
        }
        tracing::info!("exchange-rate scheduler stopped");
    }

    /// Waits for `stopping`, then [`shutdown`](Self::shutdown)s with `grace`: the
    /// shape of `run()`'s other background tasks (`tokio::spawn` it, cancel the
    /// token, await the handle).
    pub async fn run_until(self, stopping: CancellationToken, grace: Duration) {
        stopping.cancelled().await;
        self.shutdown(grace).await;
    }
}

impl Drop for RateScheduler {
    fn drop(&mut self) {
        // Without `shutdown` the ticker task lives on; make sure it starts nothing.
        self.shared.tracker.stop();
        self.shared.tracker.cancel();
    }
}

impl Shared {
    fn registration(&self) -> std::sync::MutexGuard<'_, Registration> {
        self.registration
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a cron job that calls [`fire`](Self::fire) to `scheduler`.
    async fn register(
        self: &Arc<Self>,
        scheduler: &JobScheduler,
    ) -> Result<Registration, ScheduleError> {
        let offset = self.schedule.utc_offset_at(Utc::now());
        let job_id = scheduler
            .add(self.cron_job()?)
            .await
            .map_err(scheduler_error)?;
        Ok(Registration { job_id, offset })
    }

    /// The tokio-cron-scheduler job. Not async, so that `fire` (which registers
    /// again) does not contain its own future type.
    fn cron_job(self: &Arc<Self>) -> Result<Job, ScheduleError> {
        let shared = Arc::downgrade(self);
        Job::new_async_tz(
            self.schedule.expression(),
            self.schedule.time_zone(),
            move |job_id, scheduler| {
                let shared = shared.upgrade();
                Box::pin(async move {
                    if let Some(shared) = shared {
                        shared.fire(job_id, scheduler).await;
                    }
                })
            },
        )
        .map_err(scheduler_error)
    }

    /// One tick of the schedule.
    async fn fire(self: Arc<Self>, job_id: Uuid, scheduler: JobScheduler) {
        let Some(_ticket) = self.tracker.admit() else {
            tracing::debug!("exchange-rate scheduler is stopping: tick ignored");
            return;
        };
        let now = Utc::now();
        self.rearm_if_offset_changed(job_id, &scheduler, now).await;
        let request = RunRequest {
            unless_fetched_since: Some(self.schedule.last_at_or_before(now).unwrap_or(now)),
            ..RunRequest::new(Trigger::Schedule)
        };
        let run = self.job.execute(request, self.tracker.cancelled());
        if let Err(panic) = AssertUnwindSafe(run).catch_unwind().await {
            tracing::error!(
                panic = panic_text(panic.as_ref()),
                "exchange-rate run panicked; the schedule goes on"
            );
        }
    }

    /// Re-registers the job when the zone's UTC offset differs from the one
    /// tokio-cron-scheduler froze (daylight saving); see the module docs.
    async fn rearm_if_offset_changed(
        self: &Arc<Self>,
        job_id: Uuid,
        scheduler: &JobScheduler,
        now: DateTime<Utc>,
    ) {
        let current = *self.registration();
        if current.job_id != job_id || current.offset == self.schedule.utc_offset_at(now) {
            return;
        }
        match self.register(scheduler).await {
            Ok(registration) => {
                *self.registration() = registration;
                if let Err(error) = scheduler.remove(&job_id).await {
                    tracing::warn!(%error, "could not remove the previous exchange-rate cron job");
                }
                tracing::info!(
                    old_offset_s = current.offset,
                    new_offset_s = registration.offset,
                    "time zone offset changed: exchange-rate job registered again"
                );
            }
            Err(error) => tracing::warn!(%error, "could not re-register the exchange-rate job"),
        }
    }
}

fn scheduler_error(error: tokio_cron_scheduler::JobSchedulerError) -> ScheduleError {
    ScheduleError::Scheduler(error.to_string())
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
