//! One run of the job: the real fixture, idempotence, failures that store nothing,
//! panics and cancellation that leave the lock free.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::fx::source::{DailyRates, RateSource, RateSourceError};
use crate::jobs::{JOB_NAME, RunRequest, Trigger};
use crate::server::{FIXTURE, FIXTURE_RATES, FakeCbr, Reply, job, job_with};
use crate::store::{JobOutcome, Store, job_lock_key};
use quote_tests::on_both_stores;
use quote_tests::stores::Ctx;

fn fixture_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 11, 2).unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// The lock is free: taking it succeeds (and it is given back).
pub async fn assert_lock_free(store: &dyn Store) {
    let guard = store
        .try_job_lock(job_lock_key(JOB_NAME))
        .await
        .unwrap()
        .expect("the job lock is still held");
    guard.release().await.unwrap();
}

async fn stores_fixture_once(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let (job, book) = job_with(&ctx.store, server.source());
    // A lookup before the fetch caches "no rate"; the run must clear it.
    assert_eq!(
        book.stored("USD", "RUB", fixture_date()).await.unwrap(),
        None
    );

    let first = job.run(Trigger::Manual).await;
    assert_eq!(first.outcome, JobOutcome::Success, "{first:?}");
    assert_eq!(first.trigger, Trigger::Manual);
    assert_eq!(first.rates_fetched, 43);
    assert_eq!(first.rates_stored, 43);
    assert_eq!(first.rate_date, Some(fixture_date()));
    assert_eq!(first.detail, "43 rates for 2023-11-02, 43 new");
    assert!(first.started_at <= first.finished_at);
    assert_eq!(server.hits(), 1);

    // Every currency as X->RUB, exactly the fixture's Value / Nominal (its VunitRate).
    let stored = ctx.store.latest_rates(None).await.unwrap();
    let codes: BTreeSet<&str> = stored
        .iter()
        .map(|row| row.from_currency.as_str())
        .collect();
    let expected: BTreeSet<&str> = FIXTURE_RATES.iter().map(|(code, ..)| *code).collect();
    assert_eq!(codes, expected);
    for (code, nominal, value, per_unit) in FIXTURE_RATES {
        let row = stored
            .iter()
            .find(|row| row.from_currency == *code)
            .unwrap();
        assert_eq!(row.to_currency, "RUB");
        assert_eq!(row.rate, dec(per_unit), "{code}");
        assert_eq!(row.rate * Decimal::from(*nominal), dec(value), "{code}");
        assert_eq!(row.nominal, *nominal, "{code}");
        assert_eq!(row.rate_date, fixture_date());
        assert_eq!(row.source, "cbr");
    }
    let usd = ctx.store.rate("USD", "RUB", None).await.unwrap().unwrap();
    assert_eq!((usd.rate, usd.nominal), (dec("93.2801"), 1));
    let jpy = ctx.store.rate("JPY", "RUB", None).await.unwrap().unwrap();
    assert_eq!((jpy.rate, jpy.nominal), (dec("0.616524"), 100));
    let vnd = ctx.store.rate("VND", "RUB", None).await.unwrap().unwrap();
    assert_eq!((vnd.rate, vnd.nominal), (dec("0.00387231"), 10000));
    assert_eq!(vnd.rate.to_string(), "0.00387231");

    // The book sees the new rates, and prices a cross rate through RUB.
    let cached = book.stored("USD", "RUB", fixture_date()).await.unwrap();
    assert_eq!(cached.map(|rate| rate.rate), Some(dec("93.2801")));
    let legs = book
        .snapshot(&BTreeSet::from(["USD".to_string()]), "JPY", fixture_date())
        .await
        .unwrap();
    let pairs: Vec<_> = legs
        .iter()
        .map(|r| (r.base.as_str(), r.quote.as_str()))
        .collect();
    assert_eq!(pairs, [("USD", "RUB"), ("JPY", "RUB")]);

    // Second run: same table, nothing new, still a success.
    let second = job.run(Trigger::Schedule).await;
    assert_eq!(second.outcome, JobOutcome::Success, "{second:?}");
    assert_eq!((second.rates_fetched, second.rates_stored), (43, 0));
    assert_eq!(second.detail, "43 rates for 2023-11-02, 0 new");
    assert_eq!(ctx.store.latest_rates(None).await.unwrap(), stored);

    let runs = ctx.store.list_job_runs(Some(JOB_NAME), 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].id, second.run_id.unwrap());
    assert_eq!(runs[1].id, first.run_id.unwrap());
    for (run, items) in runs.iter().zip([0, 43]) {
        assert_eq!(run.outcome, JobOutcome::Success);
        assert_eq!(run.items, items);
        assert!(run.finished_at.is_some());
    }
    assert_eq!(runs[1].detail, first.detail);
    assert_lock_free(ctx.store.as_ref()).await;
}
on_both_stores!(stores_fixture_once_t, stores_fixture_once);

