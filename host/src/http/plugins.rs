//! The plugin registry: upload (validated and compiled before anything is stored),
//! versions and their views, deletion. Activation lives in `plugin_activation.rs`.

use super::error::{ApiError, ApiResult, ErrorBody, pricing_error};
use super::extract::{Admin, AppPath, AppQuery, Auth};
use crate::app::AppState;
use crate::auth::Caller;
use crate::changes::Change;
use crate::contract::{PluginInfo, VariableSpec};
use crate::quoting::PricingError;
use crate::runtime::LoadError;
use crate::store::{NewPluginVersion, Plugin, PluginVersion, StoreError};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The upload route, on its own so it can carry the upload rate class.
pub fn upload_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload_plugin))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins))
        .routes(routes!(get_plugin))
        .routes(routes!(delete_plugin_version))
}

#[derive(Serialize, ToSchema)]
pub struct PluginView {
    pub name: String,
    /// The version that prices new quotes now, if any.
    pub active_version: Option<i32>,
    /// When it became active.
    pub activated_at: Option<DateTime<Utc>>,
    /// The version a scheduled activation makes active at `next_activation_at`, if one is
    /// pending.
    pub next_version: Option<i32>,
    /// When the next version becomes active (every host switches at this instant).
    pub next_activation_at: Option<DateTime<Utc>>,
    pub latest_version: i32,
    pub version_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Plugin> for PluginView {
    fn from(plugin: &Plugin) -> Self {
        Self {
            name: plugin.name.clone(),
            active_version: plugin.active_version,
            activated_at: plugin.activated_at,
            next_version: plugin.next_version,
            next_activation_at: plugin.next_activation_at,
            latest_version: plugin.last_version,
            version_count: plugin.version_count,
            created_at: plugin.created_at,
            updated_at: plugin.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PluginVersionView {
    pub name: String,
    pub version: i32,
    /// Hex SHA-256 of the component bytes.
    pub sha256: String,
    pub size_bytes: i64,
    /// What the plugin says about itself (`describe`).
    pub describe: PluginInfo,
    pub uploaded_at: DateTime<Utc>,
}

impl TryFrom<&PluginVersion> for PluginVersionView {
    type Error = ApiError;
    fn try_from(version: &PluginVersion) -> Result<Self, ApiError> {
        Ok(Self {
            name: version.plugin_name.clone(),
            version: version.version,
            sha256: version.sha256.clone(),
            size_bytes: version.size_bytes,
            describe: serde_json::from_value(version.describe.clone())
                .map_err(ApiError::internal)?,
            uploaded_at: version.uploaded_at,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct PluginDetailView {
    #[serde(flatten)]
    pub plugin: PluginView,
    /// The variables the active version declares (empty when none is active).
    pub variables: Vec<VariableSpec>,
    pub versions: Vec<PluginVersionView>,
}

#[derive(Serialize, ToSchema)]
pub struct PluginList {
    pub items: Vec<PluginView>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The plugin's name in your organization: lower-case letters, digits, `-` and `_`.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub name: String,
}

fn check_name(name: &str) -> Result<(), ApiError> {
    crate::contract::check_plugin_name(name)
        .map_err(|message| ApiError::bad_request("invalid_plugin_name", message))
}

pub(super) fn plugin_not_found(name: &str) -> ApiError {
    ApiError::not_found(
        "plugin_not_found",
        format!("no plugin '{name}' in your organization"),
    )
}

/// Uploads a new version of a plugin: the raw component as the body
/// (`Content-Type: application/wasm`). The same bytes again return the existing version.
#[utoipa::path(post, path = "/api/plugins", tag = "plugins", params(UploadQuery),
    request_body(content(("application/wasm"), ("application/octet-stream")), description = "The component, at most 5 MiB"),
    responses((status = 201, body = PluginVersionView, description = "A new version"),
              (status = 200, body = PluginVersionView, description = "These bytes were already uploaded"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "Not a component, wrong world, describe failed, or compiling took too long (compile_timeout)"),
              (status = 429, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "Every compile slot is busy (compile_busy), or no calculation slot was free to run describe (calculation_capacity); retry after the Retry-After seconds")))]
async fn upload_plugin(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AppQuery(query): AppQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<PluginVersionView>)> {
    check_name(&query.name)?;
    let bytes = read_upload(&headers, body, state.config.http.max_upload_bytes).await?;
    let (plugin, info) = state
        .pricer
        .inspect(caller.organization.id, bytes.clone())
        .await
        .map_err(|error| rejected_upload(error, &caller))?;
    let describe = serde_json::to_value(&info).map_err(ApiError::internal)?;
    let upload = NewPluginVersion {
        organization_id: caller.organization.id,
        name: query.name,
        sha256: plugin.sha256.clone(),
        wasm: bytes,
        describe,
        uploaded_by: Some(caller.key.id),
    };
    let (version, created) = state.store.add_plugin_version(upload).await?;
    let organization = caller.organization.id;
    state.changes.apply(&Change::Plugins { organization }).await;
    let metadata = serde_json::json!({
        "version": version.version, "sha256": version.sha256, "new_version": created,
    });
    let name = Some(version.plugin_name.clone());
    state
        .activity
        .caller_did(&caller, "plugin.upload", "plugin", name, metadata);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(PluginVersionView::try_from(&version)?)))
}

/// Reads the body up to `limit` bytes; a declared length over it is refused before
/// a single byte is read.
pub(super) async fn read_upload(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if !matches!(
        content_type,
        "application/wasm" | "application/octet-stream"
    ) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the component as the raw body with `Content-Type: application/wasm`",
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::payload_too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::payload_too_large(limit))?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "empty_body",
            "the body is empty: send the .wasm component",
        ));
    }
    Ok(bytes.to_vec())
}

