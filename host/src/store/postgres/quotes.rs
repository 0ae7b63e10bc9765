//! PostgreSQL: quotes, revisions, the export stream and dashboard figures (tenant
//! transactions).

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Utc};
use futures::stream::BoxStream;
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder};
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
use super::PostgresStore;
use super::notify;
use super::query;
use crate::changes::Change;

/// Accepted totals of `[$2, $3)` per currency, summed exactly as NUMERIC and read as
/// text (the sum may be beyond a decimal's range; [`CurrencySums`] clamps it).
const ACCEPTED_BETWEEN: &str = concat!(
    "SELECT currency, count(*) AS n, sum(total)::text AS total",
    accepted_between!(),
    " GROUP BY currency"
);

/// The same per calendar month (UTC, `YYYY-MM`) and currency, for [`MonthlySums`].
const ACCEPTED_BY_MONTH: &str = concat!(
    "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, currency,
            count(*) AS n, sum(total)::text AS total",
    accepted_between!(),
    " GROUP BY month, currency"
);

/// Locks the quote: a concurrent recalculation or status change waits here, and the
/// save then sees the status and revision it left (instead of colliding on the
/// archive's key or overwriting an accepted quote).
const LOCK_REVISION: &str =
    "SELECT status, revision FROM quotes WHERE organization_id = $1 AND id = $2 FOR UPDATE";

#[async_trait]
impl QuoteStore for PostgresStore {
    async fn create_quote(&self, new: NewQuote) -> Result<Quote> {
        let at = now();
        let mut tx = self.tenant_tx(new.organization_id).await?;
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
        notify::announce(
            &mut tx,
            &Change::Quotes {
                organization: quote.organization_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(quote)
    }

    async fn quote(&self, org: Uuid, id: Uuid) -> Result<Option<Quote>> {
        let mut tx = self.tenant_tx(org).await?;
        let row = query(sql::QUOTE, &values![org, id])
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
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
        let mut page = QueryBuilder::<Postgres>::start();
        sql::quote_page(&mut page, org, filter, limit, cursor);
        let mut tx = self.tenant_tx(org).await?;
        let found = page.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
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
        let mut statement = QueryBuilder::<Postgres>::start();
        sql::recent_quotes(&mut statement, org, filter, clamp_limit(limit));
        let mut tx = self.tenant_tx(org).await?;
        let found = statement.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows::all(&found, rows::quote)
    }

    async fn update_quote(&self, org: Uuid, id: Uuid, update: QuoteUpdate) -> Result<Quote> {
        let mut statement = QueryBuilder::<Postgres>::start();
        sql::update_quote(&mut statement, org, id, &update, now());
        let mut tx = self.tenant_tx(org).await?;
        let row = statement.build().fetch_optional(&mut *tx).await?;
        let Some(row) = row else {
            let current = current_state(&mut tx, org, id).await?;
            let status = current.map(|(status, _)| status);
            return Err(StatusChange::refused(status, update.status));
        };
        notify::announce(&mut tx, &Change::Quotes { organization: org }).await?;
        tx.commit().await?;
        rows::quote(&row)
    }

    async fn delete_quote(&self, org: Uuid, id: Uuid) -> Result<()> {
        let mut tx = self.tenant_tx(org).await?;
        let done = query(sql::DELETE_QUOTE, &values![org, id])
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        notify::announce(&mut tx, &Change::Quotes { organization: org }).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_quote_revision(
        &self,
        org: Uuid,
        id: Uuid,
        expected_revision: i32,
        pricing: Pricing,
    ) -> Result<Quote> {
        let at = now();
        let mut tx = self.tenant_tx(org).await?;
        let locked = query(LOCK_REVISION, &values![org, id])
            .fetch_optional(&mut *tx)
            .await?;
        let state = locked
            .map(|row| Ok::<_, StoreError>((row.parsed("status")?, row.int("revision")?)))
            .transpose()?;
        if state != Some((QuoteStatus::Draft, expected_revision)) {
            return Err(recalculation_refused(state, expected_revision));
        }
        // The row is locked: the conditional statements below see the state just checked.
        query(
            sql::ARCHIVE_REVISION,
            &values![org, id, expected_revision, at],
        )
        .execute(&mut *tx)
        .await?;
        let saved = sql::pricing_values(org, id, expected_revision, &pricing, at);
        let Some(row) = query(sql::SAVE_PRICING, &saved)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Err(recalculation_refused(state, expected_revision));
        };
        notify::announce(&mut tx, &Change::Quotes { organization: org }).await?;
        tx.commit().await?;
        rows::quote(&row)
    }

    async fn quote_revisions(&self, org: Uuid, id: Uuid) -> Result<Vec<QuoteRevision>> {
        let mut tx = self.tenant_tx(org).await?;
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
        let store = self.clone();
        export::paged(page_rows, move |after, limit| {
            let store = store.clone();
            async move {
                let mut page = QueryBuilder::<Postgres>::start();
                sql::quote_export_page(&mut page, org, filter, after, limit);
                let mut tx = store.tenant_tx(org).await?;
                let found = page.build().fetch_all(&mut *tx).await?;
                tx.commit().await?;
                Ok(found)
            }
        })
    }

    async fn quote_stats(&self, org: Uuid, w: StatsWindow) -> Result<QuoteStats> {
        let mut tx = self.tenant_tx(org).await?;
        let counts = query(sql::STATUS_COUNTS, &values![org])
            .fetch_all(&mut *tx)
            .await?;
        let current = period(&mut tx, org, w.month_start, w.next_month_start).await?;
        let previous = period(&mut tx, org, w.prev_month_start, w.month_start).await?;
        let by_month = accepted_by_month(&mut tx, org, &w).await?;
        let mut recent = QueryBuilder::<Postgres>::start();
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

/// Figures of `[from, to)`.
async fn period(
    conn: &mut PgConnection,
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
    for row in query(ACCEPTED_BETWEEN, &window)
        .fetch_all(&mut *conn)
        .await?
    {
        sums.add(&row)?;
    }
    Ok(sums.period(from, to, created))
}

/// The accepted series of `w`, every month present, from one query.
async fn accepted_by_month(
    conn: &mut PgConnection,
    org: Uuid,
    w: &StatsWindow,
) -> Result<Vec<MonthTotals>> {
    let series = MonthSeries::of(w);
    let mut sums = MonthlySums::default();
    if let Some((from, to)) = series.bounds() {
        for row in query(ACCEPTED_BY_MONTH, &values![org, from, to])
            .fetch_all(&mut *conn)
            .await?
        {
            sums.add(&row)?;
        }
    }
    Ok(sums.months(&series))
}

/// Current status and revision of a quote, `None` if it does not exist in `org`.
async fn current_state(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
) -> Result<Option<(QuoteStatus, i32)>> {
    let row = query(sql::QUOTE_STATUS, &values![org, id])
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| Ok((row.parsed("status")?, row.int("revision")?)))
        .transpose()
}
