//! When the exchange-rate job runs: [`Schedule`], a validated cron expression (with
//! seconds, e.g. `0 0 10 * * *`) and an IANA time zone. An invalid one is an error at
//! start, not a job that silently never runs.

use chrono::{DateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};

/// When the job runs: a cron expression evaluated in a time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: String,
    zone: Tz,
    cron: Cron,
}

/// A schedule that cannot be used, or a scheduler that cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Not a cron expression with seconds.
    #[error(
        "invalid exchange-rate schedule {expression:?}: {reason} (expected six fields with seconds, e.g. \"0 0 10 * * *\")"
    )]
    Cron {
        /// The configured expression.
        expression: String,
        /// The parser's complaint.
        reason: String,
    },
    /// Not an IANA time zone name.
    #[error(
        "unknown exchange-rate time zone {0:?} (expected an IANA name such as \"Europe/Moscow\")"
    )]
    TimeZone(String),
    /// A valid expression that matches no future time (e.g. February 30th).
    #[error("the exchange-rate schedule {0:?} never fires")]
    NeverFires(String),
    /// tokio-cron-scheduler refused to create, register or start the job.
    #[error("cannot start the exchange-rate scheduler: {0}")]
    Scheduler(String),
}

impl Schedule {
    /// Validates `expression` (six fields, seconds first; day of month and day of week
    /// must both match, as tokio-cron-scheduler reads them) and `time_zone`.
    pub fn parse(expression: &str, time_zone: &str) -> Result<Self, ScheduleError> {
        let zone: Tz = time_zone
            .trim()
            .parse()
            .map_err(|_| ScheduleError::TimeZone(time_zone.to_owned()))?;
        let expression = expression.trim();
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(expression)
            .map_err(|error| ScheduleError::Cron {
                expression: expression.to_owned(),
                reason: error.to_string(),
            })?;
        let schedule = Self {
            expression: expression.to_owned(),
            zone,
            cron,
        };
        if schedule.next_after(Utc::now()).is_none() {
            return Err(ScheduleError::NeverFires(schedule.expression));
        }
        Ok(schedule)
    }

    /// The cron expression.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The time zone it is evaluated in.
    pub fn time_zone(&self) -> Tz {
        self.zone
    }

    /// The latest time the schedule fires at or before `now`.
    pub fn last_at_or_before(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = whole_seconds(now).with_timezone(&self.zone);
        let last = self.cron.find_previous_occurrence(&local, true).ok()?;
        Some(last.with_timezone(&Utc))
    }

    /// The first time the schedule fires after `now`.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = whole_seconds(now).with_timezone(&self.zone);
        let next = self.cron.find_next_occurrence(&local, false).ok()?;
        Some(next.with_timezone(&Utc))
    }

    /// Seconds the zone is ahead of UTC at `at`.
    pub(crate) fn utc_offset_at(&self, at: DateTime<Utc>) -> i32 {
        self.zone
            .offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc()
    }
}

/// `at` without its fraction of a second (croner keeps it in what it returns).
fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(0).unwrap_or(at)
}
