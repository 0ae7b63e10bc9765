//! `GET /api/quotes/{id}/document`: a stored quote as the PDF or XLSX a seller sends to
//! the customer, chosen by `?format=` or else by the `Accept` header (PDF by default).

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{AppPath, AppQuery, Auth};
use super::quotes::find_quote;
use crate::app::AppState;
use crate::documents::model::ModelError;
use crate::documents::{DocumentError, Format};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The document route (the export rate class).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_quote_document))
}

/// Seconds a client should wait when every render slot is busy.
const BUSY_RETRY_AFTER_S: u64 = 1;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    /// `pdf` or `xlsx`. Without it the `Accept` header decides: `application/pdf`,
    /// `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`, or PDF for
    /// `*/*` and no header. Given, it wins over `Accept`.
    pub format: Option<String>,
}

/// The quote as a PDF (A4, paginated, the table header on every page) or an XLSX
/// (numeric cells; a second sheet with each line's breakdown), with the
/// organization's logo and footer text.
#[utoipa::path(get, path = "/api/quotes/{id}/document", tag = "documents",
    params(("id" = Uuid, Path, description = "Quote id"), DocumentQuery),
    responses((status = 200, content_type = "application/pdf", description = "The PDF, or the XLSX with `format=xlsx`"),
              (status = 400, body = ErrorBody, description = "invalid_format"), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "quote_not_found"),
              (status = 406, body = ErrorBody, description = "not_acceptable: Accept names neither format"),
              (status = 422, body = ErrorBody, description = "too_many_lines, too_many_breakdown_columns"),
              (status = 429, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "document_capacity: every render slot stayed busy")))]
async fn get_quote_document(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<DocumentQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let format = chosen_format(query.format.as_deref(), accept)?;
    let organization = &caller.organization;
    let quote = find_quote(&state, organization.id, id).await?;
    let number = quote.number.clone();
    let branding = state.store.branding(organization.id).await?;
    let bytes = state
        .documents
        .render(quote, organization.name.clone(), branding, format)
        .await
        .map_err(document_error)?;
    let metadata =
        serde_json::json!({"number": number, "format": format.extension(), "bytes": bytes.len()});
    state.activity.caller_did(
        &caller,
        "quote.document",
        "quote",
        Some(id.to_string()),
        metadata,
    );
    let disposition = format!("attachment; filename=\"{number}.{}\"", format.extension());
    let mut response = bytes.into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    response_headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
    );
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `?format=` if given, else the best format `Accept` allows, else PDF.
fn chosen_format(query: Option<&str>, accept: Option<&str>) -> ApiResult<Format> {
    if let Some(name) = query {
        return match name {
            "pdf" => Ok(Format::Pdf),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(ApiError::bad_request(
                "invalid_format",
                format!("format '{other}' is not one of pdf, xlsx"),
            )),
        };
    }
    let Some(accept) = accept.filter(|accept| !accept.trim().is_empty()) else {
        return Ok(Format::Pdf);
    };
    // The acceptable entry with the highest quality; the first listed among equals.
    let mut best: Option<(f32, Format)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let media_type = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|parameter| parameter.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let format = match media_type.as_str() {
            "application/pdf" | "application/*" | "*/*" => Format::Pdf,
            media if media == Format::Xlsx.media_type() => Format::Xlsx,
            _ => continue,
        };
        if quality > 0.0 && best.is_none_or(|(best_quality, _)| quality > best_quality) {
            best = Some((quality, format));
        }
    }
    best.map(|(_, format)| format).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            format!(
                "documents are application/pdf or {}; accept one of them or pass ?format=pdf|xlsx",
                Format::Xlsx.media_type()
            ),
        )
    })
}

fn document_error(error: DocumentError) -> ApiError {
    match error {
        DocumentError::Model(error @ ModelError::TooManyLines { .. }) => {
            ApiError::unprocessable("too_many_lines", error.to_string())
        }
        DocumentError::Model(error @ ModelError::TooManyBreakdownColumns { .. }) => {
            ApiError::unprocessable("too_many_breakdown_columns", error.to_string())
        }
        DocumentError::Busy => ApiError::unavailable(
            "document_capacity",
            "every document render slot is busy; retry in a moment",
            BUSY_RETRY_AFTER_S,
        ),
        other => ApiError::internal(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    #[test]
    fn the_query_wins_then_accept_decides_then_pdf() {
        assert_eq!(
            chosen_format(Some("xlsx"), Some("application/pdf")).unwrap(),
            Format::Xlsx
        );
        assert_eq!(chosen_format(None, None).unwrap(), Format::Pdf);
        assert_eq!(chosen_format(None, Some("*/*")).unwrap(), Format::Pdf);
        assert_eq!(chosen_format(None, Some(XLSX)).unwrap(), Format::Xlsx);
        let prefers_xlsx = format!("application/pdf;q=0.5, {XLSX}");
        assert_eq!(
            chosen_format(None, Some(&prefers_xlsx)).unwrap(),
            Format::Xlsx
        );
        let refuses_pdf = format!("application/pdf;q=0, {XLSX};q=0.1");
        assert_eq!(
            chosen_format(None, Some(&refuses_pdf)).unwrap(),
            Format::Xlsx
        );
        assert_eq!(
            chosen_format(Some("csv"), None).unwrap_err().code,
            "invalid_format"
        );
        let refused = chosen_format(None, Some("text/html")).unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.code),
            (406, "not_acceptable")
        );
    }
}
