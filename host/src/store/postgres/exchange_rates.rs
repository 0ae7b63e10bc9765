//! PostgreSQL: stored exchange rates (global, as the login role).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, QueryBuilder};

use super::super::clock::truncate_micros;
use super::super::error::Result;
use super::super::rows;
use super::super::sql::{self, rate_cols};
use super::super::traits::ExchangeRateStore;
use super::super::types::{NewRate, StoredRate};
use super::super::values::{Columns, values};
use super::PostgresStore;
use super::notify;
use super::query;
use crate::changes::Change;

/// Rows per multi-row insert: 8 values each, under PostgreSQL's limit of 65535 bound
/// parameters.
const ROWS_PER_INSERT: usize = 8000;

/// Per pair, the latest rate dated on or before `$1` (any date if NULL).
const LATEST_RATES: &str = concat!(
    "SELECT ",
    rate_cols!(),
    " FROM (SELECT DISTINCT ON (from_currency, to_currency) *
            FROM exchange_rates WHERE $1::date IS NULL OR rate_date <= $1
            ORDER BY from_currency, to_currency, rate_date DESC, fetched_at DESC) latest
     ORDER BY from_currency, to_currency"
);

/// One pair, the latest rate dated on or before `$3` (any date if NULL).
const RATE: &str = concat!(
    "SELECT ",
    rate_cols!(),
    " FROM exchange_rates
     WHERE from_currency = $1 AND to_currency = $2 AND ($3::date IS NULL OR rate_date <= $3)
     ORDER BY rate_date DESC, fetched_at DESC LIMIT 1"
);

#[async_trait]
impl ExchangeRateStore for PostgresStore {
    async fn store_rates(
        &self,
        source: &str,
        rate_date: NaiveDate,
        rows: &[NewRate],
        fetched_at: DateTime<Utc>,
    ) -> Result<u64> {
        let fetched_at = truncate_micros(fetched_at);
        let inserts: Vec<QueryBuilder<Postgres>> =
            sql::rate_inserts(rows, ROWS_PER_INSERT, source, rate_date, fetched_at);
        let mut tx = self.pool.begin().await?;
        let mut inserted = 0;
        for mut insert in inserts {
            inserted += insert.build().execute(&mut *tx).await?.rows_affected();
        }
        notify::announce(&mut tx, &Change::ExchangeRates).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    async fn latest_rates(&self, on_or_before: Option<NaiveDate>) -> Result<Vec<StoredRate>> {
        let found = query(LATEST_RATES, &values![on_or_before])
            .fetch_all(&self.pool)
            .await?;
        rows::all(&found, rows::stored_rate)
    }

    async fn rate(
        &self,
        from: &str,
        to: &str,
        on_or_before: Option<NaiveDate>,
    ) -> Result<Option<StoredRate>> {
        let row = query(RATE, &values![from, to, on_or_before])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::stored_rate).transpose()
    }

    async fn newest_rate_fetch(&self) -> Result<Option<DateTime<Utc>>> {
        let row = query(sql::NEWEST_RATE_FETCH, &[])
            .fetch_one(&self.pool)
            .await?;
        row.opt_time("newest")
    }
}
