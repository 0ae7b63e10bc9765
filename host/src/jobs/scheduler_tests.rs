//! Unit tests of the scheduler internals (the public behaviour is tested black-box
//! in the test crate): re-registration after a time-zone offset change.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::fx::book::RateBook;
use crate::fx::source::{CurrencyRate, DailyRates, RateSource, RateSourceError};
use crate::store::{self, PoolOptionsConfig};

/// A one-currency table; counts fetches.
#[derive(Default)]
struct FixedSource {
    fetches: AtomicUsize,
}

#[async_trait]
impl RateSource for FixedSource {
    fn name(&self) -> &str {
        "cbr"
    }

    async fn fetch(&self, _date: Option<NaiveDate>) -> Result<DailyRates, RateSourceError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        Ok(DailyRates {
            date: NaiveDate::from_ymd_opt(2023, 11, 2).unwrap(),
            rates: vec![CurrencyRate {
                source_id: "R01235".into(),
                code: "USD".into(),
                num_code: "840".into(),
                name: "US dollar".into(),
                nominal: 1,
                value: Decimal::new(932_801, 4),
                per_unit: Decimal::new(932_801, 4),
            }],
        })
    }
}

async fn until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_change_registers_the_job_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}/quote.db", dir.path().display());
    let store = store::connect(&url, &PoolOptionsConfig::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let source = Arc::new(FixedSource::default());
    let book = Arc::new(RateBook::new(store.clone(), 100, Duration::from_secs(60)));
    let job = Arc::new(ExchangeRateJob::new(store.clone(), source.clone(), book));
    let schedule = Schedule::parse("*/1 * * * * *", "UTC").unwrap();
    let scheduler = RateScheduler::start(job, schedule, false).await.unwrap();

    let first = *scheduler.shared.registration();
    assert_ne!(first.job_id, Uuid::nil());
    assert_eq!(first.offset, 0);
    // As if the job had been registered before a daylight-saving change.
    scheduler.shared.registration().offset = 3600;

    let registered_again = until(Duration::from_secs(5), || {
        scheduler.shared.registration().job_id != first.job_id
    })
    .await;
    assert!(registered_again, "the job was not registered again");
    assert_eq!(scheduler.shared.registration().offset, 0);

    // The new registration fires on its own.
    let fetches = source.fetches.load(Ordering::SeqCst);
    let fired = until(Duration::from_secs(5), || {
        source.fetches.load(Ordering::SeqCst) > fetches
    })
    .await;
    assert!(fired, "the re-registered job never fired");

    scheduler.shutdown(Duration::from_secs(5)).await;
    store.close().await;
}
