//! `GET /api/health`: 200 when the database answered within a bounded time, at most
//! `http.health_check_max_age_ms` ago, else 503; and the detailed view for operators.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::Admin;
use crate::app::AppState;
use crate::cluster::{ClusterHealth, RateLimitHealth};
use crate::executor::ExecutorReport;
use crate::jobs::JOB_NAME;
use crate::runtime::CacheStats;
use crate::store::{JobOutcome, JobRun};
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Longest the health check waits for the database.
pub const DATABASE_PING_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_health))
}

pub fn detailed_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_detailed_health))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    pub version: &'static str,
}

/// Liveness and readiness: the process answers and its database does too.
#[utoipa::path(get, path = "/api/health", tag = "operations", security(()),
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn get_health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state
        .health
        .check(state.store.as_ref())
        .await
        .map_err(|error| {
            ApiError::unavailable(
                "database_unavailable",
                format!("the database does not answer: {error}"),
                5,
            )
        })?;
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    }))
}

/// The state of every part of the process, for operators.
#[derive(Serialize, ToSchema)]
pub struct DetailedHealth {
    /// `ok` or `degraded` (the database does not answer, the change listener lost its
    /// connection, or the shared rate limits' Redis does not answer).
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_s: u64,
    pub database: DatabaseHealth,
    #[schema(value_type = Object)]
    pub plugin_cache: CacheStats,
    pub calculations_in_flight: usize,
    /// The guest executor: threads, calls alive, preemptions, demotions, calls refused
    /// for waiting past `queue_wait_ms`, and the busiest organizations' queues.
    pub executor: ExecutorReport,
    /// Quote exports streaming now, all organizations together.
    pub exports_running: usize,
    pub activity: ActivityHealth,
    pub caches: CacheHealth,
    pub exchange_rates: RateJobHealth,
    pub cluster: ClusterSection,
}

/// How this host keeps up with the others: change notifications and shared rate limits.
#[derive(Serialize, ToSchema)]
pub struct ClusterSection {
    #[serde(flatten)]
    pub changes: ClusterHealth,
    pub rate_limits: RateLimitHealth,
}

#[derive(Serialize, ToSchema)]
pub struct RateJobHealth {
    pub enabled: bool,
    /// The cron expression and its time zone.
    pub schedule: String,
    pub next_run: Option<chrono::DateTime<chrono::Utc>>,
    /// The newest run that fetched (or tried to), on any host.
    #[schema(value_type = Option<Object>)]
    pub last_run: Option<JobRun>,
    /// The newest run of any kind, including "skipped: another host holds the lock".
    #[schema(value_type = Option<Object>)]
    pub last_attempt: Option<JobRun>,
    pub newest_rates_fetched_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityHealth {
    /// Entries waiting to be written.
    pub queue_depth: usize,
    pub queue_capacity: usize,
    /// Entries lost because the queue was full (or the database stayed down through shutdown).
    pub dropped: u64,
    pub written: u64,
    pub write_failures: u64,
}

#[derive(Serialize, ToSchema)]
pub struct CacheHealth {
    pub dashboard_entries: u64,
    pub api_key_entries: u64,
    pub exchange_rate_entries: u64,
}

#[derive(Serialize, ToSchema)]
pub struct DatabaseHealth {
    pub backend: String,
    pub reachable: bool,
    pub error: Option<String>,
    pub pool_size: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    /// Connections handed out since start, counted before this request's own queries.
    pub acquired_total: u64,
}

/// Version, uptime, database pool, caches, queues and jobs (admin).
#[utoipa::path(get, path = "/api/health/detailed", tag = "operations",
    responses((status = 200, body = DetailedHealth), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn get_detailed_health(State(state): State<AppState>, _admin: Admin) -> Json<DetailedHealth> {
    let pool = state.store.pool_state();
    let ping = state.store.ping(DATABASE_PING_TIMEOUT).await;
    let counters = state.activity.counters();
    let cluster = ClusterSection {
        changes: state.cluster.health(),
        rate_limits: match &state.shared_limits {
            Some(limits) => limits.health().await,
            None => RateLimitHealth {
                backend: "local",
                reachable: true,
                failures: 0,
                fail_open: state.config.rate_limits.fail_open,
            },
        },
    };
    let cluster_ok = cluster.rate_limits.reachable
        && (cluster.changes.transport == "local" || cluster.changes.listener_connected);
    Json(DetailedHealth {
        status: if ping.is_ok() && cluster_ok {
            "ok"
        } else {
            "degraded"
        },
        cluster,
        version: env!("CARGO_PKG_VERSION"),
        uptime_s: state.started_at.elapsed().as_secs(),
        database: DatabaseHealth {
            backend: format!("{:?}", state.store.backend()).to_lowercase(),
            reachable: ping.is_ok(),
            error: ping.err().map(|error| error.to_string()),
            pool_size: pool.size,
            pool_idle: pool.idle,
            pool_max: pool.max,
            acquired_total: pool.acquired_total,
        },
        plugin_cache: state.runtime.cache_stats().await,
        calculations_in_flight: state.pricer.calculations().in_flight(),
        executor: state
            .pricer
            .calculations()
            .executor_report(state.config.calculations.report_top_orgs as usize),
        exports_running: state.exports.running(),
        activity: ActivityHealth {
            queue_depth: state.activity.depth(),
            queue_capacity: state.activity.capacity(),
            dropped: state.activity.dropped(),
            written: counters.written.load(Ordering::Relaxed),
            write_failures: counters.write_failures.load(Ordering::Relaxed),
        },
        exchange_rates: exchange_rate_job_health(&state).await,
        caches: CacheHealth {
            dashboard_entries: state.dashboard.entry_count().await,
            api_key_entries: state.auth.entry_count().await,
            exchange_rate_entries: state.pricer.exchange_rates().entry_count().await,
        },
    })
}

/// Runs looked at to find the newest one that was not skipped.
const RECENT_RUNS: u32 = 20;

async fn exchange_rate_job_health(state: &AppState) -> RateJobHealth {
    let config = &state.config.exchange_rates;
    let runs = state
        .store
        .list_job_runs(Some(JOB_NAME), RECENT_RUNS)
        .await
        .unwrap_or_default();
    RateJobHealth {
        enabled: config.enabled,
        schedule: format!("{} ({})", config.schedule, config.time_zone),
        next_run: config
            .enabled
            .then(|| state.exchange_rate_schedule.next_after(chrono::Utc::now()))
            .flatten(),
        last_run: runs
            .iter()
            .find(|run| run.outcome != JobOutcome::Skipped)
            .cloned(),
        last_attempt: runs.first().cloned(),
        newest_rates_fetched_at: state.store.newest_rate_fetch().await.ok().flatten(),
    }
}
