//! SQLite: quotes, revisions, the export stream and dashboard figures.

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Utc};
use futures::TryStreamExt;
use futures::stream::BoxStream;
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use super::super::clock::now;
use super::super::cursor::{Page, PageCursor, clamp_limit, make_page};
use super::super::error::{Result, StoreError};
use super::super::quote::{
    MonthTotals, NewQuote, PeriodStats, Pricing, Quote, QuoteFilter, QuoteRevision, QuoteStats,
    QuoteStatus, QuoteUpdate, StatsWindow, StatusChange, recalculation_refused,
};
use super::super::stats::{self, CurrencySums, MonthSeries, MonthlySums, accepted_between};
use super::super::traits::QuoteStore;
use super::super::values::{Columns, SqlText, values};
use super::super::{export, rows, sql};
use super::SqliteStore;
use super::query;

/// Accepted quotes of `[$2, $3)`, one row each: SQLite would sum the decimal text as
/// floats, so [`CurrencySums`] adds them exactly.
const ACCEPTED_BETWEEN: &str = concat!("SELECT currency, 1 AS n, total", accepted_between!());

/// The same rows with their month (`YYYY-MM` of the stored UTC text), for
/// [`MonthlySums`]: not grouped here, for the same reason.
const ACCEPTED_BY_MONTH: &str = concat!(
    "SELECT substr(created_at, 1, 7) AS month, currency, 1 AS n, total",
    accepted_between!()
);

#[async_trait]
impl QuoteStore for SqliteStore {
    async fn create_quote(&self, new: NewQuote) -> Result<Quote> {
        let at = now();
        let mut tx = self.write_tx().await?;
        let seq = query(
            sql::NEXT_QUOTE_NUMBER,
            &values![new.organization_id, at.year()],
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::missing_parent)?
        .big("last")?;
        let quote = Quote::draft(new, seq, at);
        query(sql::INSERT_QUOTE, &sql::quote_values(&quote))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(quote)
    }

