//! `POST /api/quotes/calculate`: price without storing.

use super::error::{ApiResult, ErrorBody, pricing_error};
use super::extract::{AppJson, Auth};
use crate::app::AppState;
use crate::contract::{CalculationInput, QuoteResult, Rate};
use crate::quoting::{PluginRef, Priced};
use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(calculate_quote))
}

/// A priced quote and what produced it.
#[derive(Serialize, ToSchema)]
pub struct Calculation {
    pub result: QuoteResult,
    pub plugin: PluginRef,
    /// The quote date the rates were taken for.
    pub date: NaiveDate,
    /// The stored exchange rates the plugin received.
    pub rates: Vec<Rate>,
    pub fuel_used: u64,
    /// Instantiation plus the call, in ms.
    pub duration_ms: f64,
    /// Time waited before the calculation started running (a slot, then an executor
    /// thread), in ms.
    pub queue_ms: f64,
    /// From the start of running to the end, preemptions included, in ms: what the
    /// wall-clock limit counts.
    pub run_ms: f64,
}

impl From<Priced> for Calculation {
    fn from(priced: Priced) -> Self {
        Self {
            result: priced.result,
            plugin: priced.plugin,
            date: priced.request.date,
            rates: priced.request.rates,
            fuel_used: priced.report.fuel_used,
            duration_ms: priced.report.duration.as_secs_f64() * 1000.0,
            queue_ms: priced.timing.queue.as_secs_f64() * 1000.0,
            run_ms: priced.timing.run.as_secs_f64() * 1000.0,
        }
    }
}

/// Prices a quote with the organization's active plugin (or `plugin`), using stored
/// exchange rates for the quote date. Nothing is stored.
#[utoipa::path(post, path = "/api/quotes/calculate", tag = "quotes", request_body = CalculationInput,
    responses((status = 200, body = Calculation),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 408, body = ErrorBody, description = "calculation_timeout"),
              (status = 422, body = ErrorBody, description = "An input limit (too_many_items, too_many_variables, too_many_attributes, field_too_long, invalid_currency; details.field names the field), variables, rates, or the plugin failed: fuel_exhausted, memory_limit, plugin_trap, plugin_error, invalid_plugin_output"),
              (status = 429, body = ErrorBody), (status = 503, body = ErrorBody, description = "calculation_capacity")))]
async fn calculate_quote(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppJson(input): AppJson<CalculationInput>,
) -> ApiResult<Json<Calculation>> {
    let today = chrono::Utc::now().date_naive();
    let priced = state
        .pricer
        .price(caller.organization.id, input, today)
        .await;
    let metadata = match &priced {
        Ok(priced) => json!({
            "outcome": "success", "plugin": priced.plugin, "fuel_used": priced.report.fuel_used,
            "items": priced.request.items.len(), "total": priced.result.total,
        }),
        Err(error) => json!({"outcome": "failed", "error": error.to_string()}),
    };
    state
        .activity
        .caller_did(&caller, "quote.calculate", "quote", None, metadata);
    Ok(Json(
        priced
            .map_err(|error| pricing_error(error, &caller))?
            .into(),
    ))
}
