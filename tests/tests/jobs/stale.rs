//! Fetch once at start when the stored rates are older than the last scheduled time.

use chrono::{Duration, NaiveDate, Utc};

use crate::jobs::{JOB_NAME, Schedule, Trigger};
use crate::server::{FIXTURE, FakeCbr, Reply, job};
use crate::store::{JobOutcome, NewRate};
use quote_tests::on_both_stores;
use quote_tests::stores::Ctx;

fn schedule() -> Schedule {
    Schedule::parse("0 0 10 * * *", "Europe/Moscow").unwrap()
}

fn usd() -> Vec<NewRate> {
    vec![NewRate {
        from_currency: "USD".into(),
        to_currency: "RUB".into(),
        rate: "90.1".parse().unwrap(),
        nominal: 1,
    }]
}

async fn fetches_when_empty_then_not(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let job = job(&ctx.store, &server);
    let outcome = job
        .fetch_if_stale(Utc::now(), &schedule())
        .await
        .expect("stale: runs");
    assert_eq!(outcome.outcome, JobOutcome::Success, "{outcome:?}");
    assert_eq!(outcome.trigger, Trigger::Start);
    assert_eq!(outcome.rates_stored, 43);
    assert_eq!(server.hits(), 1);

    assert_eq!(job.fetch_if_stale(Utc::now(), &schedule()).await, None);
    assert_eq!(server.hits(), 1);
    assert_eq!(
        ctx.store
            .list_job_runs(Some(JOB_NAME), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}
on_both_stores!(fetches_when_empty_t, fetches_when_empty_then_not);

async fn fetched_before_the_tick_is_stale(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let now = Utc::now();
    let tick = schedule().last_at_or_before(now).unwrap();
    let day = NaiveDate::from_ymd_opt(2023, 10, 31).unwrap();
    let just_before = tick - Duration::milliseconds(1);
    ctx.store
        .store_rates("cbr", day, &usd(), just_before)
        .await
        .unwrap();
    let outcome = job(&ctx.store, &server)
        .fetch_if_stale(now, &schedule())
        .await;
    let outcome = outcome.expect("stale: runs");
    assert_eq!(outcome.outcome, JobOutcome::Success);
    assert_eq!(server.hits(), 1);
}
on_both_stores!(fetched_before_the_tick_t, fetched_before_the_tick_is_stale);

async fn fetched_at_or_after_the_tick_is_fresh(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let now = Utc::now();
    let tick = schedule().last_at_or_before(now).unwrap();
    let day = NaiveDate::from_ymd_opt(2023, 11, 1).unwrap();
    ctx.store
        .store_rates("cbr", day, &usd(), tick)
        .await
        .unwrap();
    let outcome = job(&ctx.store, &server)
        .fetch_if_stale(now, &schedule())
        .await;
    assert_eq!(outcome, None);
    assert_eq!(server.hits(), 0);
    assert!(
        ctx.store
            .list_job_runs(Some(JOB_NAME), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
on_both_stores!(
    fetched_after_the_tick_t,
    fetched_at_or_after_the_tick_is_fresh
);

/// A successful run that stored nothing new (the table of a day already stored,
/// e.g. over a weekend) still counts as a fetch: no second fetch at the next start.
async fn a_run_that_stored_nothing_counts(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let job = job(&ctx.store, &server);
    let long_ago = Utc::now() - Duration::days(30);
    let fixture_day = NaiveDate::from_ymd_opt(2023, 11, 2).unwrap();
    ctx.store
        .store_rates("cbr", fixture_day, &usd(), long_ago)
        .await
        .unwrap();

    let outcome = job
        .fetch_if_stale(Utc::now(), &schedule())
        .await
        .expect("stale: runs");
    assert_eq!(outcome.outcome, JobOutcome::Success);
    assert_eq!(
        outcome.rates_stored, 42,
        "USD of that day was there already"
    );
    assert_eq!(job.fetch_if_stale(Utc::now(), &schedule()).await, None);
    assert_eq!(server.hits(), 1);
}
on_both_stores!(
    a_run_that_stored_nothing_counts_t,
    a_run_that_stored_nothing_counts
);

/// A scheduled tick served by another host already is skipped once the lock is held.
async fn tick_already_served_is_skipped(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let job = job(&ctx.store, &server);
    let tick = Utc::now() - Duration::seconds(5);
    let first = job.run(Trigger::Schedule).await;
    assert_eq!(first.outcome, JobOutcome::Success);

    let request = crate::jobs::RunRequest {
        unless_fetched_since: Some(tick),
        ..crate::jobs::RunRequest::new(Trigger::Schedule)
    };
    let late = job.execute(request, std::future::pending()).await;
    assert_eq!(late.outcome, JobOutcome::Skipped, "{late:?}");
    assert!(
        late.detail.starts_with("rates already fetched at "),
        "{}",
        late.detail
    );
    assert_eq!(server.hits(), 1);
    let last = ctx.store.last_job_run(JOB_NAME).await.unwrap().unwrap();
    assert_eq!(
        (last.outcome, Some(last.id)),
        (JobOutcome::Skipped, late.run_id)
    );
}
on_both_stores!(tick_already_served_t, tick_already_served_is_skipped);
