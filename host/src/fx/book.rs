//! The rate book: which stored rates a calculation needs, answered from a small
//! in-memory cache on the hot path.

use crate::changes::{Change, Invalidate};
use crate::contract::Rate;
use crate::store::{ExchangeRateStore, StoreError, StoredRate};
use chrono::NaiveDate;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// The currency every central-bank rate is quoted against; cross rates go through it.
pub const PIVOT: &str = "RUB";

/// ISO 4217 "no currency": an item in it is priced by the plugin from its own attributes
/// (an import's purchase price with a per-item rate, say), so no stored rate is looked up.
pub const NO_CURRENCY: &str = "XXX";

/// Why a snapshot could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("no exchange rate {from}->{to} on or before {date}")]
    Missing {
        from: String,
        to: String,
        date: NaiveDate,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stored rates by (from, to, date), cached for a short while.
pub struct RateBook {
    store: Arc<dyn ExchangeRateStore>,
    cache: moka::future::Cache<(String, String, NaiveDate), Option<StoredRate>>,
}

impl RateBook {
    /// A book over `store` caching up to `entries` lookups for `ttl` each.
    pub fn new(store: Arc<dyn ExchangeRateStore>, entries: u64, ttl: Duration) -> Self {
        Self {
            store,
            cache: moka::future::Cache::builder()
                .max_capacity(entries)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// The latest stored `from`->`to` rate dated on or before `date`.
    pub async fn stored(
        &self,
        from: &str,
        to: &str,
        date: NaiveDate,
    ) -> Result<Option<StoredRate>, StoreError> {
        let key = (from.to_string(), to.to_string(), date);
        self.cache
            .try_get_with(key, async { self.store.rate(from, to, Some(date)).await })
            .await
            .map_err(|error| StoreError::Unavailable(error.to_string()))
    }

    /// The stored records that price every `currency` in `quote_currency` on `date`:
    /// the direct pair, else its inverse, else both legs through [`PIVOT`]. Records are
    /// passed on as stored; the plugin does the arithmetic, so nothing is rounded here.
    /// [`NO_CURRENCY`] needs no rate.
    pub async fn snapshot(
        &self,
        currencies: &BTreeSet<String>,
        quote_currency: &str,
        date: NaiveDate,
    ) -> Result<Vec<Rate>, SnapshotError> {
        let mut records: Vec<StoredRate> = Vec::new();
        for currency in currencies
            .iter()
            .filter(|currency| currency.as_str() != quote_currency)
            .filter(|currency| currency.as_str() != NO_CURRENCY)
        {
            for record in self.pair(currency, quote_currency, date).await? {
                if !records.iter().any(|known| known.id == record.id) {
                    records.push(record);
                }
            }
        }
        Ok(records.into_iter().map(as_contract_rate).collect())
    }

    async fn pair(
        &self,
        from: &str,
        to: &str,
        date: NaiveDate,
    ) -> Result<Vec<StoredRate>, SnapshotError> {
        if let Some(record) = self.either_way(from, to, date).await? {
            return Ok(vec![record]);
        }
        if from != PIVOT
            && to != PIVOT
            && let (Some(first), Some(second)) = (
                self.either_way(from, PIVOT, date).await?,
                self.either_way(to, PIVOT, date).await?,
            )
        {
            return Ok(vec![first, second]);
        }
        Err(SnapshotError::Missing {
            from: from.to_string(),
            to: to.to_string(),
            date,
        })
    }

    async fn either_way(
        &self,
        a: &str,
        b: &str,
        date: NaiveDate,
    ) -> Result<Option<StoredRate>, StoreError> {
        match self.stored(a, b, date).await? {
            Some(record) => Ok(Some(record)),
            None => self.stored(b, a, date).await,
        }
    }

    /// Forgets every cached lookup: called after new rates are stored.
    pub fn invalidate(&self) {
        self.cache.invalidate_all();
    }

    /// Entries held now (pending inserts and evictions applied first).
    pub async fn entry_count(&self) -> u64 {
        self.cache.run_pending_tasks().await;
        self.cache.entry_count()
    }
}

#[async_trait::async_trait]
impl Invalidate for RateBook {
    async fn invalidate(&self, change: &Change) {
        match change {
            Change::ExchangeRates | Change::Everything => RateBook::invalidate(self),
            Change::ApiKey { .. } | Change::Plugins { .. } | Change::Quotes { .. } => {}
        }
    }
}

fn as_contract_rate(record: StoredRate) -> Rate {
    Rate {
        base: record.from_currency,
        quote: record.to_currency,
        rate: record.rate.normalize().to_string(),
        date: record.rate_date,
    }
}
