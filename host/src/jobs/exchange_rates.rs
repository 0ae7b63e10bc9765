//! The daily exchange-rate job: one run takes the job lock, fetches the central bank's
//! table, stores each currency X as X->RUB per unit, and records the run for health.
//!
//! - **One run at a time across hosts**: [`Store::try_job_lock`] (PostgreSQL advisory
//!   lock on a dedicated connection; in-process guard on SQLite). A run that finds it
//!   taken records `skipped` and returns at once.
//! - **The lock is always released**: `release().await` on every path, errors and
//!   panics included (a panic inside the run is caught, recorded as `failed`, and the
//!   lock released before the outcome is returned).
//! - **Idempotent**: the store inserts nothing for a (source, pair, date) it already
//!   has, so a second run on the same day succeeds with 0 new rows.
//! - **All or nothing**: the source yields a complete table or an error (a malformed
//!   response is [`RateSourceError::Malformed`]), and the rows go in one transaction.
//! - **Cross rates**: only X->RUB is stored; [`RateBook`] prices X->Y from the two RUB
//!   legs and RUB->X from the inverse, so no other pair needs storing.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use futures::FutureExt;

use crate::fx::book::{PIVOT, RateBook};
use crate::fx::source::{DailyRates, RateSource, RateSourceError};
use crate::jobs::run::{RunOutcome, RunRequest, Trigger, panic_text};
use crate::jobs::schedule::Schedule;
use crate::store::{JobOutcome, NewRate, Store, StoreError, job_lock_key};

/// Name of the job in `job_runs` and the source of its lock key.
pub const JOB_NAME: &str = "cbr_rates";

/// Detail recorded for a run skipped because the job lock is held.
pub const SKIPPED_LOCKED: &str = "another run holds the job lock (on another host or this one)";

/// How many recent runs [`ExchangeRateJob::fetched_since`] looks through.
const RECENT_RUNS: u32 = 50;

/// Fetches official rates into the store; shared as `Arc<ExchangeRateJob>` by the
/// scheduler and the refresh endpoint.
pub struct ExchangeRateJob {
    store: Arc<dyn Store>,
    source: Arc<dyn RateSource>,
    book: Arc<RateBook>,
}

/// A run's successful work.
struct Stored {
    date: NaiveDate,
    fetched: u64,
    new: u64,
}

/// Why a locked run failed.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("cancelled: the host is shutting down")]
    Cancelled,
    #[error("fetch failed: {0}")]
    Source(#[from] RateSourceError),
    #[error("rejected the {date} table: {reason}")]
    Invalid { date: NaiveDate, reason: String },
    #[error("storing the {date} rates failed: {error}")]
    Store { date: NaiveDate, error: StoreError },
}

type Stop<'a> = Pin<&'a mut (dyn Future<Output = ()> + Send)>;

impl ExchangeRateJob {
    /// A job storing what `source` fetches into `store`, clearing `book` afterwards.
    pub fn new(store: Arc<dyn Store>, source: Arc<dyn RateSource>, book: Arc<RateBook>) -> Self {
        Self {
            store,
            source,
            book,
        }
    }

    /// Fetches and stores today's table (see the module docs for the guarantees).
    pub async fn run(&self, trigger: Trigger) -> RunOutcome {
        self.execute(RunRequest::new(trigger), std::future::pending())
            .await
    }

    /// Fetches and stores the table for `date` (`None`: today's).
    pub async fn run_for(&self, trigger: Trigger, date: Option<NaiveDate>) -> RunOutcome {
        let request = RunRequest {
            date,
            ..RunRequest::new(trigger)
        };
        self.execute(request, std::future::pending()).await
    }

    /// [`run_for`](Self::run_for) on a task of its own, so that it completes and is
    /// recorded even when the caller goes away (the HTTP client of `POST
    /// /api/exchange-rates/refresh` disconnecting cancels the handler, not the run).
    pub async fn run_detached(
        self: &Arc<Self>,
        trigger: Trigger,
        date: Option<NaiveDate>,
    ) -> RunOutcome {
        let (job, started_at) = (self.clone(), Utc::now());
        match tokio::spawn(async move { job.run_for(trigger, date).await }).await {
            Ok(outcome) => outcome,
            Err(error) => RunOutcome {
                detail: format!("the run task ended abnormally: {error}"),
                ..RunOutcome::new(trigger, started_at, JobOutcome::Failed)
            },
        }
    }

    /// At host start: runs once if nothing was fetched since the last time `schedule`
    /// fired at or before `now`; `None` when the rates are fresh.
    pub async fn fetch_if_stale(
        &self,
        now: DateTime<Utc>,
        schedule: &Schedule,
    ) -> Option<RunOutcome> {
        self.fetch_if_stale_until(now, schedule, std::future::pending())
            .await
    }

