//! Helpers that build an exchange-rate job against the fake CBR endpoint.

pub use quote_tests::fake_cbr::{FIXTURE, FIXTURE_RATES, FakeCbr, Reply};

use std::sync::Arc;
use std::time::Duration;

use crate::fx::book::RateBook;
use crate::fx::source::RateSource;
use crate::jobs::ExchangeRateJob;
use crate::store::Store;

/// A job on `store` fetching from `source`, and the rate book it clears.
pub fn job_with(
    store: &Arc<dyn Store>,
    source: Arc<dyn RateSource>,
) -> (Arc<ExchangeRateJob>, Arc<RateBook>) {
    let book = Arc::new(RateBook::new(store.clone(), 1000, Duration::from_secs(300)));
    let job = ExchangeRateJob::new(store.clone(), source, book.clone());
    (Arc::new(job), book)
}

/// A job on `store` fetching from `server`.
pub fn job(store: &Arc<dyn Store>, server: &FakeCbr) -> Arc<ExchangeRateJob> {
    job_with(store, server.source()).0
}
