//! `GET /api/quotes/export`: every quote matching the filter, streamed in keyset pages
//! as CSV (default) or NDJSON (`Accept: application/x-ndjson`). Memory stays flat however
//! many quotes there are; a client that stops reading holds a page and an export slot of
//! its organization, no database connection, until the write timeout cuts it off.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{AppQuery, Auth};
use super::quotes::{QuoteView, status_filter};
use crate::app::AppState;
use crate::store::{Quote, StoreError};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_quotes))
}

/// Rows written per chunk of the response body, at most.
const ROWS_PER_CHUNK: usize = 16;

/// Seconds to wait before retrying an export refused for too many running.
const EXPORT_RETRY_AFTER_S: u64 = 5;

const NDJSON: &str = "application/x-ndjson";

const CSV_HEADER: [&str; 13] = [
    "id",
    "number",
    "title",
    "status",
    "currency",
    "subtotal",
    "tax",
    "total",
    "plugin_name",
    "plugin_version",
    "revision",
    "created_at",
    "updated_at",
];

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Only quotes in this status.
    #[param(pattern = "^(draft|sent|accepted|rejected|expired|cancelled)$")]
    pub status: Option<String>,
}

/// Streams the organization's quotes, oldest first: CSV, or NDJSON (the full quote per
/// line) with `Accept: application/x-ndjson`.
#[utoipa::path(get, path = "/api/quotes/export", tag = "quotes", params(ExportQuery),
    responses((status = 200, content_type = "text/csv", description = "One row per quote"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "`too_many_exports`: the organization runs `http.max_exports_per_org` exports already; or `rate_limited`")))]
async fn export_quotes(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppQuery(query): AppQuery<ExportQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let filter = status_filter(query.status.as_deref())?;
    let ndjson = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains(NDJSON));
    let organization = caller.organization.id;
    let slot = state.exports.enter(organization).ok_or_else(|| {
        let most = state.config.http.max_exports_per_org;
        ApiError::too_many_requests(
            "too_many_exports",
            format!(
                "your organization runs {most} exports already (http.max_exports_per_org); \
                 retry when one has finished"
            ),
            EXPORT_RETRY_AFTER_S,
        )
    })?;
    let page_rows = state.config.http.export_page_rows;
    let quotes = state.store.export_quotes(organization, filter, page_rows);
    // The slot is held until the body ends or is dropped (a client cut off included).
    let quotes = quotes.map(move |quote| {
        let _held = &slot;
        quote
    });
    let (content_type, body) = match ndjson {
        true => (NDJSON, Body::from_stream(encode(quotes, ndjson_row))),
        false => (
            "text/csv; charset=utf-8",
            Body::from_stream(csv_header().chain(encode(quotes, csv_row))),
        ),
    };
    let mut response = body.into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let file = if ndjson {
        "quotes.ndjson"
    } else {
        "quotes.csv"
    };
    let disposition = format!("attachment; filename=\"{file}\"");
    response_headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).expect("ASCII"),
    );
    Ok(response)
}

type Chunk = Result<Bytes, std::io::Error>;

/// Each quote encoded as it arrives (only one is decoded at a time), the rows that are
/// ready joined into one chunk of at most [`ROWS_PER_CHUNK`].
fn encode(
    quotes: impl Stream<Item = Result<Quote, StoreError>> + Send + 'static,
    row: fn(Quote) -> Result<Vec<u8>, String>,
) -> impl Stream<Item = Chunk> + Send + 'static {
    quotes
        .map(move |quote| {
            let quote = quote.map_err(|error| {
                // The status line is long gone: end the body early so the client sees a broken transfer.
                tracing::error!(%error, "quote export stopped by a database error");
                std::io::Error::other(error.to_string())
            })?;
            row(quote).map_err(std::io::Error::other)
        })
        .ready_chunks(ROWS_PER_CHUNK)
        .map(|rows| {
            let mut chunk = Vec::new();
            for row in rows {
                chunk.extend(row?);
            }
            Ok(Bytes::from(chunk))
        })
}

fn csv_header() -> impl Stream<Item = Chunk> + Send + 'static {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = writer
        .write_record(CSV_HEADER)
        .map_err(std::io::Error::other)
        .and_then(|()| {
            writer
                .into_inner()
                .map(Bytes::from)
                .map_err(|error| std::io::Error::other(error.to_string()))
        });
    futures::stream::once(async move { header })
}

fn csv_row(quote: Quote) -> Result<Vec<u8>, String> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer
        .write_record([
            quote.id.to_string(),
            quote.number,
            quote.title.unwrap_or_default(),
            quote.status.to_string(),
            quote.currency,
            quote.subtotal.to_string(),
            quote.tax.to_string(),
            quote.total.to_string(),
            quote.plugin_name,
            quote.plugin_version.to_string(),
            quote.revision.to_string(),
            quote.created_at.to_rfc3339(),
            quote.updated_at.to_rfc3339(),
        ])
        .map_err(|error| error.to_string())?;
    writer.into_inner().map_err(|error| error.to_string())
}

fn ndjson_row(quote: Quote) -> Result<Vec<u8>, String> {
    let mut line =
        serde_json::to_vec(&QuoteView::full(quote)).map_err(|error| error.to_string())?;
    line.push(b'\n');
    Ok(line)
}