    /// [`fetch_if_stale`](Self::fetch_if_stale), its fetch abandoned when `stop` completes.
    pub async fn fetch_if_stale_until(
        &self,
        now: DateTime<Utc>,
        schedule: &Schedule,
        stop: impl Future<Output = ()> + Send,
    ) -> Option<RunOutcome> {
        let tick = schedule.last_at_or_before(now)?;
        match self.fetched_since(tick).await {
            Ok(Some(at)) => {
                tracing::debug!(job = JOB_NAME, %tick, fetched_at = %at, "exchange rates are fresh");
                return None;
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(job = JOB_NAME, %error, "cannot tell whether rates are stale")
            }
        }
        tracing::info!(job = JOB_NAME, %tick, "no rates fetched since the last scheduled time: fetching once");
        let request = RunRequest {
            unless_fetched_since: Some(tick),
            ..RunRequest::new(Trigger::Start)
        };
        Some(self.execute(request, stop).await)
    }

    /// When rates were last fetched at or after `since`, if they were: the newest
    /// stored row's fetch time, or the start of a successful run (which may have
    /// stored nothing new, e.g. on a day without a new fixing).
    pub async fn fetched_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        if let Some(at) = self.store.newest_rate_fetch().await?
            && at >= since
        {
            return Ok(Some(at));
        }
        let runs = self
            .store
            .list_job_runs(Some(JOB_NAME), RECENT_RUNS)
            .await?;
        Ok(runs
            .into_iter()
            .filter(|run| run.outcome == JobOutcome::Success && run.started_at >= since)
            .map(|run| run.started_at)
            .max())
    }

    /// One run; the fetch is abandoned (outcome `failed`, lock released) when `stop`
    /// completes first. Never panics and never leaves the lock held.
    pub async fn execute(
        &self,
        request: RunRequest,
        stop: impl Future<Output = ()> + Send,
    ) -> RunOutcome {
        let started_at = Utc::now();
        let outcome = match self.store.try_job_lock(job_lock_key(JOB_NAME)).await {
            Ok(Some(guard)) => {
                let stop = std::pin::pin!(stop);
                let outcome = AssertUnwindSafe(self.locked(request, started_at, stop))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| RunOutcome {
                        detail: format!("the run panicked: {}", panic_text(panic.as_ref())),
                        ..RunOutcome::new(request.trigger, started_at, JobOutcome::Failed)
                    });
                if let Err(error) = guard.release().await {
                    // Its connection is gone either way, which releases the lock too.
                    tracing::warn!(job = JOB_NAME, %error, "releasing the job lock failed");
                }
                RunOutcome {
                    finished_at: Utc::now(),
                    ..outcome
                }
            }
            Ok(None) => {
                self.skipped(request, started_at, SKIPPED_LOCKED.into())
                    .await
            }
            Err(error) => {
                let detail = format!("could not take the job lock: {error}");
                self.failed_unlocked(request, started_at, detail).await
            }
        };
        log_outcome(&outcome);
        outcome
    }

    /// The part of a run that holds the lock.
    async fn locked(
        &self,
        request: RunRequest,
        started_at: DateTime<Utc>,
        mut stop: Stop<'_>,
    ) -> RunOutcome {
        if let Some(since) = request.unless_fetched_since {
            match self.fetched_since(since).await {
                Ok(Some(at)) => {
                    let detail =
                        format!("rates already fetched at {at}, after the scheduled time {since}");
                    return self.skipped(request, started_at, detail).await;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(job = JOB_NAME, %error, "cannot check for an earlier fetch; fetching")
                }
            }
        }
        let run_id = match self.store.start_job_run(JOB_NAME).await {
            Ok(id) => id,
            Err(error) => {
                return RunOutcome {
                    detail: format!("could not record the run: {error}"),
                    ..RunOutcome::new(request.trigger, started_at, JobOutcome::Failed)
                };
            }
        };
        let work = AssertUnwindSafe(self.fetch_and_store(request.date, stop.as_mut()))
            .catch_unwind()
            .await;
        let mut outcome = RunOutcome {
            run_id: Some(run_id),
            ..RunOutcome::new(request.trigger, started_at, JobOutcome::Failed)
        };
        match work {
            Ok(Ok(stored)) => {
                outcome.outcome = JobOutcome::Success;
                outcome.rates_fetched = stored.fetched;
                outcome.rates_stored = stored.new;
                outcome.rate_date = Some(stored.date);
                outcome.detail = format!(
                    "{} rates for {}, {} new",
                    stored.fetched, stored.date, stored.new
                );
                if let Some(asked) = request.date.filter(|asked| *asked != stored.date) {
                    outcome.detail.push_str(&format!(" (asked for {asked})"));
                }
            }
            Ok(Err(error)) => {
                if let RunError::Invalid { date, .. } | RunError::Store { date, .. } = &error {
                    outcome.rate_date = Some(*date);
                }
                outcome.detail = error.to_string();
            }
            Err(panic) => {
                outcome.detail = format!("the run panicked: {}", panic_text(panic.as_ref()))
            }
        }
        let items = i64::try_from(outcome.rates_stored).unwrap_or(i64::MAX);
        if let Err(error) = self
            .store
            .finish_job_run(run_id, outcome.outcome, &outcome.detail, items)
            .await
        {
            tracing::warn!(job = JOB_NAME, %run_id, %error, "could not record the end of the run");
        }
        outcome
    }

    async fn fetch_and_store(
        &self,
        date: Option<NaiveDate>,
        stop: Stop<'_>,
    ) -> Result<Stored, RunError> {
        let daily = tokio::select! {
            biased;
            () = stop => return Err(RunError::Cancelled),
            fetched = self.source.fetch(date) => fetched?,
        };
        let rows = to_rows(&daily)?;
        let new = self
            .store
            .store_rates(self.source.name(), daily.date, &rows, Utc::now())
            .await
            .map_err(|error| RunError::Store {
                date: daily.date,
                error,
            })?;
        // Also when nothing was new here: another host may have stored the rows, and
        // this host's cache may hold "no rate" answers for their date.
        self.book.invalidate();
        Ok(Stored {
            date: daily.date,
            fetched: rows.len() as u64,
            new,
        })
    }

    async fn skipped(
        &self,
        request: RunRequest,
        started_at: DateTime<Utc>,
        detail: String,
    ) -> RunOutcome {
        let run_id = match self.store.record_skipped(JOB_NAME, &detail).await {
            Ok(id) => Some(id),
            Err(error) => {
                tracing::warn!(job = JOB_NAME, %error, "could not record the skipped run");
                None
            }
        };
        RunOutcome {
            run_id,
            detail,
            ..RunOutcome::new(request.trigger, started_at, JobOutcome::Skipped)
        }
    }

    /// A run that failed before it held the lock: recorded as started and failed.
    async fn failed_unlocked(
        &self,
        request: RunRequest,
        started_at: DateTime<Utc>,
        detail: String,
    ) -> RunOutcome {
        let run_id = match self.store.start_job_run(JOB_NAME).await {
            Ok(id) => (self.store)
                .finish_job_run(id, JobOutcome::Failed, &detail, 0)
                .await
                .ok()
                .map(|()| id),
            Err(_) => None,
        };
        RunOutcome {
            run_id,
            detail,
            ..RunOutcome::new(request.trigger, started_at, JobOutcome::Failed)
        }
    }
}

