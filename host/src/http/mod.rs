//! The HTTP API: one module per resource; this file merges their routers and adds the
//! layers (request id, tracing, error-text bound, panic guard, body limit, caller
//! identification, throttling per route class, metrics) in one visible place; [`serve`]
//! runs it.

mod activity;
mod api_keys;
mod branding;
mod calculate;
mod dashboard;
mod documents;
pub mod error;
mod exchange_rates;
mod export;
mod extract;
mod health;
pub mod health_check;
mod me;
pub mod metrics;
mod openapi;
mod plugin_activation;
mod plugin_replay;
mod plugins;
mod quote_actions;
mod quotes;
mod server;
pub mod throttle;
mod throttle_shared;
mod write_timeout;

use crate::app::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use error::ApiError;
use throttle::{ThrottleClass, ThrottleClasses};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_scalar::Servable;

pub use extract::AppPath;
pub use health::DATABASE_PING_TIMEOUT;
pub use server::serve;

/// The header carrying the request id, set on every response.
pub const REQUEST_ID: &str = "x-request-id";

/// `routes` behind `class`'s limit: shared on Redis when the cluster has it, else per host.
fn throttled(
    state: &AppState,
    routes: OpenApiRouter<AppState>,
    class: &ThrottleClass,
) -> OpenApiRouter<AppState> {
    match (state.config.rate_limits.enabled, &state.shared_limits) {
        (true, Some(limits)) => {
            let shared = throttle_shared::SharedClass {
                limits: limits.clone(),
                name: class.name,
                per_minute: class.per_minute,
            };
            routes.layer(axum::middleware::from_fn_with_state(
                shared,
                throttle_shared::throttle_shared,
            ))
        }
        (true, None) => routes.layer(class.layer()),
        (false, _) => routes,
    }
}

/// The documented routes, each in its throttle class, and the OpenAPI document.
fn documented_routes(
    state: &AppState,
    classes: &ThrottleClasses,
) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let limited = |routes, class| throttled(state, routes, class);
    let default = OpenApiRouter::new()
        .merge(health::detailed_routes())
        .merge(me::routes())
        .merge(api_keys::routes())
        .merge(plugins::routes())
        .merge(plugin_activation::routes())
        .merge(quotes::routes())
        .merge(dashboard::routes())
        .merge(activity::routes())
        .merge(branding::routes())
        .merge(exchange_rates::routes());
    let calculate = OpenApiRouter::new()
        .merge(calculate::routes())
        .merge(plugin_replay::routes())
        .merge(quotes::pricing_routes())
        .merge(quote_actions::routes());
    let upload = OpenApiRouter::new()
        .merge(exchange_rates::refresh_routes())
        .merge(
            plugins::upload_routes()
                .merge(plugin_replay::candidate_routes())
                .layer(DefaultBodyLimit::max(state.config.http.max_upload_bytes)),
        );
    // Replays cost one calculate request per quote: their handlers charge the rest.
    let (calculate, upload) = match state.config.rate_limits.enabled {
        true => {
            let charge = axum::Extension(throttle::CostCharge::of(&classes.calculate));
            (calculate.layer(charge.clone()), upload.layer(charge))
        }
        false => (calculate, upload),
    };
    OpenApiRouter::with_openapi(openapi::frame())
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(limited(default, &classes.default))
        .merge(limited(calculate, &classes.calculate))
        .merge(limited(upload, &classes.upload))
        .merge(limited(
            export::routes().merge(documents::routes()),
            &classes.export,
        ))
        .split_for_parts()
}

/// The whole application, ready to serve, throttled by `throttle`'s limiters.
pub fn router(state: AppState, throttle: &ThrottleClasses) -> Router {
    let (routes, openapi) = documented_routes(&state, throttle);
    // The console calls the API itself, under /console (where its cookie is sent), with
    // the same handlers and throttle classes, behind the CSRF check.
    let console_api = routes.clone().layer(axum::middleware::from_fn(
        crate::console::session::require_csrf,
    ));
    let console_pages: Router<AppState> = throttled(
        &state,
        OpenApiRouter::from(crate::console::routes()),
        &throttle.default,
    )
    .into();
    let routes = routes.nest("/console", console_api).merge(console_pages);
    let openapi = openapi::document(&openapi, &state.config);
    let openapi_json = openapi.to_string();
    let request_id = HeaderName::from_static(REQUEST_ID);
    routes
        .route(
            "/api/openapi.json",
            axum::routing::get(move || async move {
                ([("content-type", "application/json")], openapi_json)
            }),
        )
        .merge(utoipa_scalar::Scalar::with_url("/api/docs", openapi))
        .route_layer(axum::middleware::from_fn(metrics::track_requests))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            extract::identify_caller,
        ))
        .layer(DefaultBodyLimit::max(state.config.http.max_body_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::bound_error_text,
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
}

async fn route_not_found() -> ApiError {
    ApiError::not_found(
        "route_not_found",
        "no such route; see /api/openapi.json for the API",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("a request handler panicked").into_response()
}
