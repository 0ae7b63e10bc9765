//! Exchange rates: the stored table, one pair (cross rates derived through RUB), and
//! an admin-triggered refresh that takes the same lock as the schedule.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Admin, AppPath, AppQuery, Auth};
use crate::app::AppState;
use crate::fx::book::PIVOT;
use crate::jobs::{RunOutcome, Trigger};
use crate::store::{JobOutcome, StoredRate};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_exchange_rates))
        .routes(routes!(get_exchange_rate))
}

/// The refresh route, in the upload rate class.
pub fn refresh_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(refresh_exchange_rates))
}

/// Decimal places of a derived (inverse or cross) rate.
const DERIVED_PLACES: u32 = 10;

#[derive(Serialize, ToSchema)]
pub struct RateView {
    /// 1 `from` costs `rate` `to`.
    pub from: String,
    pub to: String,
    #[schema(value_type = String, example = "93.2801")]
    pub rate: Decimal,
    /// Units the central bank quoted the rate for (the rate here is per one unit).
    pub nominal: i32,
    /// The central bank's date of the rate.
    pub rate_date: NaiveDate,
    pub source: String,
    pub fetched_at: DateTime<Utc>,
}

impl From<StoredRate> for RateView {
    fn from(rate: StoredRate) -> Self {
        Self {
            from: rate.from_currency,
            to: rate.to_currency,
            rate: rate.rate,
            nominal: rate.nominal,
            rate_date: rate.rate_date,
            source: rate.source,
            fetched_at: rate.fetched_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RateTable {
    /// The day asked for (rates are the latest on or before it); absent for "latest".
    pub date: Option<NaiveDate>,
    pub items: Vec<RateView>,
}

#[derive(Serialize, ToSchema)]
pub struct PairRate {
    pub from: String,
    pub to: String,
    /// 1 `from` costs `rate` `to` (derived rates to 10 decimal places).
    #[schema(value_type = String)]
    pub rate: Decimal,
    /// `identity`, `direct`, `inverse` or `cross` (through RUB).
    pub derivation: &'static str,
    /// The stored rates it comes from.
    pub sources: Vec<RateView>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DateQuery {
    /// YYYY-MM-DD: the latest rates on or before this day. Default: the latest.
    pub date: Option<NaiveDate>,
}

fn check_currency(code: &str) -> Result<String, ApiError> {
    let valid = code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic());
    match valid {
        true => Ok(code.to_ascii_uppercase()),
        false => Err(ApiError::bad_request(
            "invalid_currency",
            format!("'{code}' is not a currency code; use three letters like USD"),
        )),
    }
}

/// The latest stored rate of every pair, or as of `date`.
#[utoipa::path(get, path = "/api/exchange-rates", tag = "exchange-rates", params(DateQuery),
    responses((status = 200, body = RateTable), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_exchange_rates(
    State(state): State<AppState>,
    _caller: Auth,
    AppQuery(query): AppQuery<DateQuery>,
) -> ApiResult<Json<RateTable>> {
    let rates = state.store.latest_rates(query.date).await?;
    Ok(Json(RateTable {
        date: query.date,
        items: rates.into_iter().map(RateView::from).collect(),
    }))
}

/// One pair as of `date`: stored directly, inverted, or crossed through RUB.
#[utoipa::path(get, path = "/api/exchange-rates/{from}/{to}", tag = "exchange-rates",
    params(("from" = String, Path, description = "Currency code, e.g. USD", pattern = "^[A-Za-z]{3}$"),
           ("to" = String, Path, description = "Currency code, e.g. EUR", pattern = "^[A-Za-z]{3}$"), DateQuery),
    responses((status = 200, body = PairRate), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "No rate for this pair on or before the date")))]
async fn get_exchange_rate(
    State(state): State<AppState>,
    _caller: Auth,
    AppPath((from, to)): AppPath<(String, String)>,
    AppQuery(query): AppQuery<DateQuery>,
) -> ApiResult<Json<PairRate>> {
    let (from, to) = (check_currency(&from)?, check_currency(&to)?);
    let date = query.date.unwrap_or_else(|| Utc::now().date_naive());
    let book = state.pricer.exchange_rates();
    let round = |rate: Decimal| {
        rate.round_dp_with_strategy(DERIVED_PLACES, RoundingStrategy::MidpointAwayFromZero)
    };
    let pair = |rate, derivation, sources: Vec<StoredRate>| PairRate {
        from: from.clone(),
        to: to.clone(),
        rate,
        derivation,
        sources: sources.into_iter().map(RateView::from).collect(),
    };
    if from == to {
        return Ok(Json(pair(Decimal::ONE, "identity", Vec::new())));
    }
    if let Some(direct) = book.stored(&from, &to, date).await? {
        return Ok(Json(pair(direct.rate, "direct", vec![direct])));
    }
    if let Some(inverse) = book.stored(&to, &from, date).await?
        && !inverse.rate.is_zero()
    {
        return Ok(Json(pair(
            round(Decimal::ONE / inverse.rate),
            "inverse",
            vec![inverse],
        )));
    }
    let (first, second) = (
        book.stored(&from, PIVOT, date).await?,
        book.stored(&to, PIVOT, date).await?,
    );
    if let (Some(first), Some(second)) = (first, second)
        && !second.rate.is_zero()
    {
        return Ok(Json(pair(
            round(first.rate / second.rate),
            "cross",
            vec![first, second],
        )));
    }
    Err(ApiError::not_found(
        "rate_not_found",
        format!(
            "no {from}->{to} rate on or before {date}: neither the pair nor both through {PIVOT} is stored"
        ),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RefreshQuery {
    /// Fetch the central bank's table of this day instead of today's.
    pub date: Option<NaiveDate>,
}

/// Fetches the central bank's table now (admin), under the same lock as the schedule.
#[utoipa::path(post, path = "/api/exchange-rates/refresh", tag = "exchange-rates", params(RefreshQuery),
    responses((status = 200, description = "The run's outcome: success, rates stored"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "Another host is fetching right now"),
              (status = 429, body = ErrorBody),
              (status = 502, body = ErrorBody, description = "The source failed; nothing was stored")))]
async fn refresh_exchange_rates(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AppQuery(query): AppQuery<RefreshQuery>,
) -> ApiResult<Json<RunOutcome>> {
    let outcome = state
        .exchange_rate_job
        .run_detached(Trigger::Manual, query.date)
        .await;
    let metadata = serde_json::to_value(&outcome).unwrap_or_default();
    let run_id = outcome.run_id.map(|id| id.to_string());
    state.activity.caller_did(
        &caller,
        "rates.refresh",
        "exchange_rates",
        run_id,
        metadata.clone(),
    );
    match outcome.outcome {
        JobOutcome::Success => Ok(Json(outcome)),
        JobOutcome::Skipped => Err(ApiError::conflict(
            "rate_fetch_in_progress",
            "another host is fetching the rates right now; try again in a moment",
        )
        .with_details(metadata)),
        JobOutcome::Failed | JobOutcome::Running => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "rate_fetch_failed",
            format!(
                "the exchange-rate source failed and nothing was stored: {}",
                outcome.detail
            ),
        )
        .with_details(metadata)),
    }
}
