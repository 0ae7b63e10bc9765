//! Replay: re-prices the organization's most recent stored quotes (each with its stored
//! request and rate snapshot) with a plugin version, active or not, or with an unsaved
//! candidate, and reports what would change. Runs under the sandbox limits and the
//! organization's calculation slots, counts as one calculate request per quote, and
//! stores nothing.

use super::error::{ApiError, ApiResult, ErrorBody, pricing_error};
use super::extract::{Admin, AppJson, AppPath, AppQuery};
use super::plugins::{read_upload, rejected_upload};
use super::quotes::status_filter;
use super::throttle::CostCharge;
use crate::app::AppState;
use crate::auth::Caller;
use crate::contract::QuoteRequest;
use crate::quoting::replay::{ReplayLimits, ReplayReport, StoredOutcome, Tally};
use crate::quoting::{Candidate, PluginRef};
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::{Json, http::StatusCode};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The replay of a stored version (in the calculate class, which counts the request
/// itself; the handler charges the other quotes).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(replay_plugin_version))
}

/// The replay of an unsaved candidate: an upload (its body limit and upload class); the
/// handler charges every quote to the calculate class.
pub fn candidate_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(replay_candidate))
}

/// Which stored quotes to replay.
#[derive(Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// How many of the most recent quotes (default 100, at most
    /// `calculations.replay_max_quotes`, default 1000).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    #[param(minimum = 1, maximum = 1000)]
    pub last: Option<u32>,
    /// Only quotes in this status (draft, sent, accepted, rejected, expired, cancelled).
    #[serde(default)]
    pub status: Option<String>,
}

/// Quotes a replay takes when `last` is absent.
const DEFAULT_LAST: u32 = 100;

/// Re-prices the organization's most recent stored quotes with this version (active or
/// not) and reports identical, changed and failed quotes, the sums of old and new
/// totals and the largest deltas. Stores nothing. Counts as one calculate request per
/// quote replayed.
#[utoipa::path(post, path = "/api/plugins/{name}/versions/{version}/replay", tag = "plugins",
    request_body = ReplayRequest,
    params(("name" = String, Path, description = "Plugin name"), ("version" = i32, Path, description = "Version number")),
    responses((status = 200, body = ReplayReport), (status = 400, body = ErrorBody, description = "`last` out of range (`invalid_replay_size`) or an unknown status (`invalid_status`)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "No such plugin or version"),
              (status = 422, body = ErrorBody, description = "The version cannot be loaded"),
              (status = 429, body = ErrorBody, description = "More quotes than calculate requests remain this minute")))]
async fn replay_plugin_version(
    State(state): State<AppState>,
    Admin(caller): Admin,
    charge: Option<Extension<CostCharge>>,
    AppPath((name, version)): AppPath<(String, i32)>,
    AppJson(request): AppJson<ReplayRequest>,
) -> ApiResult<Json<ReplayReport>> {
    let organization = caller.organization.id;
    let reference = format!("{name}@{version}");
    let version = state
        .pricer
        .resolve_plugin(organization, Some(&reference))
        .await
        .map_err(|error| pricing_error(error, &caller))?;
    let candidate = state
        .pricer
        .candidate(&version)
        .await
        .map_err(|error| pricing_error(error, &caller))?;
    // The route's throttle layer counted this request as one calculation.
    let report = replay(&state, &caller, &candidate, &request, charge, 1).await?;
    Ok(Json(report))
}

/// Re-prices the most recent stored quotes with an unsaved candidate of this plugin,
/// sent as the raw body (`Content-Type: application/wasm`), as the versioned replay
/// does: validated and compiled as an upload is, but not stored. What
/// `quote-host plugin replay FILE` calls.
#[utoipa::path(post, path = "/api/plugins/{name}/replay", tag = "plugins", params(ReplayRequest,
        ("name" = String, Path, description = "Plugin name the candidate is for")),
    request_body(content(("application/wasm"), ("application/octet-stream")), description = "The candidate component, at most 5 MiB"),
    responses((status = 200, body = ReplayReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "Not a component, wrong world, describe failed, or compiling took too long"),
              (status = 429, body = ErrorBody), (status = 503, body = ErrorBody, description = "Every compile slot is busy (compile_busy), or no calculation slot was free to run describe (calculation_capacity)")))]
