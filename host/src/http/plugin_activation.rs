//! Activation: which version prices new quotes, now (activating an older one is a
//! rollback) or from a set instant (`effective_at`), and cancelling a scheduled one.
//! The active version is resolved by time in the store, so every host switches at that
//! instant with no job.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Admin, AppJson, AppPath};
use super::plugins::{PluginVersionView, plugin_not_found};
use crate::app::AppState;
use crate::changes::Change;
use crate::store::{PluginVersion, StoreError};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(activate_plugin))
        .routes(routes!(cancel_plugin_activation))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    /// The version to activate; an older one is a rollback.
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 1)]
    pub version: i32,
    /// When the version becomes active (RFC 3339, in the future, at most ten years
    /// ahead); until then the current version keeps pricing. Absent: now. Replaces a
    /// pending activation.
    #[serde(default)]
    pub effective_at: Option<DateTime<Utc>>,
}

/// An activation: the version and when it prices new quotes.
#[derive(Serialize, ToSchema)]
pub struct ActivationView {
    #[serde(flatten)]
    pub version: PluginVersionView,
    /// When the version prices new quotes: now, or the scheduled instant.
    pub effective_at: DateTime<Utc>,
    /// The activation is scheduled and not in effect yet (cancel it with
    /// `DELETE /api/plugins/{name}/activation`).
    pub scheduled: bool,
}

/// A cancelled scheduled activation.
#[derive(Serialize, ToSchema)]
pub struct CancelledActivation {
    pub name: String,
    /// The version that would have become active.
    pub version: i32,
    /// When it would have.
    pub effective_at: DateTime<Utc>,
}

/// How far ahead an activation may be scheduled: ten years (of 365 days).
const MAX_SCHEDULE_AHEAD_DAYS: i64 = 3_650;

/// A version as JSON Schema's `integer` allows it: `2`, or `2.0`.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    use serde::de::Error;
    let number = serde_json::Number::deserialize(deserializer)?;
    let whole = match number.as_i64() {
        Some(whole) => Some(whole),
        None => number
            .as_f64()
            .filter(|value| value.fract() == 0.0 && value.abs() < 1e10)
            .map(|value| value as i64),
    };
    whole
        .and_then(|whole| i32::try_from(whole).ok())
        .ok_or_else(|| D::Error::custom(format!("version must be a whole number, got {number}")))
}

/// Makes a version the one that prices new quotes, now or at `effective_at`; activating
/// an older one is a rollback. Quotes keep the version that priced them.
#[utoipa::path(post, path = "/api/plugins/{name}/activate", tag = "plugins", request_body = ActivateRequest,
    params(("name" = String, Path, description = "Plugin name")),
    responses((status = 200, body = ActivationView, description = "Active now, or scheduled (`scheduled: true`)"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "No such plugin or version (`plugin_version_not_found`)"),
              (status = 422, body = ErrorBody, description = "`effective_at` is not in the future (`effective_at_not_in_future`) or more than ten years ahead (`effective_at_too_far`)")))]
async fn activate_plugin(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AppPath(name): AppPath<String>,
    AppJson(request): AppJson<ActivateRequest>,
) -> ApiResult<Json<ActivationView>> {
    let organization = caller.organization.id;
    let now = Utc::now();
    let activated = match request.effective_at {
        Some(at) if at <= now => {
            return Err(ApiError::unprocessable(
                "effective_at_not_in_future",
                format!(
                    "effective_at {} is not in the future (server time {}); omit it to activate now",
                    at.to_rfc3339(),
                    now.to_rfc3339()
                ),
            ));
        }
        Some(at) if at > now + chrono::Duration::days(MAX_SCHEDULE_AHEAD_DAYS) => {
            return Err(ApiError::unprocessable(
                "effective_at_too_far",
                format!(
                    "effective_at {} is more than {MAX_SCHEDULE_AHEAD_DAYS} days ahead",
                    at.to_rfc3339()
                ),
            ));
        }
        Some(at) => {
            state
                .store
                .schedule_plugin_activation(organization, &name, request.version, at)
                .await
        }
        None => {
            state
                .store
                .activate_plugin_version(organization, &name, request.version)
                .await
        }
    };
    let version = activated.map_err(|error| match error {
        StoreError::NotFound => ApiError::not_found(
            "plugin_version_not_found",
            format!(
                "plugin '{name}' has no version {} in your organization",
                request.version
            ),
        ),
        other => other.into(),
    })?;
    state.changes.apply(&Change::Plugins { organization }).await;
    warm_up(&state, &version);
    let effective_at = request.effective_at.unwrap_or(now);
    let scheduled = request.effective_at.is_some();
    let action = match scheduled {
        true => "plugin.schedule_activation",
        false => "plugin.activate",
    };
    let metadata = serde_json::json!({
        "version": version.version, "sha256": version.sha256, "effective_at": effective_at,
    });
    state
        .activity
        .caller_did(&caller, action, "plugin", Some(name), metadata);
    Ok(Json(ActivationView {
        version: PluginVersionView::try_from(&version)?,
        effective_at,
        scheduled,
    }))
}

/// Cancels the plugin's scheduled activation; the current version keeps pricing.
#[utoipa::path(delete, path = "/api/plugins/{name}/activation", tag = "plugins",
    params(("name" = String, Path, description = "Plugin name")),
    responses((status = 200, body = CancelledActivation), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "No such plugin (`plugin_not_found`) or nothing scheduled (`no_scheduled_activation`, also once the scheduled instant has passed)")))]
async fn cancel_plugin_activation(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AppPath(name): AppPath<String>,
) -> ApiResult<Json<CancelledActivation>> {
    let organization = caller.organization.id;
    let cancelled = match state
        .store
        .cancel_plugin_activation(organization, &name)
        .await
    {
        Ok(cancelled) => cancelled,
        Err(StoreError::NotFound) => {
            return Err(match state.store.plugin(organization, &name).await? {
                None => plugin_not_found(&name),
                Some(_) => ApiError::not_found(
                    "no_scheduled_activation",
                    format!("plugin '{name}' has no scheduled activation to cancel"),
                ),
            });
        }
        Err(other) => return Err(other.into()),
    };
    state.changes.apply(&Change::Plugins { organization }).await;
    let metadata = serde_json::json!({
        "version": cancelled.version, "effective_at": cancelled.effective_at,
    });
    state.activity.caller_did(
        &caller,
        "plugin.cancel_activation",
        "plugin",
        Some(name.clone()),
        metadata,
    );
    Ok(Json(CancelledActivation {
        name,
        version: cancelled.version,
        effective_at: cancelled.effective_at,
    }))
}

/// Compiles the newly activated version in the background, so the first quote it
/// prices does not wait.
fn warm_up(state: &AppState, version: &PluginVersion) {
    let (state, version) = (state.clone(), version.clone());
    tokio::spawn(async move {
        if let Err(error) = state.pricer.load_plugin(&version).await {
            tracing::warn!(%error, "warming up the activated plugin failed");
        }
    });
}
