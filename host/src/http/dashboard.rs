//! `GET /api/dashboard/stats`: quotes by status, accepted totals this month and last
//! month with the trend, average accepted value, accepted totals of each of the last
//! `dashboard.chart_months` months and the latest quotes. Cached per organization; the
//! response says when it was computed.

use super::error::{ApiResult, ErrorBody};
use super::extract::Auth;
use super::quotes::QuoteView;
use crate::app::AppState;
use crate::store::{CurrencyTotals, MonthTotals, QuoteStats};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_dashboard_stats))
}

#[derive(Serialize, ToSchema)]
pub struct DashboardStats {
    /// When these figures were computed (they are cached for a few minutes).
    pub computed_at: DateTime<Utc>,
    /// Whether they came from the cache.
    pub cached: bool,
    /// Every status with its count.
    pub quotes_by_status: BTreeMap<String, i64>,
    /// Accepted quotes per currency (totals are never summed across currencies).
    pub accepted: Vec<AcceptedTotals>,
    /// Accepted quotes of each of the last `dashboard.chart_months` calendar months
    /// (UTC), the current one included, oldest first; every month is present, and each
    /// lists every currency of the series (zeros included). Counted like `accepted`:
    /// status accepted, by the month the quote was created in.
    pub accepted_by_month: Vec<MonthAccepted>,
    /// The latest quotes, newest first.
    pub recent_quotes: Vec<QuoteView>,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedTotals {
    pub currency: String,
    pub this_month: PeriodTotals,
    pub last_month: PeriodTotals,
    /// Change of the accepted total from last month, in percent; absent when last month had
    /// none, or when the change is beyond the range of a decimal (about 7.9e28).
    #[schema(value_type = Option<String>)]
    pub trend_percent: Option<Decimal>,
}

#[derive(Serialize, ToSchema, Default)]
pub struct PeriodTotals {
    pub count: i64,
    #[schema(value_type = String)]
    pub total: Decimal,
    /// Average accepted quote value.
    #[schema(value_type = String)]
    pub average: Decimal,
}

#[derive(Serialize, ToSchema)]
pub struct MonthAccepted {
    /// The month, `YYYY-MM`.
    #[schema(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-03")]
    pub month: String,
    /// Per currency, ordered by currency.
    pub accepted: Vec<MonthCurrencyTotals>,
}

#[derive(Serialize, ToSchema)]
pub struct MonthCurrencyTotals {
    pub currency: String,
    /// Accepted quotes created in the month.
    pub count: i64,
    /// The exact sum of their totals.
    #[schema(value_type = String)]
    pub total: Decimal,
}

impl From<&MonthTotals> for MonthAccepted {
    fn from(month: &MonthTotals) -> Self {
        Self {
            month: month.month_start.format("%Y-%m").to_string(),
            accepted: month
                .accepted
                .iter()
                .map(|totals| MonthCurrencyTotals {
                    currency: totals.currency.clone(),
                    count: totals.accepted_count,
                    total: totals.accepted_total,
                })
                .collect(),
        }
    }
}

/// Dashboard figures of the caller's organization.
#[utoipa::path(get, path = "/api/dashboard/stats", tag = "quotes",
    responses((status = 200, body = DashboardStats), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn get_dashboard_stats(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<DashboardStats>> {
    // Fresh on the next call from any host: figures cached before every earlier change
    // was heard here are not trusted.
    if !state.cluster.caught_up().await {
        state.dashboard.invalidate(caller.organization.id).await;
    }
    let (cached, hit) = state
        .dashboard
        .stats(state.store.as_ref(), caller.organization.id)
        .await?;
    Ok(Json(view(&cached.stats, cached.computed_at, hit)))
}

fn view(stats: &QuoteStats, computed_at: DateTime<Utc>, cached: bool) -> DashboardStats {
    let period = |totals: Option<&CurrencyTotals>| {
        totals.map_or_else(PeriodTotals::default, |totals| PeriodTotals {
            count: totals.accepted_count,
            total: totals.accepted_total,
            average: totals.average_total,
        })
    };
    let mut currencies: Vec<&str> = stats
        .current_month
        .accepted
        .iter()
        .chain(&stats.previous_month.accepted)
        .map(|totals| totals.currency.as_str())
        .collect();
    currencies.sort_unstable();
    currencies.dedup();
    let find = |list: &'_ [CurrencyTotals], currency: &str| {
        list.iter()
            .find(|totals| totals.currency == currency)
            .cloned()
    };
    let accepted = currencies
        .into_iter()
        .map(|currency| {
            let this_month = period(find(&stats.current_month.accepted, currency).as_ref());
            let last_month = period(find(&stats.previous_month.accepted, currency).as_ref());
            let trend_percent = trend_percent(this_month.total, last_month.total);
            AcceptedTotals {
                currency: currency.to_string(),
                this_month,
                last_month,
                trend_percent,
            }
        })
        .collect();
    DashboardStats {
        computed_at,
        cached,
        quotes_by_status: stats
            .by_status
            .iter()
            .map(|(status, count)| (status.to_string(), *count))
            .collect(),
        accepted,
        accepted_by_month: stats
            .accepted_by_month
            .iter()
            .map(MonthAccepted::from)
            .collect(),
        recent_quotes: stats
            .recent
            .iter()
            .cloned()
            .map(QuoteView::summary)
            .collect(),
    }
}

/// `(this - last) / last` in percent, rounded to 2 places; `None` when `last` is zero or
/// the figure does not fit a decimal (a tiny last month against a huge one).
fn trend_percent(this_month: Decimal, last_month: Decimal) -> Option<Decimal> {
    let ratio = this_month
        .checked_sub(last_month)?
        .checked_div(last_month)?
        .checked_mul(Decimal::ONE_HUNDRED)?;
    Some(ratio.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trend_never_overflows() {
        assert_eq!(
            trend_percent(Decimal::from(150), Decimal::from(100)),
            Some(Decimal::from(50))
        );
        assert_eq!(trend_percent(Decimal::ONE, Decimal::ZERO), None);
        assert_eq!(trend_percent(Decimal::MAX, Decimal::new(1, 4)), None);
        assert_eq!(trend_percent(Decimal::MAX, Decimal::MIN), None);
    }
}
