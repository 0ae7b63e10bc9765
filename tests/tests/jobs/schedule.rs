//! The schedule (cron expression + time zone) and the scheduler that fires the job.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::jobs::{JOB_NAME, RateScheduler, Schedule, ScheduleError};
use crate::run::assert_lock_free;
use crate::server::{FIXTURE, FakeCbr, Reply, job};
use crate::store::JobOutcome;
use quote_tests::stores;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[test]
fn default_schedule_is_ten_moscow_time() {
    let schedule = Schedule::parse("0 0 10 * * *", "Europe/Moscow").unwrap();
    assert_eq!(schedule.expression(), "0 0 10 * * *");
    assert_eq!(schedule.time_zone().to_string(), "Europe/Moscow");
    // 10:00 MSK = 07:00 UTC.
    let last = |now| schedule.last_at_or_before(at(now)).unwrap();
    assert_eq!(last("2023-11-02T08:00:00Z"), at("2023-11-02T07:00:00Z"));
    assert_eq!(last("2023-11-02T07:00:00Z"), at("2023-11-02T07:00:00Z"));
    assert_eq!(last("2023-11-02T07:00:00.400Z"), at("2023-11-02T07:00:00Z"));
    assert_eq!(last("2023-11-02T06:59:59.999Z"), at("2023-11-01T07:00:00Z"));
    let next = |now| schedule.next_after(at(now)).unwrap();
    assert_eq!(next("2023-11-02T06:59:59Z"), at("2023-11-02T07:00:00Z"));
    assert_eq!(next("2023-11-02T07:00:00Z"), at("2023-11-03T07:00:00Z"));
}

#[test]
fn zone_with_daylight_saving() {
    // Berlin: 10:00 is 09:00 UTC in winter, 08:00 UTC in summer.
    let schedule = Schedule::parse("0 0 10 * * *", "Europe/Berlin").unwrap();
    let last = |now| schedule.last_at_or_before(at(now)).unwrap();
    assert_eq!(last("2024-03-30T12:00:00Z"), at("2024-03-30T09:00:00Z"));
    assert_eq!(last("2024-03-31T12:00:00Z"), at("2024-03-31T08:00:00Z"));
}

#[test]
fn invalid_schedules_are_clear_errors() {
    let error = Schedule::parse("0 10 * * *", "Europe/Moscow").unwrap_err();
    assert!(matches!(error, ScheduleError::Cron { .. }), "{error:?}");
    assert!(error.to_string().contains("\"0 10 * * *\""), "{error}");
    assert!(matches!(
        Schedule::parse("0 0 25 * * *", "UTC"),
        Err(ScheduleError::Cron { .. })
    ));
    assert!(matches!(
        Schedule::parse("every day", "UTC"),
        Err(ScheduleError::Cron { .. })
    ));
    let error = Schedule::parse("0 0 10 * * *", "Mars/Olympus").unwrap_err();
    assert_eq!(error, ScheduleError::TimeZone("Mars/Olympus".into()));
    assert!(error.to_string().contains("Mars/Olympus"), "{error}");
    assert!(matches!(
        Schedule::parse("0 0 10 30 2 *", "UTC"),
        Err(ScheduleError::NeverFires(_))
    ));
}

async fn until(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fires_on_schedule_and_stops_on_shutdown() {
    let (ctx, _cleanup) = stores::sqlite().await;
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let every_second = Schedule::parse("*/1 * * * * *", "UTC").unwrap();
    let scheduler = RateScheduler::start(job(&ctx.store, &server), every_second, false)
        .await
        .unwrap();
    assert!(scheduler.next_run().is_some());

    assert!(
        until(Duration::from_secs(3), async || server.hits() >= 1).await,
        "never fired"
    );
    scheduler.shutdown(Duration::from_secs(5)).await;
    let hits = server.hits();
    let runs = ctx.store.list_job_runs(Some(JOB_NAME), 100).await.unwrap();
    assert!(!runs.is_empty());
    assert!(
        runs.iter().all(|run| run.finished_at.is_some()),
        "{runs:#?}"
    );
    assert!(
        runs.iter()
            .any(|run| run.outcome == JobOutcome::Success && run.items == 43)
    );

    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.hits(), hits, "fetched after shutdown");
    assert_eq!(
        ctx.store
            .list_job_runs(Some(JOB_NAME), 100)
            .await
            .unwrap()
            .len(),
        runs.len()
    );
    ctx.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fetches_on_start_when_stale() {
    let (ctx, _cleanup) = stores::sqlite().await;
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let daily = Schedule::parse("0 0 10 * * *", "Europe/Moscow").unwrap();
    let scheduler = RateScheduler::start(job(&ctx.store, &server), daily.clone(), true)
        .await
        .unwrap();
    let store = ctx.store.clone();
    let recorded = until(Duration::from_secs(5), async || {
        let last = store.last_job_run(JOB_NAME).await.unwrap();
        last.is_some_and(|run| run.outcome == JobOutcome::Success)
    })
    .await;
    assert!(recorded, "no start-up fetch");
    assert_eq!(server.hits(), 1);
    scheduler.shutdown(Duration::from_secs(5)).await;

    // Started again: fresh now, no fetch.
    let scheduler = RateScheduler::start(job(&ctx.store, &server), daily, true)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(scheduler.runs_in_flight(), 0);
    scheduler.shutdown(Duration::from_secs(5)).await;
    assert_eq!(server.hits(), 1);
    ctx.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_cancels_a_stuck_fetch() {
    let (ctx, _cleanup) = stores::sqlite().await;
    let server = FakeCbr::start(Reply::Hang).await;
    let every_second = Schedule::parse("*/1 * * * * *", "UTC").unwrap();
    let scheduler = RateScheduler::start(job(&ctx.store, &server), every_second, false)
        .await
        .unwrap();
    assert!(
        until(Duration::from_secs(3), async || server.hits() >= 1).await,
        "never fired"
    );
    assert!(scheduler.runs_in_flight() >= 1);

    let started = Instant::now();
    scheduler.shutdown(Duration::from_millis(300)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    let runs = ctx.store.list_job_runs(Some(JOB_NAME), 100).await.unwrap();
    let fetching = runs
        .iter()
        .find(|run| run.outcome == JobOutcome::Failed)
        .unwrap();
    assert!(fetching.detail.contains("cancelled"), "{}", fetching.detail);
    assert!(
        runs.iter().all(|run| run.finished_at.is_some()),
        "{runs:#?}"
    );
    assert_lock_free(ctx.store.as_ref()).await;
    ctx.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stops_on_a_cancellation_token() {
    let (ctx, _cleanup) = stores::sqlite().await;
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let every_second = Schedule::parse("*/1 * * * * *", "UTC").unwrap();
    let scheduler = RateScheduler::start(job(&ctx.store, &server), every_second, false)
        .await
        .unwrap();
    let stopping = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(scheduler.run_until(stopping.clone(), Duration::from_secs(5)));
    assert!(
        until(Duration::from_secs(3), async || server.hits() >= 1).await,
        "never fired"
    );
    stopping.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    let hits = server.hits();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.hits(), hits, "fetched after shutdown");
    ctx.store.close().await;
}
