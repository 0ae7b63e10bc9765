//! API keys of the caller's organization: create (the secret is shown once), list, revoke.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Admin, AppJson, AppPath};
use crate::app::AppState;
use crate::auth::generate_key;
use crate::changes::Change;
use crate::store::{ApiKey, KeyRevocation, Role, StoreError};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}

/// A key as listed: never the secret, only its prefix.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = String, example = "member")]
    pub role: Role,
    /// The first characters of the key, to recognise it.
    #[schema(example = "qh_1a2b3c4d")]
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    /// When the key last authenticated a request, to within the server's
    /// `auth.last_used_interval_s` (60 s by default); null if never.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(key: &ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name.clone(),
            role: key.role,
            prefix: key.prefix.clone(),
            created_at: key.created_at,
            last_used_at: key.last_used_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// A label for people: who or what uses the key (1 to 100 characters, not all blank).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*\\S[^\\u0000]*$"
    )]
    pub name: String,
    /// `admin` or `member`.
    #[schema(value_type = String, example = "member", pattern = "^(admin|member)$")]
    pub role: Role,
}

/// The new key, with its secret: the only time it is shown.
#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The secret. Store it now: it cannot be shown again.
    pub key_secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<ApiKeyView>,
}

/// Longest accepted key label.
const MAX_NAME_CHARS: usize = 100;

/// Creates a key for the caller's organization.
#[utoipa::path(post, path = "/api/api-keys", tag = "keys", request_body = NewKeyRequest,
    responses((status = 201, body = CreatedKey), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn create_api_key(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AppJson(request): AppJson<NewKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    let name = request.name.trim();
    // PostgreSQL text cannot hold U+0000.
    if name.is_empty() || request.name.chars().count() > MAX_NAME_CHARS || name.contains('\0') {
        return Err(ApiError::bad_request(
            "invalid_name",
            format!(
                "name must be 1 to {MAX_NAME_CHARS} characters, not all blank, none of them U+0000"
            ),
        ));
    }
    let mut generated = generate_key(caller.organization.id, name, request.role);
    generated.new_key.max_unrevoked = Some(state.config.auth.max_keys_per_organization);
    let key = state.store.create_api_key(generated.new_key).await?;
    let metadata = serde_json::json!({"name": key.name, "role": key.role, "prefix": key.prefix});
    let key_id = Some(key.id.to_string());
    state
        .activity
        .caller_did(&caller, "api_key.create", "api_key", key_id, metadata);
    let created = CreatedKey {
        key: (&key).into(),
        key_secret: generated.secret,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// Lists the organization's active keys.
#[utoipa::path(get, path = "/api/api-keys", tag = "keys",
    responses((status = 200, body = KeyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_api_keys(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> ApiResult<Json<KeyList>> {
    let keys = state.store.list_api_keys(caller.organization.id).await?;
    Ok(Json(KeyList {
        items: keys
            .iter()
            .filter(|key| key.revoked_at.is_none())
            .map(ApiKeyView::from)
            .collect(),
    }))
}

/// Revokes a key at once. The organization's last admin key cannot be revoked, not
/// even by two admin keys revoking each other at the same moment: one of them gets 409.
#[utoipa::path(delete, path = "/api/api-keys/{id}", tag = "keys",
    params(("id" = Uuid, Path, description = "The key's id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    let revoked = match state.store.revoke_api_key(caller.organization.id, id).await {
        Ok(KeyRevocation::Revoked(key)) => key,
        Ok(KeyRevocation::LastAdminKey) => {
            return Err(ApiError::conflict(
                "last_admin_key",
                "this is the organization's last admin key; create another admin key first",
            ));
        }
        Err(StoreError::NotFound) => {
            return Err(ApiError::not_found(
                "api_key_not_found",
                format!("no active API key {id} in your organization"),
            ));
        }
        Err(error) => return Err(error.into()),
    };
    let organization = caller.organization.id;
    let change = Change::ApiKey {
        organization,
        key: id,
    };
    state.changes.apply(&change).await;
    let metadata = serde_json::json!({"prefix": revoked.prefix});
    state.activity.caller_did(
        &caller,
        "api_key.revoke",
        "api_key",
        Some(id.to_string()),
        metadata,
    );
    Ok(StatusCode::NO_CONTENT)
}
