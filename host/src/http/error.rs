//! The one error shape of the API: `{"error": {"code", "message"}}` with a stable code,
//! and how the errors of the layers below (store, pricing) become one. Internal details
//! are logged here, once, and never sent to the client; text a user or a plugin wrote is
//! cut to `http.max_echoed_text_bytes` on its way out ([`bound_error_text`]).

use crate::app::AppState;
use crate::auth::Caller;
use crate::quoting::PricingError;
use crate::runtime::{CallError, LoadError};
use crate::store::StoreError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;

/// An error as the client sees it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
    /// Extra machine-readable context (e.g. a plugin's captured stderr, for admins),
    /// boxed so the error stays small on the happy path.
    pub details: Option<Box<serde_json::Value>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_api_key`, `plugin_not_found`.
    pub code: String,
    /// What went wrong and what to do about it, for a person.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            details: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the limit of {limit_bytes} bytes"),
        )
    }

    pub fn too_many_requests(
        code: &'static str,
        message: impl Into<String>,
        retry_after_s: u64,
    ) -> Self {
        Self {
            retry_after: Some(retry_after_s),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, message)
        }
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>, retry_after_s: u64) -> Self {
        Self {
            retry_after: Some(retry_after_s),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }

    /// Every compile slot stayed busy: 503, retry shortly.
    pub fn from_compile_busy(error: &LoadError) -> Self {
        Self::unavailable(error.code(), error.to_string(), BUSY_RETRY_AFTER_S)
    }

    /// Logs the cause and answers a generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; it has been logged",
        )
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => {
                ApiError::not_found("not_found", "no such object in your organization")
            }
            StoreError::Conflict(message) => ApiError::conflict("conflict", message),
            StoreError::KeyLimitReached(limit) => ApiError::conflict(
                "api_key_limit_reached",
                format!(
                    "your organization already has {limit} active API keys, its limit; \
                     revoke one you no longer use (DELETE /api/api-keys/{{id}}) first"
                ),
            ),
            StoreError::Invalid(message) => ApiError::bad_request("invalid_request", message),
            StoreError::Unavailable(message) => {
                tracing::warn!(%message, "database unavailable");
                ApiError::unavailable(
                    "database_unavailable",
                    "the database is unavailable; retry shortly",
                    5,
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    /// The JSON answer; the body also rides along in the response's extensions, for
    /// [`bound_error_text`] to shorten.
    fn into_response(self) -> Response {
        let body = Arc::new(ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                details: self.details.map(|details| *details),
            },
        });
        let mut response = (self.status, axum::Json(&*body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(body);
        response
    }
}

/// Fields of an error's `details` bounded where they are made (a plugin's captured
/// output, `runtime.stderr_cap_bytes`), left whole here.
const BOUNDED_DETAILS: &[&str] = &["stderr"];

/// Middleware: every error body leaves with its text (message, details) cut to
/// `http.max_echoed_text_bytes`, whoever built the error: a handler, an extractor, a
/// layer, the fallback.
pub async fn bound_error_text(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let Some(body) = response.extensions_mut().remove::<Arc<ErrorBody>>() else {
        return response;
    };
    let Ok(mut value) = serde_json::to_value(&*body) else {
        return response;
    };
    let max_bytes = state.config.http.max_echoed_text_bytes;
    if crate::text::truncate_json(&mut value, max_bytes, BOUNDED_DETAILS) {
        response.headers_mut().remove(header::CONTENT_LENGTH);
        *response.body_mut() = Body::from(value.to_string());
    }
    response
}

/// Seconds a client should wait before retrying when every slot is busy.
const BUSY_RETRY_AFTER_S: u64 = 1;

/// The HTTP answer to a failed pricing. Admins also get the plugin's captured stderr.
pub fn pricing_error(error: PricingError, caller: &Caller) -> ApiError {
    match error {
        PricingError::InvalidInput(message) => ApiError::bad_request("invalid_request", message),
        PricingError::Limit(error) => ApiError::unprocessable(error.code, error.message)
            .with_details(json!({"field": error.field, "limit": error.limit})),
        PricingError::PluginNotFound(message) => ApiError::not_found("plugin_not_found", message),
        PricingError::NoActivePlugin(message) => {
            ApiError::unprocessable("no_active_plugin", message)
        }
        PricingError::Variable(error) => ApiError::unprocessable(error.code, error.message),
        PricingError::Amount(error) => {
            let details = json!({"field": error.field(), "max": error.max()});
            ApiError::unprocessable(error.code(), error.to_string()).with_details(details)
        }
        PricingError::MissingRate(message) => ApiError::unprocessable("missing_rate", message),
        PricingError::Busy => ApiError::unavailable(
            "calculation_capacity",
            "no calculation slot or executor thread was free within the queue wait \
             (calculations.queue_wait_ms); retry after Retry-After seconds",
            BUSY_RETRY_AFTER_S,
        ),
        error @ PricingError::Lost => ApiError::internal(error),
        PricingError::Load(error @ (LoadError::Fetch(_) | LoadError::Internal(_))) => {
            ApiError::internal(error)
        }
        PricingError::Load(error @ LoadError::CompileBusy { .. }) => {
            ApiError::from_compile_busy(&error)
        }
        PricingError::Load(error) => ApiError::unprocessable(error.code(), error.to_string()),
        PricingError::Call(failure) => {
            let status = match failure.error {
                CallError::Timeout { .. } => StatusCode::REQUEST_TIMEOUT,
                CallError::Capacity(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let mut details = json!({
                "fuel_used": failure.report.fuel_used,
                "peak_memory_bytes": failure.report.peak_memory_bytes,
                "duration_ms": failure.report.duration.as_secs_f64() * 1000.0,
            });
            if let CallError::Plugin(calc_error) = &failure.error {
                details["plugin_error"] = json!(calc_error);
            }
            if caller.is_admin() {
                details["stderr"] = json!(failure.report.stderr);
                details["stderr_truncated"] = json!(failure.report.stderr_truncated);
            }
            let mut error = ApiError::new(status, failure.error.code(), failure.error.to_string())
                .with_details(details);
            if status == StatusCode::SERVICE_UNAVAILABLE {
                error.retry_after = Some(BUSY_RETRY_AFTER_S);
            }
            error
        }
        PricingError::Store(error) => error.into(),
    }
}
