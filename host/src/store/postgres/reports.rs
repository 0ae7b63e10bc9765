//! PostgreSQL: quote export stream and dashboard figures.

use futures::TryStreamExt;
use futures::stream::BoxStream;
use sqlx::postgres::PgConnection;
use uuid::Uuid;

use super::super::error::Result;
use super::super::quote::{PeriodStats, Quote, QuoteFilter, QuoteStats, QuoteStatus, StatsWindow};
use super::super::{receiver_stream, stats};
use super::quotes::select_quotes;
use super::{PostgresStore, rows};

/// Rows handed to an export stream consumer ahead of it.
const EXPORT_BUFFER: usize = 256;

impl PostgresStore {
    pub(super) async fn export_quotes_impl(
        &self,
        org: Uuid,
        filter: QuoteFilter,
    ) -> Result<BoxStream<'static, Result<Quote>>> {
        let mut tx = self.tenant_tx(org).await?;
        // The export may outlive any sane statement timeout while a slow
        // client drains it; the transaction is confined by RLS anyway.
        sqlx::query("SELECT set_config('statement_timeout', '0', true)")
            .execute(&mut *tx)
            .await?;
        let (sender, receiver) = tokio::sync::mpsc::channel(EXPORT_BUFFER);
        tokio::spawn(async move {
            let mut qb = select_quotes(org, filter);
            qb.push(" ORDER BY created_at, id");
            let mut stream = qb.build().fetch(&mut *tx);
            loop {
                let item = match stream.try_next().await {
                    Ok(Some(row)) => rows::quote(&row),
                    Ok(None) => break,
                    Err(e) => Err(e.into()),
                };
                let failed = item.is_err();
                if sender.send(item).await.is_err() || failed {
                    break;
                }
            }
            drop(stream);
            // Read-only: ending it either way is fine; an abandoned export's
            // remaining rows are drained before the connection is reused.
            let _ = tx.rollback().await;
        });
        Ok(receiver_stream(receiver))
    }

    pub(super) async fn quote_stats_impl(&self, org: Uuid, w: StatsWindow) -> Result<QuoteStats> {
        let mut tx = self.tenant_tx(org).await?;
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, count(*) FROM quotes WHERE organization_id = $1 GROUP BY status",
        )
        .bind(org)
        .fetch_all(&mut *tx)
        .await?;
        let counts = counts
            .into_iter()
            .map(|(s, n)| Ok((s.parse::<QuoteStatus>()?, n)))
            .collect::<Result<Vec<_>>>()?;
        let current = period(&mut tx, org, w.month_start, w.next_month_start).await?;
        let previous = period(&mut tx, org, w.prev_month_start, w.month_start).await?;
        let recent = sqlx::query(concat!(
            "SELECT ",
            quote_summary_cols!(),
            " FROM quotes WHERE organization_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(org)
        .bind(i64::from(w.recent))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(rows::quote)
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(QuoteStats {
            by_status: stats::status_counts(counts),
            current_month: current,
            previous_month: previous,
            recent,
        })
    }
}

/// Figures of `[from, to)`; totals are summed exactly as NUMERIC.
async fn period(
    conn: &mut PgConnection,
    org: Uuid,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<PeriodStats> {
    let created: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quotes WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3",
    )
    .bind(org)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?;
    let sums: Vec<(String, i64, rust_decimal::Decimal)> = sqlx::query_as(
        "SELECT currency, count(*), sum(total) FROM quotes
         WHERE organization_id = $1 AND status = 'accepted' AND created_at >= $2 AND created_at < $3
         GROUP BY currency",
    )
    .bind(org)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    Ok(stats::period(
        from,
        to,
        created,
        stats::currency_totals(sums),
    ))
}
