//! Prometheus metrics: the process-wide recorder, per-route request counts and
//! latencies, and `GET /metrics` with gauges sampled at scrape time.

use crate::app::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::SharedString;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::HashSet;
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

/// Latency buckets in seconds: from a cached lookup to a calculation at its time limit.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];
/// Fuel buckets: from a trivial rule set to the default budget of 10^10.
const FUEL_BUCKETS: &[f64] = &[1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/// The process-wide recorder, installed on first use. One server per process is the
/// normal case; servers started in one test process share it.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(Matcher::Suffix("_fuel".into()), FUEL_BUCKETS)
            })
            .expect("bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (a host embedding this library);
        // our handle then renders only what it recorded, which is nothing: say so.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        handle
    })
}

/// Counts every routed request by route template, method and status, and times it.
/// Labels are static strings (interned route templates, known methods and statuses),
/// so recording allocates only the metrics keys themselves.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(SharedString::const_str("unmatched"), |path| {
            interned_route(path.as_str())
        });
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = status_label(response.status());
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Route templates seen, kept for the life of the process: the router's own templates,
/// a fixed set; a limit guards against a router that ever made them up per request.
const MAX_INTERNED_ROUTES: usize = 1024;

fn interned_route(route: &str) -> SharedString {
    static ROUTES: OnceLock<RwLock<HashSet<&'static str>>> = OnceLock::new();
    let routes = ROUTES.get_or_init(Default::default);
    let known = routes
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = known.get(route) {
        return SharedString::const_str(known);
    }
    drop(known);
    let mut known = routes
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = known.get(route) {
        return SharedString::const_str(known);
    }
    if known.len() >= MAX_INTERNED_ROUTES {
        return SharedString::from(route.to_string());
    }
    let leaked: &'static str = Box::leak(route.to_string().into_boxed_str());
    known.insert(leaked);
    SharedString::const_str(leaked)
}

fn method_label(method: &Method) -> SharedString {
    let known = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
    ];
    match known.iter().find(|(candidate, _)| candidate == method) {
        Some((_, label)) => SharedString::const_str(label),
        None => SharedString::from(method.to_string()),
    }
}

fn status_label(status: StatusCode) -> SharedString {
    static STATUSES: OnceLock<Vec<String>> = OnceLock::new();
    let statuses = STATUSES.get_or_init(|| (0..1000).map(|code| code.to_string()).collect());
    SharedString::const_str(&statuses[usize::from(status.as_u16()) % 1000])
}

pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(get_metrics))
}

/// Prometheus metrics of this process, in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, content_type = "text/plain", description = "Prometheus text format")))]
async fn get_metrics(State(state): State<AppState>) -> Response {
    sample_gauges(&state).await;
    let handle = recorder();
    handle.run_upkeep();
    let mut text = handle.render();
    render_top_usage(&state, &mut text);
    ([("content-type", "text/plain; version=0.0.4")], text).into_response()
}

/// Fuel and CPU time of the `calculations.report_top_orgs` heaviest organizations,
/// written at each scrape rather than registered, so the series stay bounded: an
/// organization that drops out of the top is no longer listed.
fn render_top_usage(state: &AppState, text: &mut String) {
    let top = state
        .pricer
        .calculations()
        .top_usage(state.config.calculations.report_top_orgs as usize);
    let fuel = top.iter().map(|usage| (usage.organization_id, usage.fuel));
    render_per_organization(
        text,
        "organization_fuel_total",
        "Fuel burned by calculations, for the heaviest organizations only",
        fuel,
    );
    let cpu = top
        .iter()
        .map(|usage| (usage.organization_id, usage.cpu_seconds));
    render_per_organization(
        text,
        "organization_cpu_seconds_total",
        "Executor CPU time of calculations, for the heaviest organizations only",
        cpu,
    );
}

/// One counter family with an `organization` label, in the text exposition format.
fn render_per_organization(
    text: &mut String,
    name: &str,
    help: &str,
    values: impl Iterator<Item = (uuid::Uuid, impl std::fmt::Display)>,
) {
    use std::fmt::Write;
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} counter");
    for (organization, value) in values {
        let _ = writeln!(text, "{name}{{organization=\"{organization}\"}} {value}");
    }
}

async fn sample_gauges(state: &AppState) {
    let plugins = state.runtime.cache_stats().await;
    metrics::gauge!("plugin_cache_entries").set(plugins.entries as f64);
    metrics::gauge!("plugin_cache_bytes").set(plugins.bytes as f64);
    metrics::gauge!("plugin_cache_memory_hits").set(plugins.memory_hits as f64);
    metrics::gauge!("plugin_cache_memory_misses").set(plugins.memory_misses as f64);
    metrics::gauge!("plugin_cache_disk_hits").set(plugins.disk_hits as f64);
    metrics::gauge!("plugin_compiles").set(plugins.compiles as f64);
    metrics::gauge!("dashboard_cache_entries").set(state.dashboard.entry_count().await as f64);
    metrics::gauge!("auth_cache_entries").set(state.auth.entry_count().await as f64);
    metrics::gauge!("rate_cache_entries")
        .set(state.pricer.exchange_rates().entry_count().await as f64);
    metrics::gauge!("activity_queue_depth").set(state.activity.depth() as f64);
    metrics::gauge!("activity_queue_capacity").set(state.activity.capacity() as f64);
    metrics::gauge!("calculations_in_flight").set(state.pricer.calculations().in_flight() as f64);
    let pool = state.store.pool_state();
    metrics::gauge!("database_pool_connections").set(f64::from(pool.size));
    metrics::gauge!("database_pool_idle").set(f64::from(pool.idle));
}
