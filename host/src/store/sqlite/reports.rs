//! SQLite: quote export stream and dashboard figures.

use futures::TryStreamExt;
use futures::stream::BoxStream;
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteConnection;
use uuid::Uuid;

use super::super::error::Result;
use super::super::quote::{PeriodStats, Quote, QuoteFilter, QuoteStats, QuoteStatus, StatsWindow};
use super::super::{receiver_stream, stats};
use super::codec::ts;
use super::quotes::select_quotes;
use super::{SqliteStore, codec};

/// Rows handed to an export stream consumer ahead of it.
const EXPORT_BUFFER: usize = 256;

impl SqliteStore {
    pub(super) async fn export_quotes_impl(
        &self,
        org: Uuid,
        filter: QuoteFilter,
    ) -> Result<BoxStream<'static, Result<Quote>>> {
        let mut conn = self.pool.acquire().await?;
        let (sender, receiver) = tokio::sync::mpsc::channel(EXPORT_BUFFER);
        tokio::spawn(async move {
            let mut qb = select_quotes(org, filter);
            qb.push(" ORDER BY created_at, id");
            let mut rows = qb.build().fetch(&mut *conn);
            loop {
                let item = match rows.try_next().await {
                    Ok(Some(row)) => codec::quote(&row),
                    Ok(None) => break,
                    Err(e) => Err(e.into()),
                };
                let failed = item.is_err();
                if sender.send(item).await.is_err() || failed {
                    break;
                }
            }
        });
        Ok(receiver_stream(receiver))
    }

    pub(super) async fn quote_stats_impl(&self, org: Uuid, w: StatsWindow) -> Result<QuoteStats> {
        let mut tx = self.pool.begin().await?;
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, count(*) FROM quotes WHERE organization_id = ?1 GROUP BY status",
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
            " FROM quotes WHERE organization_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
        ))
        .bind(org)
        .bind(i64::from(w.recent))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(codec::quote)
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

/// Figures of `[from, to)`; accepted totals are summed exactly in Rust (SQLite
/// would sum the text as floats).
async fn period(
    conn: &mut SqliteConnection,
    org: Uuid,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<PeriodStats> {
    let created: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quotes WHERE organization_id = ?1 AND created_at >= ?2 AND created_at < ?3",
    )
    .bind(org)
    .bind(ts(from))
    .bind(ts(to))
    .fetch_one(&mut *conn)
    .await?;
    let mut rows = sqlx::query_as::<_, (String, String)>(
        "SELECT currency, total FROM quotes
         WHERE organization_id = ?1 AND status = 'accepted' AND created_at >= ?2 AND created_at < ?3",
    )
    .bind(org)
    .bind(ts(from))
    .bind(ts(to))
    .fetch(&mut *conn);
    let mut sums: Vec<(String, i64, Decimal)> = Vec::new();
    while let Some((currency, total)) = rows.try_next().await? {
        let total = codec::parse_dec(&total)?;
        match sums.iter_mut().find(|(c, _, _)| *c == currency) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += total;
            }
            None => sums.push((currency, 1, total)),
        }
    }
    Ok(stats::period(
        from,
        to,
        created,
        stats::currency_totals(sums),
    ))
}
