//! Re-running a stored quote: recalculate (today's rates and active plugin, keeping the
//! previous result as a revision) and verify (the stored plugin version on the stored
//! request: is the result still byte for byte the same?).

use super::error::{ApiError, ApiResult, ErrorBody, pricing_error};
use super::extract::{AppPath, Auth};
use super::quotes::{QuoteView, find_quote, pricing_record, quote_not_found};
use crate::app::AppState;
use crate::changes::Change;
use crate::contract::{CalculationInput, QuoteRequest};
use crate::quoting::diff::{Difference, differences};
use crate::quoting::{PluginRef, PricingError};
use crate::store::{QuoteStatus, StoreError};
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(recalculate_quote))
        .routes(routes!(verify_quote))
}

#[derive(Serialize, ToSchema)]
pub struct Verification {
    /// Whether the re-run reproduced the stored result exactly.
    pub identical: bool,
    pub plugin: PluginRef,
    /// Where the results differ (at most `http.max_page_size`, default 100).
    pub differences: Vec<Difference>,
    /// More differences exist than are listed.
    pub differences_truncated: bool,
    pub fuel_used: u64,
}

/// Prices a draft again with today's rates and the plugin's active version; the
/// previous result is kept as a revision.
#[utoipa::path(post, path = "/api/quotes/{id}/recalculate", tag = "quotes",
    params(("id" = Uuid, Path, description = "Quote id")),
    responses((status = 200, body = QuoteView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 408, body = ErrorBody), (status = 409, body = ErrorBody, description = "Only drafts are recalculated (`quote_not_draft`, also when the quote was sent during the calculation); another recalculation saved first (`quote_changed`)"),
              (status = 422, body = ErrorBody, description = "As for /api/quotes/calculate: an input limit (lowered since the quote was made), variables, rates or the plugin"), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn recalculate_quote(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<QuoteView>> {
    let organization = caller.organization.id;
    let quote = find_quote(&state, organization, id).await?;
    if quote.status != QuoteStatus::Draft {
        return Err(not_draft(quote.status));
    }
    let stored: QuoteRequest = serde_json::from_value(quote.request).map_err(ApiError::internal)?;
    let today = Utc::now().date_naive();
    let input = CalculationInput {
        currency: stored.currency,
        date: Some(today),
        plugin: Some(quote.plugin_name),
        variables: stored.variables,
        items: stored.items,
        rates: None,
    };
    let priced = state
        .pricer
        .price(organization, input, today)
        .await
        .map_err(|error| pricing_error(error, &caller))?;
    match state
        .store
        .save_quote_revision(organization, id, quote.revision, pricing_record(&priced)?)
        .await
    {
        Ok(quote) => {
            state.changes.apply(&Change::Quotes { organization }).await;
            let metadata = serde_json::json!({
                "revision": quote.revision, "total": quote.total,
                "plugin": format!("{}@{}", quote.plugin_name, quote.plugin_version),
            });
            let quote_id = Some(id.to_string());
            state
                .activity
                .caller_did(&caller, "quote.recalculate", "quote", quote_id, metadata);
            Ok(Json(QuoteView::priced(quote, &priced)))
        }
        Err(StoreError::Conflict(_)) => Err(recalculation_lost(&state, organization, id).await),
        Err(StoreError::NotFound) => Err(quote_not_found(id)),
        Err(error) => Err(error.into()),
    }
}

/// The 409 of a recalculation whose save was refused: the quote left `draft` meanwhile
/// (`quote_not_draft`, as if it had been sent before) or another recalculation saved
/// first (`quote_changed`).
async fn recalculation_lost(state: &AppState, organization: Uuid, id: Uuid) -> ApiError {
    match find_quote(state, organization, id).await {
        Ok(quote) if quote.status != QuoteStatus::Draft => not_draft(quote.status),
        Ok(_) => ApiError::conflict(
            "quote_changed",
            "the quote changed while it was being recalculated; read it again and retry",
        ),
        Err(error) => error,
    }
}

fn not_draft(status: QuoteStatus) -> ApiError {
    ApiError::conflict(
        "quote_not_draft",
        format!("only drafts are recalculated; this quote is {status}"),
    )
}

/// Re-runs the stored plugin version on the stored request and rates and compares.
#[utoipa::path(post, path = "/api/quotes/{id}/verify", tag = "quotes",
    params(("id" = Uuid, Path, description = "Quote id")),
    responses((status = 200, body = Verification), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 408, body = ErrorBody), (status = 409, body = ErrorBody, description = "The plugin version was deleted"),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn verify_quote(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<Verification>> {
    let organization = caller.organization.id;
    let quote = find_quote(&state, organization, id).await?;
    let reference = format!("{}@{}", quote.plugin_name, quote.plugin_version);
    let version = match state
        .pricer
        .resolve_plugin(organization, Some(&reference))
        .await
    {
        Ok(version) if version.sha256 == quote.plugin_sha256 => version,
        Ok(_) | Err(PricingError::PluginNotFound(_)) => {
            return Err(ApiError::conflict(
                "plugin_version_unavailable",
                format!(
                    "plugin {reference}, which priced this quote, has been deleted; it cannot be re-run"
                ),
            ));
        }
        Err(error) => return Err(pricing_error(error, &caller)),
    };
    let request: QuoteRequest =
        serde_json::from_value(quote.request).map_err(ApiError::internal)?;
    let priced = state
        .pricer
        .run(organization, &version, request)
        .await
        .map_err(|error| pricing_error(error, &caller))?;
    let recomputed = serde_json::to_value(&priced.result).map_err(ApiError::internal)?;
    let (differences, differences_truncated) = differences(
        &quote.result,
        &recomputed,
        state.config.http.max_page_size as usize,
    );
    let metadata =
        serde_json::json!({"identical": differences.is_empty(), "plugin": priced.plugin});
    state.activity.caller_did(
        &caller,
        "quote.verify",
        "quote",
        Some(id.to_string()),
        metadata,
    );
    Ok(Json(Verification {
        identical: differences.is_empty() && !differences_truncated,
        plugin: priced.plugin,
        differences,
        differences_truncated,
        fuel_used: priced.report.fuel_used,
    }))
}
