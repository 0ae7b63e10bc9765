//! What a job run is asked to do and how it ended: [`Trigger`], [`RunRequest`] and
//! [`RunOutcome`] (the JSON answer of `POST /api/exchange-rates/refresh`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::store::JobOutcome;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// The cron schedule fired.
    Schedule,
    /// Host start with rates older than the last scheduled time (`fetch_on_start`).
    Start,
    /// An administrator asked (`POST /api/exchange-rates/refresh`).
    Manual,
}

impl Trigger {
    /// `schedule`, `start` or `manual`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Start => "start",
            Self::Manual => "manual",
        }
    }
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run to perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunRequest {
    /// What started it.
    pub trigger: Trigger,
    /// The table to fetch; `None` for the one in force today.
    pub date: Option<NaiveDate>,
    /// When set, the run is skipped (and recorded so) if rates were already fetched
    /// at or after this time, checked once the lock is held: a schedule tick that
    /// another host has served already.
    pub unless_fetched_since: Option<DateTime<Utc>>,
}

impl RunRequest {
    /// Today's table, unconditionally.
    pub fn new(trigger: Trigger) -> Self {
        Self {
            trigger,
            date: None,
            unless_fetched_since: None,
        }
    }
}

/// How a run ended; the JSON body of `POST /api/exchange-rates/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunOutcome {
    /// The `job_runs` row, `None` if even recording the run failed.
    pub run_id: Option<Uuid>,
    /// What started the run.
    pub trigger: Trigger,
    /// `success`, `failed` or `skipped`.
    pub outcome: JobOutcome,
    /// When the run began (before taking the lock).
    pub started_at: DateTime<Utc>,
    /// When it ended (after releasing the lock).
    pub finished_at: DateTime<Utc>,
    /// Currencies in the fetched table.
    pub rates_fetched: u64,
    /// Rows that were new (0 when the date was stored already).
    pub rates_stored: u64,
    /// The date the source gave the table (can differ from the date asked for).
    pub rate_date: Option<NaiveDate>,
    /// Human summary, e.g. `43 rates for 2023-11-02, 43 new`, or the error.
    pub detail: String,
}

impl RunOutcome {
    /// An outcome with nothing done yet.
    pub(crate) fn new(trigger: Trigger, started_at: DateTime<Utc>, outcome: JobOutcome) -> Self {
        Self {
            run_id: None,
            trigger,
            outcome,
            started_at,
            finished_at: Utc::now(),
            rates_fetched: 0,
            rates_stored: 0,
            rate_date: None,
            detail: String::new(),
        }
    }
}

/// The message of a caught panic.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
