//! The tenant console at `/console`: server-rendered pages (askama templates, checked at
//! compile time) with a small embedded stylesheet and plain script, signed in by a
//! session cookie. Its scripts call the API itself under `/console/api/...` (see
//! `http::router`), so every page answers exactly what the API would, with the API's
//! errors, throttles and role checks.

mod config;
mod pages;
pub mod session;
mod signin;

pub use config::ConsoleConfig;

use crate::app::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

const STYLESHEET: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");

/// What a page may load and run: only this host's own stylesheet and script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The console's pages, assets, sign-in and sign-out.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(pages::dashboard))
        .route("/console/plugins", get(pages::plugins))
        .route("/console/price", get(pages::price))
        .route("/console/quotes", get(pages::quotes))
        .route("/console/quotes/{id}", get(pages::quote))
        .route("/console/rates", get(pages::rates))
        .route("/console/health", get(pages::health))
        .route(
            "/console/login",
            get(signin::login_page).post(signin::sign_in),
        )
        .route("/console/logout", post(signin::sign_out))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/assets/console.js", get(script))
        .layer(axum::middleware::map_response(protect))
}

async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
