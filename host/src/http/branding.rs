//! `GET` and `PUT /api/organization/branding`: the logo and footer text that go on
//! every quote document of the organization; `GET /api/organization/branding/logo`
//! returns the logo itself.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Admin, AppJson, Auth};
use crate::app::AppState;
use crate::documents::logo::{self, LogoError};
use crate::store::Branding;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_branding, put_branding))
        .routes(routes!(get_branding_logo))
}

/// The whole branding; a part absent or `null` is cleared.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandingBody {
    /// Printed at the bottom of every page of a document (at most 500 characters by
    /// default; line breaks are kept).
    pub footer_text: Option<String>,
    /// The logo: a PNG (at most 256 KiB and 2048 pixels a side by default), as
    /// standard base64.
    pub logo_png_base64: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LogoView {
    /// Size of the PNG.
    pub bytes: usize,
    pub width: u32,
    pub height: u32,
}

#[derive(Serialize, ToSchema)]
pub struct BrandingView {
    pub footer_text: Option<String>,
    /// The logo's size (`GET /api/organization/branding/logo` for the image).
    pub logo: Option<LogoView>,
    /// `null` until an admin first sets the branding.
    pub updated_at: Option<DateTime<Utc>>,
}

impl BrandingView {
    fn of(branding: Option<Branding>) -> Self {
        let Some(branding) = branding else {
            return Self {
                footer_text: None,
                logo: None,
                updated_at: None,
            };
        };
        let logo = branding.logo_png.as_deref().map(|png| {
            let size = logo::dimensions(png);
            LogoView {
                bytes: png.len(),
                width: size.map_or(0, |size| size.width),
                height: size.map_or(0, |size| size.height),
            }
        });
        Self {
            footer_text: branding.footer_text,
            logo,
            updated_at: Some(branding.updated_at),
        }
    }
}

/// The organization's document branding.
#[utoipa::path(get, path = "/api/organization/branding", tag = "documents",
    responses((status = 200, body = BrandingView), (status = 401, body = ErrorBody)))]
async fn get_branding(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<BrandingView>> {
    let branding = state.store.branding(caller.organization.id).await?;
    Ok(Json(BrandingView::of(branding)))
}

/// Replaces the organization's document branding (admin).
#[utoipa::path(put, path = "/api/organization/branding", tag = "documents", request_body = BrandingBody,
    responses((status = 200, body = BrandingView),
              (status = 400, body = ErrorBody, description = "footer_too_long, invalid_logo, logo_too_large, logo_too_many_pixels"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn put_branding(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AppJson(body): AppJson<serde_json::Value>,
) -> ApiResult<Json<BrandingView>> {
    // serde would also read a struct from an array (`[null, null]`); the schema says object.
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object: {\"footer_text\": ..., \"logo_png_base64\": ...}",
        ));
    }
    let body: BrandingBody = serde_json::from_value(body)
        .map_err(|error| ApiError::bad_request("invalid_body", error.to_string()))?;
    let limits = state.documents.limits();
    let footer_text = body.footer_text.filter(|text| !text.trim().is_empty());
    if let Some(footer) = &footer_text
        && footer.chars().count() > limits.max_footer_chars
    {
        return Err(ApiError::bad_request(
            "footer_too_long",
            format!(
                "footer_text has {} characters; at most {} are allowed",
                footer.chars().count(),
                limits.max_footer_chars
            ),
        ));
    }
    let logo_png = match body.logo_png_base64.as_deref() {
        Some(encoded) => {
            let png = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|error| {
                    ApiError::bad_request(
                        "invalid_logo",
                        format!("logo_png_base64 is not standard base64: {error}"),
                    )
                })?;
            logo::check_logo(&png, limits).map_err(logo_error)?;
            Some(png)
        }
        None => None,
    };
    let organization = caller.organization.id;
    let branding = state
        .store
        .set_branding(organization, footer_text.as_deref(), logo_png.as_deref())
        .await?;
    let metadata = serde_json::json!({
        "footer_text": branding.footer_text.is_some(),
        "logo_bytes": branding.logo_png.as_ref().map(Vec::len),
    });
    state.activity.caller_did(
        &caller,
        "organization.branding",
        "organization",
        Some(organization.to_string()),
        metadata,
    );
    Ok(Json(BrandingView::of(Some(branding))))
}

/// The organization's logo as stored (`image/png`); 404 `logo_not_found` without one.
#[utoipa::path(get, path = "/api/organization/branding/logo", tag = "documents",
    responses((status = 200, content_type = "image/png", description = "The logo"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_branding_logo(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Response> {
    let branding = state.store.branding(caller.organization.id).await?;
    let png = branding
        .and_then(|branding| branding.logo_png)
        .ok_or_else(|| {
            ApiError::not_found(
                "logo_not_found",
                "the organization has no logo; an admin sets one with PUT /api/organization/branding",
            )
        })?;
    let mut response = png.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    Ok(response)
}

fn logo_error(error: LogoError) -> ApiError {
    let code = match error {
        LogoError::TooLarge { .. } => "logo_too_large",
        LogoError::TooManyPixels { .. } => "logo_too_many_pixels",
        LogoError::NotPng(_) => "invalid_logo",
    };
    ApiError::bad_request(code, error.to_string())
}
