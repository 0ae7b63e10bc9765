//! Extractors that turn every bad input into an [`ApiError`] with a stable code:
//! JSON bodies, query strings, path segments, the API key, and the admin role.

use super::error::ApiError;
use crate::app::AppState;
use crate::auth::Caller;
use crate::store::PageCursor;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A JSON body; unknown fields, wrong types and oversize bodies become 4xx with our shape.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection, state.config.http.max_body_bytes)),
        }
    }
}

fn json_rejection(rejection: JsonRejection, limit: usize) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(error) => {
            ApiError::bad_request("invalid_body", body_message(&error.body_text()))
        }
        JsonRejection::JsonSyntaxError(error) => {
            ApiError::bad_request("invalid_json", body_message(&error.body_text()))
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::BytesRejection(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::payload_too_large(limit)
        }
        other => ApiError::bad_request("invalid_body", other.body_text()),
    }
}

/// axum's text starts with a generic sentence; keep serde's precise part, which names
/// the field ("unknown field `colour`, expected one of ...").
fn body_message(text: &str) -> String {
    let detail = text.split_once(": ").map_or(text, |(_, detail)| detail);
    format!("the request body is not valid: {detail}")
}

/// A query string; unknown parameters and bad values are 400 `invalid_query`.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    let text = rejection.body_text();
    let detail = text
        .split_once(": ")
        .map_or(text.as_str(), |(_, detail)| detail);
    ApiError::bad_request(
        "invalid_query",
        format!("the query string is not valid: {detail}"),
    )
}

/// Path segments (`/api/quotes/{id}`); one that does not parse (`not-a-uuid`, a version
/// `abc`) is 400 `invalid_path`.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            PathRejection::FailedToDeserializePathParams(error) => {
                let text = error.body_text();
                let detail = text
                    .split_once(": ")
                    .map_or(text.as_str(), |(_, detail)| detail);
                ApiError::bad_request(
                    "invalid_path",
                    format!(
                        "the path is not valid: {detail}; see /api/openapi.json for its parameters"
                    ),
                )
            }
            other => ApiError::internal(other),
        }
    }
}

/// The caller, authenticated by `Authorization: Bearer <api key>`.
pub struct Auth(pub Arc<Caller>);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Arc<Caller>>() {
            return Ok(Self(caller.clone()));
        }
        let secret = bearer_token(parts)?;
        let caller = state
            .auth
            .verify(state.store.as_ref(), secret)
            .await?
            .ok_or_else(|| {
                unauthorized(
                    "invalid_api_key",
                    "the API key is unknown or has been revoked",
                )
            })?;
        state.key_usage.record(caller.key.id);
        parts.extensions.insert(caller.clone());
        Ok(Self(caller))
    }
}

fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        unauthorized(
            "missing_api_key",
            "send your API key as `Authorization: Bearer <key>`",
        )
    })?;
    header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            unauthorized(
                "invalid_api_key",
                "the Authorization header must be `Bearer <key>`",
            )
        })
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Middleware: identifies the caller before routing, so rate limits can count per API
/// key: by the `Authorization` header, or on `/console` by the session cookie. A missing
/// or bad key is left for the handler's [`Auth`] to answer.
pub async fn identify_caller(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (mut parts, body) = request.into_parts();
    if parts.headers.contains_key(AUTHORIZATION) {
        let _ = Auth::from_request_parts(&mut parts, &state).await;
    } else if parts.uri.path().starts_with("/console")
        && !parts.uri.path().starts_with("/console/assets/")
    {
        // A console page or its copy of the API: the session cookie names the caller,
        // so handlers, the admin check and the throttle see the same caller as the API.
        match crate::console::session::resolve(&state, &parts.headers).await {
            Ok(Some((caller, session))) => {
                state.key_usage.record(caller.key.id);
                parts.extensions.insert(caller);
                parts.extensions.insert(session);
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(code = error.code, "console session lookup failed"),
        }
    }
    request = Request::from_parts(parts, body);
    next.run(request).await
}

/// A caller with the admin role; a member gets 403.
pub struct Admin(pub Arc<Caller>);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Auth(caller) = Auth::from_request_parts(parts, state).await?;
        if !caller.is_admin() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this needs an admin API key",
            ));
        }
        Ok(Self(caller))
    }
}

/// `limit` as given in a query string (kept as text so any value gets our message).
pub fn page_limit(limit: Option<&str>, state: &AppState) -> Result<u32, ApiError> {
    let http = &state.config.http;
    let Some(text) = limit else {
        return Ok(http.default_page_size);
    };
    match text.parse::<u32>() {
        Ok(limit) if (1..=http.max_page_size).contains(&limit) => Ok(limit),
        _ => Err(ApiError::bad_request(
            "invalid_limit",
            format!(
                "limit must be a whole number from 1 to {}, got '{text}'",
                http.max_page_size
            ),
        )),
    }
}

/// An opaque page cursor from a query string; garbage is 400 `invalid_cursor`.
pub fn page_cursor(cursor: Option<&str>) -> Result<Option<PageCursor>, ApiError> {
    cursor
        .map(|text| {
            PageCursor::decode(text).map_err(|_| {
                ApiError::bad_request(
                    "invalid_cursor",
                    "cursor is not one this API returned; start from the first page",
                )
            })
        })
        .transpose()
}