/// Rows to store: each currency X as X->RUB, rate = price of one unit in RUB (exact).
fn to_rows(daily: &DailyRates) -> Result<Vec<NewRate>, RunError> {
    let invalid = |reason: String| RunError::Invalid {
        date: daily.date,
        reason,
    };
    if daily.rates.is_empty() {
        return Err(invalid("no currencies".into()));
    }
    daily
        .rates
        .iter()
        .map(|rate| {
            if rate.code == PIVOT {
                return Err(invalid(format!("it quotes {PIVOT} against itself")));
            }
            let nominal = i32::try_from(rate.nominal)
                .map_err(|_| invalid(format!("{} has nominal {}", rate.code, rate.nominal)))?;
            Ok(NewRate {
                from_currency: rate.code.clone(),
                to_currency: PIVOT.to_owned(),
                rate: rate.per_unit,
                nominal,
            })
        })
        .collect()
}

/// Logs a run and counts it in the metrics (`job_runs_total` by outcome, and
/// `job_run_duration_seconds`).
fn log_outcome(outcome: &RunOutcome) {
    let result = outcome.outcome.as_str();
    metrics::counter!("job_runs_total", "job" => JOB_NAME, "outcome" => result).increment(1);
    let took = (outcome.finished_at - outcome.started_at)
        .to_std()
        .unwrap_or_default();
    metrics::histogram!("job_run_duration_seconds", "job" => JOB_NAME).record(took.as_secs_f64());
    let (run_id, trigger, detail) = (outcome.run_id, outcome.trigger, &outcome.detail);
    if outcome.outcome == JobOutcome::Failed {
        tracing::warn!(job = JOB_NAME, ?run_id, %trigger, %detail, "exchange-rate run failed");
    } else {
        let stored = outcome.rates_stored;
        tracing::info!(job = JOB_NAME, ?run_id, %trigger, outcome = result, stored, %detail, "exchange-rate run");
    }
}
