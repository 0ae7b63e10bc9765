//! Stored quotes: create (price and store as a draft), list, read, update the title
//! or status, delete.

use super::error::{ApiError, ApiResult, ErrorBody, pricing_error};
use super::extract::{AppJson, AppPath, AppQuery, Auth, page_cursor, page_limit};
use crate::app::AppState;
use crate::changes::Change;
use crate::contract::{CalculationInput, LineItem};
use crate::quoting::{PluginRef, Priced};
use crate::store::{
    NewQuote, Pricing, Quote, QuoteFilter, QuoteStatus, QuoteUpdate, StatusChange, StoreError,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Routes that run a plugin (the calculate rate class).
pub fn pricing_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_quote))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_quotes))
        .routes(routes!(get_quote, update_quote, delete_quote))
}

/// Longest quote title.
const MAX_TITLE_CHARS: usize = 200;

/// A quote as the API shows it. Lists leave out `request`, `result` and `rates`.
#[derive(Serialize, ToSchema)]
pub struct QuoteView {
    pub id: Uuid,
    /// Human number, per organization and year: `Q-2026-000123`.
    pub number: String,
    pub title: Option<String>,
    #[schema(value_type = String, example = "draft")]
    pub status: QuoteStatus,
    pub currency: String,
    #[schema(value_type = String, example = "1234.50")]
    pub subtotal: Decimal,
    #[schema(value_type = String)]
    pub tax: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub plugin: PluginRef,
    /// 1 when created, +1 per recalculation.
    pub revision: i32,
    pub fuel_used: i64,
    pub priced_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The complete request the plugin received (rates included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<serde_json::Value>,
    /// The plugin's result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// The exchange rates used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rates: Option<serde_json::Value>,
    /// In the answer to a pricing (create, recalculate) only: time waited before the
    /// calculation started running, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_ms: Option<f64>,
    /// In the answer to a pricing only: the calculation's run time, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_ms: Option<f64>,
}

impl QuoteView {
    pub fn summary(quote: Quote) -> Self {
        Self {
            request: None,
            result: None,
            rates: None,
            ..Self::full(quote)
        }
    }

    pub fn full(quote: Quote) -> Self {
        Self {
            id: quote.id,
            number: quote.number,
            title: quote.title,
            status: quote.status,
            currency: quote.currency,
            subtotal: quote.subtotal,
            tax: quote.tax,
            total: quote.total,
            plugin: PluginRef {
                name: quote.plugin_name,
                version: quote.plugin_version,
                sha256: quote.plugin_sha256,
            },
            revision: quote.revision,
            fuel_used: quote.fuel_used,
            priced_at: quote.priced_at,
            created_at: quote.created_at,
            updated_at: quote.updated_at,
            request: Some(quote.request),
            result: Some(quote.result),
            rates: Some(quote.rates),
            queue_ms: None,
            run_ms: None,
        }
    }