async fn replay_candidate(
    State(state): State<AppState>,
    Admin(caller): Admin,
    charge: Option<Extension<CostCharge>>,
    AppPath(name): AppPath<String>,
    AppQuery(request): AppQuery<ReplayRequest>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ReplayReport>> {
    crate::contract::check_plugin_name(&name)
        .map_err(|message| ApiError::bad_request("invalid_plugin_name", message))?;
    replay_size(&state, &request)?;
    let bytes = read_upload(&headers, body, state.config.http.max_upload_bytes).await?;
    let (plugin, info) = state
        .pricer
        .inspect(caller.organization.id, bytes)
        .await
        .map_err(|error| rejected_upload(error, &caller))?;
    let candidate = Candidate {
        reference: PluginRef {
            name,
            // An unsaved candidate has no version number yet.
            version: 0,
            sha256: plugin.sha256.clone(),
        },
        plugin,
        info,
    };
    let report = replay(&state, &caller, &candidate, &request, charge, 0).await?;
    Ok(Json(report))
}

/// `last`, checked against the configured maximum.
fn replay_size(state: &AppState, request: &ReplayRequest) -> Result<u32, ApiError> {
    let max = state.config.calculations.replay_max_quotes.max(1);
    match request.last.unwrap_or(DEFAULT_LAST.min(max)) {
        last @ 1.. if last <= max => Ok(last),
        last => Err(ApiError::bad_request(
            "invalid_replay_size",
            format!(
                "last must be between 1 and {max} (calculations.replay_max_quotes); got {last}"
            ),
        )
        .with_details(serde_json::json!({"field": "last", "limit": max}))),
    }
}

/// Replays `candidate` over the quotes `request` selects, after charging them (less
/// `already_charged`) to the caller's calculate requests.
async fn replay(
    state: &AppState,
    caller: &Arc<Caller>,
    candidate: &Candidate,
    request: &ReplayRequest,
    charge: Option<Extension<CostCharge>>,
    already_charged: u32,
) -> ApiResult<ReplayReport> {
    let last = replay_size(state, request)?;
    let filter = status_filter(request.status.as_deref())?;
    let organization = caller.organization.id;
    let quotes = state
        .store
        .recent_quotes(organization, filter, last)
        .await?;
    let cost = u32::try_from(quotes.len()).unwrap_or(u32::MAX);
    if let Some(Extension(charge)) = charge {
        charge.charge(caller.key.id, cost.saturating_sub(already_charged))?;
    }
    let calculations = &state.config.calculations;
    let limits = ReplayLimits {
        differences_per_quote: calculations.replay_differences_per_quote as usize,
        largest_deltas: calculations.replay_largest_deltas as usize,
    };
    let mut tally = Tally::new(candidate.reference.clone(), limits);
    for quote in &quotes {
        let Ok(stored) = serde_json::from_value::<QuoteRequest>(quote.request.clone()) else {
            let message = "the stored request cannot be read as a request";
            tally.failed(&quote.number, "stored_request_unreadable", message);
            continue;
        };
        let outcome = StoredOutcome {
            number: &quote.number,
            currency: &quote.currency,
            total: quote.total,
            result: &quote.result,
        };
        match state.pricer.replay(organization, candidate, stored).await {
            Ok(priced) => {
                let result = serde_json::to_value(&priced.result).map_err(ApiError::internal)?;
                tally.priced(&outcome, &result);
            }
            Err(error) => {
                let error = pricing_error(error, caller);
                if error.status == StatusCode::INTERNAL_SERVER_ERROR {
                    return Err(error);
                }
                tally.failed(&quote.number, error.code, &error.message);
            }
        }
    }
    let report = tally.finish();
    let metadata = serde_json::json!({
        "plugin": report.plugin, "replayed": report.replayed, "identical": report.identical,
        "changed": report.changed, "failed": report.failed,
    });
    let name = Some(candidate.reference.name.clone());
    state
        .activity
        .caller_did(caller, "plugin.replay", "plugin", name, metadata);
    Ok(report)
}