    async fn quote(&self, org: Uuid, id: Uuid) -> Result<Option<Quote>> {
        let row = query(sql::QUOTE, &values![org, id])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::quote).transpose()
    }

    async fn list_quotes(
        &self,
        org: Uuid,
        filter: QuoteFilter,
        limit: u32,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Quote>> {
        let limit = clamp_limit(limit);
        let mut page = QueryBuilder::<Sqlite>::start();
        sql::quote_page(&mut page, org, filter, limit, cursor);
        let found = page.build().fetch_all(&self.pool).await?;
        let quotes = rows::all(&found, rows::quote)?;
        Ok(make_page(quotes, limit, |q| {
            PageCursor::new(q.created_at, q.id)
        }))
    }

    async fn recent_quotes(
        &self,
        org: Uuid,
        filter: QuoteFilter,
        limit: u32,
    ) -> Result<Vec<Quote>> {
        let mut statement = QueryBuilder::<Sqlite>::start();
        sql::recent_quotes(&mut statement, org, filter, clamp_limit(limit));
        let found = statement.build().fetch_all(&self.pool).await?;
        rows::all(&found, rows::quote)
    }

    async fn update_quote(&self, org: Uuid, id: Uuid, update: QuoteUpdate) -> Result<Quote> {
        let mut tx = self.write_tx().await?;
        let mut statement = QueryBuilder::<Sqlite>::start();
        sql::update_quote(&mut statement, org, id, &update, now());
        let row = statement.build().fetch_optional(&mut *tx).await?;
        let Some(row) = row else {
            let current = current_state(&mut tx, org, id).await?;
            let status = current.map(|(status, _)| status);
            return Err(StatusChange::refused(status, update.status));
        };
        tx.commit().await?;
        rows::quote(&row)
    }

    async fn delete_quote(&self, org: Uuid, id: Uuid) -> Result<()> {
        let done = query(sql::DELETE_QUOTE, &values![org, id])
            .execute(&self.pool)
            .await?;
        match done.rows_affected() {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn save_quote_revision(
        &self,
        org: Uuid,
        id: Uuid,
        expected_revision: i32,
        pricing: Pricing,
    ) -> Result<Quote> {
        let at = now();
        let mut tx = self.write_tx().await?;
        let archived = query(
            sql::ARCHIVE_REVISION,
            &values![org, id, expected_revision, at],
        )
        .execute(&mut *tx)
        .await?;
        let saved = sql::pricing_values(org, id, expected_revision, &pricing, at);
        // The write lock is held since BEGIN IMMEDIATE, so nothing changes between the
        // two conditional statements; either both apply or the quote moved on.
        let row = match archived.rows_affected() {
            0 => None,
            _ => {
                query(sql::SAVE_PRICING, &saved)
                    .fetch_optional(&mut *tx)
                    .await?
            }
        };
        let Some(row) = row else {
            let current = current_state(&mut tx, org, id).await?;
            return Err(recalculation_refused(current, expected_revision));
        };
        tx.commit().await?;
        rows::quote(&row)
    }

    async fn quote_revisions(&self, org: Uuid, id: Uuid) -> Result<Vec<QuoteRevision>> {
        let mut tx = self.pool.begin().await?;
        if current_state(&mut tx, org, id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let found = query(sql::QUOTE_REVISIONS, &values![org, id])
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows::all(&found, rows::quote_revision)
    }

    fn export_quotes(
        &self,
        org: Uuid,
        filter: QuoteFilter,
        page_rows: u32,
    ) -> BoxStream<'static, Result<Quote>> {
        let pool = self.pool.clone();
        export::paged(page_rows, move |after, limit| {
            let pool = pool.clone();
            async move {
                let mut page = QueryBuilder::<Sqlite>::start();
                sql::quote_export_page(&mut page, org, filter, after, limit);
                Ok(page.build().fetch_all(&pool).await?)
            }
        })
    }

    async fn quote_stats(&self, org: Uuid, w: StatsWindow) -> Result<QuoteStats> {
        let mut tx = self.pool.begin().await?;
        let counts = query(sql::STATUS_COUNTS, &values![org])
            .fetch_all(&mut *tx)
            .await?;
        let current = period(&mut tx, org, w.month_start, w.next_month_start).await?;
        let previous = period(&mut tx, org, w.prev_month_start, w.month_start).await?;
        let by_month = accepted_by_month(&mut tx, org, &w).await?;
        let mut recent = QueryBuilder::<Sqlite>::start();
        sql::recent_summaries(&mut recent, org, w.recent);
        let recent = recent.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(QuoteStats {
            by_status: stats::status_counts(&counts)?,
            current_month: current,
            previous_month: previous,
            accepted_by_month: by_month,
            recent: rows::all(&recent, rows::quote)?,
        })
    }
}

/// Figures of `[from, to)`, the accepted totals streamed (flat memory) and summed exactly.
async fn period(
    conn: &mut SqliteConnection,
    org: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<PeriodStats> {
    let window = values![org, from, to];
    let created = query(sql::CREATED_BETWEEN, &window)
        .fetch_one(&mut *conn)
        .await?
        .big("n")?;
    let mut sums = CurrencySums::default();
    let mut accepted = query(ACCEPTED_BETWEEN, &window).fetch(&mut *conn);
    while let Some(row) = accepted.try_next().await? {
        sums.add(&row)?;
    }
    Ok(sums.period(from, to, created))
}

/// The accepted series of `w`, every month present, from one query.
async fn accepted_by_month(
    conn: &mut SqliteConnection,
    org: Uuid,
    w: &StatsWindow,
) -> Result<Vec<MonthTotals>> {
    let series = MonthSeries::of(w);
    let mut sums = MonthlySums::default();
    if let Some((from, to)) = series.bounds() {
        let mut accepted = query(ACCEPTED_BY_MONTH, &values![org, from, to]).fetch(&mut *conn);
        while let Some(row) = accepted.try_next().await? {
            sums.add(&row)?;
        }
    }
    Ok(sums.months(&series))
}

/// Current status and revision of a quote, `None` if it does not exist in `org`.
async fn current_state(
    conn: &mut SqliteConnection,
    org: Uuid,
    id: Uuid,
) -> Result<Option<(QuoteStatus, i32)>> {
    let row = query(sql::QUOTE_STATUS, &values![org, id])
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| Ok((row.parsed("status")?, row.int("revision")?)))
        .transpose()
}
