//! Background jobs: the daily exchange-rate fetch and the cron scheduler that runs it.
//!
//! - [`exchange_rates`]: [`ExchangeRateJob`], one run = take the job lock, fetch the
//!   central bank's table, store it, record the run; also what `POST
//!   /api/exchange-rates/refresh` calls.
//! - [`run`]: [`Trigger`], [`RunRequest`], [`RunOutcome`].
//! - [`schedule`]: [`Schedule`], a cron expression in an IANA time zone.
//! - [`scheduler`]: [`RateScheduler`], the tokio-cron-scheduler wrapper that fires the
//!   job and stops on [`RateScheduler::shutdown`].

pub mod exchange_rates;
pub mod run;
pub mod schedule;
pub mod scheduler;
mod tracker;

pub use exchange_rates::{ExchangeRateJob, JOB_NAME};
pub use run::{RunOutcome, RunRequest, Trigger};
pub use schedule::{Schedule, ScheduleError};
pub use scheduler::RateScheduler;
