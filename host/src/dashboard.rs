//! Dashboard figures per organization: computed from the store, cached (bounded,
//! with a TTL) and dropped when that organization's quotes change.

use crate::changes::{Change, Invalidate};
use crate::store::{QuoteStats, QuoteStore, StatsWindow, StoreError};
use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Stats and when they were computed.
#[derive(Clone)]
pub struct CachedStats {
    pub stats: Arc<QuoteStats>,
    pub computed_at: DateTime<Utc>,
}

/// Most recent quotes shown.
pub const RECENT_QUOTES: u32 = 5;

/// The range of `dashboard.chart_months`.
pub const CHART_MONTHS: std::ops::RangeInclusive<u32> = 1..=36;

pub struct DashboardCache {
    cache: moka::future::Cache<Uuid, CachedStats>,
    /// Months of the accepted series in each organization's stats.
    chart_months: u32,
}

impl DashboardCache {
    pub fn new(entries: u64, ttl: Duration, chart_months: u32) -> Self {
        Self {
            cache: moka::future::Cache::builder()
                .max_capacity(entries)
                .time_to_live(ttl)
                .build(),
            chart_months,
        }
    }

    /// The organization's stats, from the cache when fresh. The bool says whether it was a hit.
    pub async fn stats(
        &self,
        store: &dyn QuoteStore,
        organization: Uuid,
    ) -> Result<(CachedStats, bool), StoreError> {
        if let Some(cached) = self.cache.get(&organization).await {
            metrics::counter!("dashboard_cache_requests_total", "result" => "hit").increment(1);
            return Ok((cached, true));
        }
        metrics::counter!("dashboard_cache_requests_total", "result" => "miss").increment(1);
        let now = Utc::now();
        let stats = store
            .quote_stats(organization, month_window(now, self.chart_months))
            .await?;
        let cached = CachedStats {
            stats: Arc::new(stats),
            computed_at: now,
        };
        self.cache.insert(organization, cached.clone()).await;
        Ok((cached, false))
    }

    /// Drops an organization's stats: its quotes changed.
    pub async fn invalidate(&self, organization: Uuid) {
        self.cache.invalidate(&organization).await;
    }

    /// Entries held now (pending inserts and evictions applied first).
    pub async fn entry_count(&self) -> u64 {
        self.cache.run_pending_tasks().await;
        self.cache.entry_count()
    }
}

#[async_trait::async_trait]
impl Invalidate for DashboardCache {
    async fn invalidate(&self, change: &Change) {
        match change {
            Change::Quotes { organization } => {
                DashboardCache::invalidate(self, *organization).await
            }
            Change::Everything => self.cache.invalidate_all(),
            Change::ApiKey { .. } | Change::Plugins { .. } | Change::ExchangeRates => {}
        }
    }
}

/// The previous, current and next month starts (UTC) around `now`, and a series of
/// `chart_months` months ending with the current one.
pub fn month_window(now: DateTime<Utc>, chart_months: u32) -> StatsWindow {
    let first =
        NaiveDate::from_ymd_opt(now.year(), now.month(), 1).expect("the first of a month exists");
    let at_midnight =
        |date: NaiveDate| Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"));
    StatsWindow {
        prev_month_start: at_midnight(first - Months::new(1)),
        month_start: at_midnight(first),
        next_month_start: at_midnight(first + Months::new(1)),
        recent: RECENT_QUOTES,
        chart_months,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_window_spans_the_previous_and_current_month() {
        let window = month_window(Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap(), 12);
        assert_eq!(
            window.prev_month_start,
            Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            window.month_start,
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            window.next_month_start,
            Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(window.chart_months, 12);
    }
}