async fn asked_date_is_sent_and_reported(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let sunday = NaiveDate::from_ymd_opt(2023, 11, 5).unwrap();
    let outcome = job(&ctx.store, &server)
        .run_for(Trigger::Manual, Some(sunday))
        .await;
    assert_eq!(outcome.outcome, JobOutcome::Success);
    assert_eq!(outcome.rate_date, Some(fixture_date()));
    assert_eq!(
        outcome.detail,
        "43 rates for 2023-11-02, 43 new (asked for 2023-11-05)"
    );
}
on_both_stores!(
    asked_date_is_sent_and_reported_t,
    asked_date_is_sent_and_reported
);

/// Fails without storing anything; the run is recorded; the lock is free.
async fn assert_failed_cleanly(ctx: &Ctx, outcome: &crate::jobs::RunOutcome, needle: &str) {
    assert_eq!(outcome.outcome, JobOutcome::Failed, "{outcome:?}");
    assert!(
        outcome.detail.contains(needle),
        "{:?} lacks {needle:?}",
        outcome.detail
    );
    assert_eq!(outcome.rates_stored, 0);
    assert!(ctx.store.latest_rates(None).await.unwrap().is_empty());
    let last = ctx.store.last_job_run(JOB_NAME).await.unwrap().unwrap();
    assert_eq!(Some(last.id), outcome.run_id);
    assert_eq!(last.outcome, JobOutcome::Failed);
    assert_eq!(last.detail, outcome.detail);
    assert!(last.finished_at.is_some());
    assert_lock_free(ctx.store.as_ref()).await;
}

async fn server_error(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Status(500)).await;
    let job = job(&ctx.store, &server);
    let outcome = job.run(Trigger::Manual).await;
    assert_eq!(server.hits(), 3, "first attempt and 2 retries");
    assert_failed_cleanly(ctx, &outcome, "HTTP status 500").await;

    // The next run is not blocked by the failed one.
    server.set_reply(Reply::Body(FIXTURE));
    let next = job.run(Trigger::Manual).await;
    assert_eq!(next.outcome, JobOutcome::Success, "{next:?}");
    assert_eq!(next.rates_stored, 43);
}
on_both_stores!(server_error_t, server_error);

async fn timeout(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Hang).await;
    let mut config = server.config();
    config.request_timeout = Duration::from_millis(300);
    config.retries = 1;
    let source = Arc::new(crate::fx::cbr::CbrSource::new(config).unwrap());
    let outcome = job_with(&ctx.store, source).0.run(Trigger::Manual).await;
    assert_eq!(server.hits(), 2);
    assert_failed_cleanly(ctx, &outcome, "timed out").await;
}
on_both_stores!(timeout_t, timeout);

async fn garbage(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Body(
        b"<html><body>Service unavailable</body></html>",
    ))
    .await;
    let job = job(&ctx.store, &server);
    let outcome = job.run(Trigger::Manual).await;
    assert_eq!(server.hits(), 1, "a malformed answer is not retried");
    assert_failed_cleanly(ctx, &outcome, "malformed").await;

    // Cut short: the complete currencies before the cut are not stored either.
    server.set_reply(Reply::Body(&FIXTURE[..FIXTURE.len() - 200]));
    let outcome = job.run(Trigger::Manual).await;
    assert_failed_cleanly(ctx, &outcome, "malformed").await;
}
on_both_stores!(garbage_t, garbage);

/// A source that panics mid-fetch.
struct Panicking;

#[async_trait]
impl RateSource for Panicking {
    fn name(&self) -> &str {
        "cbr"
    }

    async fn fetch(&self, _date: Option<NaiveDate>) -> Result<DailyRates, RateSourceError> {
        tokio::task::yield_now().await;
        panic!("source exploded");
    }
}

async fn panic_is_recorded_and_releases_the_lock(ctx: &Ctx) {
    let (job, _) = job_with(&ctx.store, Arc::new(Panicking));
    let outcome = job.run(Trigger::Manual).await;
    assert_failed_cleanly(ctx, &outcome, "the run panicked: source exploded").await;
}
on_both_stores!(panic_is_recorded_t, panic_is_recorded_and_releases_the_lock);

async fn cancelled_fetch_releases_the_lock(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Hang).await;
    let job = job(&ctx.store, &server);
    let stop = tokio::time::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let outcome = job.execute(RunRequest::new(Trigger::Schedule), stop).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(server.hits(), 1);
    assert_failed_cleanly(ctx, &outcome, "cancelled").await;
}
on_both_stores!(cancelled_fetch_t, cancelled_fetch_releases_the_lock);

async fn detached_run_outlives_its_caller(ctx: &Ctx) {
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    server.hold();
    let job = job(&ctx.store, &server);
    // The caller gives up while the fetch is held (as an HTTP handler does when its
    // client disconnects); then the service answers.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(100),
        job.run_detached(Trigger::Manual, None),
    )
    .await;
    assert!(gave_up.is_err());
    server.release();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let last = ctx.store.last_job_run(JOB_NAME).await.unwrap().unwrap();
        if last.outcome == JobOutcome::Success {
            assert_eq!(last.items, 43);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{last:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_lock_free(ctx.store.as_ref()).await;
}
on_both_stores!(
    detached_run_outlives_its_caller_t,
    detached_run_outlives_its_caller
);