    /// The full view with the pricing's queue and run times.
    pub fn priced(quote: Quote, priced: &Priced) -> Self {
        Self {
            queue_ms: Some(priced.timing.queue.as_secs_f64() * 1000.0),
            run_ms: Some(priced.timing.run.as_secs_f64() * 1000.0),
            ..Self::full(quote)
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct QuotePage {
    pub items: Vec<QuoteView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A calculation to price and store, with an optional title.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuoteBody {
    #[schema(max_length = 200, pattern = "^[^\\u0000]*$")]
    pub title: Option<String>,
    pub currency: String,
    pub date: Option<NaiveDate>,
    pub plugin: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    pub items: Vec<LineItem>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotePatch {
    /// A new title; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = "^[^\\u0000]*$")]
    pub title: Option<Option<String>>,
    /// The next status: draft -> sent -> accepted | rejected | expired; draft or sent -> cancelled.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = String, example = "sent", pattern = "^(draft|sent|accepted|rejected|expired|cancelled)$")]
    pub status: Option<QuoteStatus>,
}

/// A field that may be absent but, when present, is not `null`.
fn given<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    match Option::<T>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(serde::de::Error::custom(
            "must not be null; leave the field out instead",
        )),
    }
}

/// Distinguishes a field set to `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only quotes in this status.
    #[param(pattern = "^(draft|sent|accepted|rejected|expired|cancelled)$")]
    pub status: Option<String>,
    /// 1 to 100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// The filter of a listing or an export.
pub fn status_filter(status: Option<&str>) -> Result<QuoteFilter, ApiError> {
    let status = status
        .map(|text| {
            QuoteStatus::from_str(text).map_err(|_| {
                ApiError::bad_request(
                    "invalid_status",
                    format!("status '{text}' is not one of draft, sent, accepted, rejected, expired, cancelled"),
                )
            })
        })
        .transpose()?;
    Ok(QuoteFilter { status })
}

/// One quote of the organization, or 404 `quote_not_found`.
pub async fn find_quote(state: &AppState, organization: Uuid, id: Uuid) -> ApiResult<Quote> {
    let quote = state.store.quote(organization, id).await?;
    quote.ok_or_else(|| quote_not_found(id))
}

pub fn quote_not_found(id: Uuid) -> ApiError {
    ApiError::not_found(
        "quote_not_found",
        format!("no quote {id} in your organization"),
    )
}

/// What the store keeps of a priced request.
pub fn pricing_record(priced: &Priced) -> Result<Pricing, ApiError> {
    let money = |text: &str| Decimal::from_str(text).map_err(ApiError::internal);
    Ok(Pricing {
        currency: priced.result.currency.clone(),
        subtotal: money(&priced.result.subtotal)?,
        tax: money(&priced.result.tax)?,
        total: money(&priced.result.total)?,
        request: serde_json::to_value(&priced.request).map_err(ApiError::internal)?,
        result: serde_json::to_value(&priced.result).map_err(ApiError::internal)?,
        plugin_name: priced.plugin.name.clone(),
        plugin_version: priced.plugin.version,
        plugin_sha256: priced.plugin.sha256.clone(),
        rates: serde_json::to_value(&priced.request.rates).map_err(ApiError::internal)?,
        fuel_used: i64::try_from(priced.report.fuel_used).unwrap_or(i64::MAX),
    })
}

fn check_title(title: Option<&str>) -> Result<(), ApiError> {
    match title {
        // PostgreSQL text cannot hold U+0000.
        Some(title) if title.chars().count() > MAX_TITLE_CHARS || title.contains('\0') => {
            Err(ApiError::bad_request(
                "invalid_title",
                format!("title must be at most {MAX_TITLE_CHARS} characters, none of them U+0000"),
            ))
        }
        _ => Ok(()),
    }
}

/// Prices a calculation and stores it as a draft quote with a new number.
#[utoipa::path(post, path = "/api/quotes", tag = "quotes", request_body = NewQuoteBody,
    responses((status = 201, body = QuoteView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 408, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "As for /api/quotes/calculate: an input limit, variables, rates or the plugin"),
              (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn create_quote(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppJson(body): AppJson<NewQuoteBody>,
) -> ApiResult<(StatusCode, Json<QuoteView>)> {
    check_title(body.title.as_deref())?;
    let input = CalculationInput {
        currency: body.currency,
        date: body.date,
        plugin: body.plugin,
        variables: body.variables,
        items: body.items,
        rates: None,
    };
    let organization = caller.organization.id;
    let priced = state
        .pricer
        .price(organization, input, Utc::now().date_naive())
        .await
        .map_err(|error| pricing_error(error, &caller))?;
    let new_quote = NewQuote {
        organization_id: organization,
        title: body.title,
        pricing: pricing_record(&priced)?,
    };
    let quote = state.store.create_quote(new_quote).await?;
    state.changes.apply(&Change::Quotes { organization }).await;
    let metadata = serde_json::json!({
        "number": quote.number, "total": quote.total, "currency": quote.currency,
        "plugin": format!("{}@{}", quote.plugin_name, quote.plugin_version),
    });
    let quote_id = Some(quote.id.to_string());
    state
        .activity
        .caller_did(&caller, "quote.create", "quote", quote_id, metadata);
    Ok((StatusCode::CREATED, Json(QuoteView::priced(quote, &priced))))
}

/// Lists quotes, newest first, a page at a time.
#[utoipa::path(get, path = "/api/quotes", tag = "quotes", params(ListQuery),
    responses((status = 200, body = QuotePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_quotes(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppQuery(query): AppQuery<ListQuery>,
) -> ApiResult<Json<QuotePage>> {
    let filter = status_filter(query.status.as_deref())?;
    let limit = page_limit(query.limit.as_deref(), &state)?;
    let cursor = page_cursor(query.cursor.as_deref())?;
    let page = state
        .store
        .list_quotes(caller.organization.id, filter, limit, cursor)
        .await?;
    Ok(Json(QuotePage {
        items: page.items.into_iter().map(QuoteView::summary).collect(),
        next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
    }))
}

/// One quote with its request, result and rates.
#[utoipa::path(get, path = "/api/quotes/{id}", tag = "quotes", params(("id" = Uuid, Path, description = "Quote id")),
    responses((status = 200, body = QuoteView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_quote(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<QuoteView>> {
    let quote = find_quote(&state, caller.organization.id, id).await?;
    Ok(Json(QuoteView::full(quote)))
}

/// Changes the title and/or moves the quote to its next status.
#[utoipa::path(patch, path = "/api/quotes/{id}", tag = "quotes", request_body = QuotePatch,
    params(("id" = Uuid, Path, description = "Quote id")),
    responses((status = 200, body = QuoteView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "illegal_transition")))]
async fn update_quote(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(patch): AppJson<QuotePatch>,
) -> ApiResult<Json<QuoteView>> {
    if patch.title.is_none() && patch.status.is_none() {
        return Err(ApiError::bad_request(
            "empty_update",
            "send a title, a status or both",
        ));
    }
    check_title(patch.title.as_ref().and_then(|title| title.as_deref()))?;
    let organization = caller.organization.id;
    let current = find_quote(&state, organization, id).await?;
    let status = match patch.status {
        Some(to) if !current.status.can_become(to) => {
            return Err(ApiError::conflict(
                "illegal_transition",
                format!("a {} quote cannot become {to}", current.status),
            ));
        }
        Some(to) => Some(StatusChange {
            from: current.status,
            to,
        }),
        None => None,
    };
    let metadata = serde_json::json!({
        "status": status.map(|change| serde_json::json!({"from": change.from, "to": change.to})),
        "title_changed": patch.title.is_some(),
    });
    let update = QuoteUpdate {
        title: patch.title,
        status,
    };
    match state.store.update_quote(organization, id, update).await {
        Ok(quote) => {
            state.changes.apply(&Change::Quotes { organization }).await;
            let quote_id = Some(id.to_string());
            state
                .activity
                .caller_did(&caller, "quote.update", "quote", quote_id, metadata);
            Ok(Json(QuoteView::full(quote)))
        }
        Err(StoreError::NotFound) => Err(quote_not_found(id)),
        Err(StoreError::Conflict(_)) => Err(ApiError::conflict(
            "status_changed",
            "the quote's status changed meanwhile; read it again and retry",
        )),
        Err(error) => Err(error.into()),
    }
}

/// Deletes a quote and its revisions.
#[utoipa::path(delete, path = "/api/quotes/{id}", tag = "quotes", params(("id" = Uuid, Path, description = "Quote id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_quote(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    match state.store.delete_quote(caller.organization.id, id).await {
        Ok(()) => {
            let organization = caller.organization.id;
            state.changes.apply(&Change::Quotes { organization }).await;
            let quote_id = Some(id.to_string());
            state.activity.caller_did(
                &caller,
                "quote.delete",
                "quote",
                quote_id,
                serde_json::json!({}),
            );
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(quote_not_found(id)),
        Err(error) => Err(error.into()),
    }
}