/// Why an upload's check failed: the plugin itself, or no room to run its `describe`.
pub(super) fn rejected_upload(error: PricingError, caller: &Caller) -> ApiError {
    match error {
        PricingError::Load(error) => rejected_plugin(error),
        other => pricing_error(other, caller),
    }
}

fn rejected_plugin(error: LoadError) -> ApiError {
    match error {
        LoadError::Internal(_) | LoadError::Fetch(_) => ApiError::internal(error),
        LoadError::CompileBusy { .. } => ApiError::from_compile_busy(&error),
        LoadError::Describe(ref failure) => {
            ApiError::unprocessable(failure.error.code(), format!("{error}"))
                .with_details(serde_json::json!({"stderr": failure.report.stderr}))
        }
        _ => ApiError::unprocessable(error.code(), error.to_string()),
    }
}

/// Lists the organization's plugins.
#[utoipa::path(get, path = "/api/plugins", tag = "plugins",
    responses((status = 200, body = PluginList), (status = 401, body = ErrorBody)))]
async fn list_plugins(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<PluginList>> {
    let plugins = state.store.list_plugins(caller.organization.id).await?;
    Ok(Json(PluginList {
        items: plugins.iter().map(PluginView::from).collect(),
    }))
}

/// A plugin with its versions and the variables of its active version.
#[utoipa::path(get, path = "/api/plugins/{name}", tag = "plugins",
    params(("name" = String, Path, description = "Plugin name")),
    responses((status = 200, body = PluginDetailView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_plugin(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(name): AppPath<String>,
) -> ApiResult<Json<PluginDetailView>> {
    let detail = state
        .store
        .plugin(caller.organization.id, &name)
        .await?
        .ok_or_else(|| plugin_not_found(&name))?;
    let versions = detail
        .versions
        .iter()
        .map(PluginVersionView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let variables = versions
        .iter()
        .find(|version| Some(version.version) == detail.plugin.active_version)
        .map(|version| version.describe.variables.clone())
        .unwrap_or_default();
    Ok(Json(PluginDetailView {
        plugin: (&detail.plugin).into(),
        variables,
        versions,
    }))
}

/// Deletes a version that is not active.
#[utoipa::path(delete, path = "/api/plugins/{name}/versions/{version}", tag = "plugins",
    params(("name" = String, Path, description = "Plugin name"), ("version" = i32, Path, description = "Version number")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "The version is active (`plugin_version_active`) or scheduled (`plugin_version_scheduled`)")))]
async fn delete_plugin_version(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AppPath((name, version)): AppPath<(String, i32)>,
) -> ApiResult<StatusCode> {
    match state
        .store
        .delete_plugin_version(caller.organization.id, &name, version)
        .await
    {
        Ok(()) => {
            let organization = caller.organization.id;
            state.changes.apply(&Change::Plugins { organization }).await;
            let metadata = serde_json::json!({"version": version});
            state.activity.caller_did(
                &caller,
                "plugin.delete_version",
                "plugin",
                Some(name),
                metadata,
            );
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(ApiError::not_found(
            "plugin_version_not_found",
            format!("plugin '{name}' has no version {version} in your organization"),
        )),
        Err(StoreError::Conflict(_)) if is_scheduled(&state, &caller, &name, version).await => {
            Err(ApiError::conflict(
                "plugin_version_scheduled",
                format!(
                    "version {version} of '{name}' is scheduled to become active; \
                     cancel with DELETE /api/plugins/{name}/activation first"
                ),
            ))
        }
        Err(StoreError::Conflict(_)) => Err(ApiError::conflict(
            "plugin_version_active",
            format!("version {version} of '{name}' is active; activate another version first"),
        )),
        Err(other) => Err(other.into()),
    }
}

/// Whether `version` is the one a pending activation of `name` will make active.
async fn is_scheduled(state: &AppState, caller: &Caller, name: &str, version: i32) -> bool {
    let detail = state.store.plugin(caller.organization.id, name).await;
    matches!(detail, Ok(Some(detail)) if detail.plugin.next_version == Some(version))
}
