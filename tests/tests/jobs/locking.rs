//! One fetch at a time across hosts: three hosts firing while one of them is fetching,
//! and a host that dies holding the lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use quote_tests::stores::{self, Ctx};
use quote_tests::wait;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::fx::cbr::CbrSource;
use crate::jobs::{ExchangeRateJob, JOB_NAME, RunOutcome, Trigger};
use crate::run::assert_lock_free;
use crate::server::{FIXTURE, FakeCbr, Reply, job, job_with};
use crate::store::{self, JobOutcome, Store, job_lock_key};

/// A job on `store` whose fetch waits as long as the fake service holds its answer.
fn patient_job(store: &Arc<dyn Store>, server: &FakeCbr) -> Arc<ExchangeRateJob> {
    let mut config = server.config();
    config.request_timeout = Duration::from_secs(120);
    job_with(store, Arc::new(CbrSource::new(config).unwrap())).0
}

/// Starts every job at once while the fake service holds its answer, so the run that
/// takes the lock is still fetching when the others try it; answers once all the others
/// have finished.
async fn fire_together(jobs: &[Arc<ExchangeRateJob>], server: &FakeCbr) -> Vec<RunOutcome> {
    server.hold();
    let finished = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = jobs
        .iter()
        .map(|job| {
            let (job, finished) = (job.clone(), finished.clone());
            tokio::spawn(async move {
                let outcome = job.run(Trigger::Schedule).await;
                finished.fetch_add(1, Ordering::SeqCst);
                outcome
            })
        })
        .collect();
    let others = jobs.len() - 1;
    wait::until(
        "every run but the fetching one finishing while the fetch is held",
        Duration::from_secs(30),
        async || finished.load(Ordering::SeqCst) == others,
    )
    .await;
    server.release();
    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.push(handle.await.unwrap());
    }
    outcomes
}

async fn assert_one_fetch(ctx: &Ctx, server: &FakeCbr, outcomes: &[RunOutcome]) {
    assert_eq!(server.hits(), 1, "exactly one fetch reaches the server");
    let count = |wanted| outcomes.iter().filter(|o| o.outcome == wanted).count();
    assert_eq!(count(JobOutcome::Success), 1, "{outcomes:#?}");
    assert_eq!(count(JobOutcome::Skipped), 2, "{outcomes:#?}");
    let winner = outcomes
        .iter()
        .find(|o| o.outcome == JobOutcome::Success)
        .unwrap();
    assert_eq!(winner.rates_stored, 43);

    let runs = ctx.store.list_job_runs(Some(JOB_NAME), 10).await.unwrap();
    assert_eq!(runs.len(), 3);
    let skipped: Vec<_> = runs
        .iter()
        .filter(|r| r.outcome == JobOutcome::Skipped)
        .collect();
    assert_eq!(skipped.len(), 2);
    for run in skipped {
        assert_eq!(run.detail, crate::jobs::exchange_rates::SKIPPED_LOCKED);
        assert!(run.finished_at.is_some());
    }
    assert_eq!(ctx.store.latest_rates(None).await.unwrap().len(), 43);
    assert_lock_free(ctx.store.as_ref()).await;
}

/// Three hosts on one PostgreSQL database, each with its own store (pool and lock
/// connections) and its own HTTP client, triggered at the same instant.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    quote_tests_without_postgres,
    ignore = "QUOTE_TEST_POSTGRES_URL is unset: this PostgreSQL test did not run"
)]
async fn three_hosts_one_fetch_postgres() {
    let (ctx, _database) = stores::postgres().await;
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let mut hosts = vec![ctx.store.clone()];
    for _ in 0..2 {
        hosts.push(store::connect(&ctx.url, &stores::options()).await.unwrap());
    }
    let jobs: Vec<_> = hosts
        .iter()
        .map(|store| patient_job(store, &server))
        .collect();
    let outcomes = fire_together(&jobs, &server).await;
    assert_one_fetch(&ctx, &server, &outcomes).await;
    for store in &hosts[1..] {
        store.close().await;
    }
    ctx.store.close().await;
}

/// SQLite: one host owns the file; three runs fired at once inside it fetch once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_runs_one_fetch_sqlite() {
    let (ctx, _database) = stores::sqlite().await;
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let jobs: Vec<_> = (0..3).map(|_| patient_job(&ctx.store, &server)).collect();
    let outcomes = fire_together(&jobs, &server).await;
    assert_one_fetch(&ctx, &server, &outcomes).await;
    ctx.store.close().await;
}

/// Advisory locks held in the test database by other sessions.
async fn advisory_locks(admin: &mut PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'advisory' AND d.datname = current_database()
           AND l.pid <> pg_backend_pid()",
    )
    .fetch_one(admin)
    .await
    .unwrap()
}

/// A host holding the lock dies (its backend is terminated, as when its process is
/// killed and its connection closes): the next run on another host proceeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    quote_tests_without_postgres,
    ignore = "QUOTE_TEST_POSTGRES_URL is unset: this PostgreSQL test did not run"
)]
async fn dead_holder_does_not_block_postgres() {
    let (ctx, _database) = stores::postgres().await;
    let server = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let dying: Arc<dyn Store> = store::connect(&ctx.url, &stores::options()).await.unwrap();
    let held = dying
        .try_job_lock(job_lock_key(JOB_NAME))
        .await
        .unwrap()
        .expect("lock is free at first");

    let survivor = job(&ctx.store, &server);
    let blocked = survivor.run(Trigger::Schedule).await;
    assert_eq!(blocked.outcome, JobOutcome::Skipped, "{blocked:?}");
    assert_eq!(server.hits(), 0);

    let mut admin = PgConnection::connect(&ctx.url).await.unwrap();
    assert_eq!(advisory_locks(&mut admin).await, 1);
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'advisory' AND d.datname = current_database()
           AND l.pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(killed, [true]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while advisory_locks(&mut admin).await > 0 {
        assert!(Instant::now() < deadline, "the dead backend kept its lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    admin.close().await.unwrap();

    let next = survivor.run(Trigger::Schedule).await;
    assert_eq!(next.outcome, JobOutcome::Success, "{next:?}");
    assert_eq!(next.rates_stored, 43);
    assert_eq!(server.hits(), 1);

    // The dead host's guard can no longer unlock anything; dropping it is harmless.
    let _ = held.release().await;
    assert_lock_free(ctx.store.as_ref()).await;
    dying.close().await;
    ctx.store.close().await;
}
