//! The application state every handler and job shares, and how it is assembled.

use crate::activity::{ActivityLog, ActivityWriter, WriterConfig};
use crate::auth::{AuthCache, KeyUsage, KeyUsageWriter, UsageLimits};
use crate::changes::Changes;
use crate::cluster::{ChangeListener, Cluster, SharedLimits};
use crate::config::{Config, RateLimitBackend};
use crate::dashboard::DashboardCache;
use crate::documents::Documents;
use crate::executor::{Executor, ExecutorConfig};
use crate::export_gate::ExportGate;
use crate::fx::book::RateBook;
use crate::fx::cbr::{CbrConfig, CbrSource};
use crate::http::health_check::HealthCheck;
use crate::jobs::{ExchangeRateJob, Schedule};
use crate::quoting::Pricer;
use crate::quoting::amounts::AmountLimits;
use crate::quoting::gate::CalculationGate;
use crate::quoting::lookahead::Lookahead;
use crate::quoting::plugin_cache::PluginCache;
use crate::runtime::Runtime;
use crate::store::{self, Backend, PoolOptionsConfig, Store};
use anyhow::Context;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything the process shares. Cheap to clone: handlers take `State<AppState>`.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// The parts of the process, built once at start by [`App::start`].
pub struct App {
    /// The configuration the process started with.
    pub config: Config,
    /// Storage, chosen once from the database URL.
    pub store: Arc<dyn Store>,
    /// The plugin sandbox.
    pub runtime: Arc<Runtime>,
    /// Tells the caches below what changed; every write goes through it.
    pub changes: Arc<Changes>,
    /// Recently verified API keys.
    pub auth: Arc<AuthCache>,
    /// Notes each key's use for its `last_used_at` (written in the background).
    pub key_usage: KeyUsage,
    /// Prices quotes: plugins, exchange rates and the caps on calculations at once.
    pub pricer: Pricer,
    /// The queue of activity-log entries (its writer runs in the background).
    pub activity: ActivityLog,
    /// This host among the others on one PostgreSQL database (alone on SQLite).
    pub cluster: Arc<Cluster>,
    /// The rate limits shared by every host on Redis (`rate_limits.backend = "redis"`).
    pub shared_limits: Option<Arc<SharedLimits>>,
    /// Dashboard figures per organization.
    pub dashboard: Arc<DashboardCache>,
    /// Exports running per organization, capped.
    pub exports: ExportGate,
    /// Renders quote documents (PDF, XLSX), a few at a time.
    pub documents: Documents,
    /// The daily exchange-rate fetch (also run by `POST /api/exchange-rates/refresh`).
    pub exchange_rate_job: Arc<ExchangeRateJob>,
    /// When it runs.
    pub exchange_rate_schedule: Schedule,
    /// The recent database check `/api/health` answers from.
    pub health: HealthCheck,
    /// When the process started, for uptime.
    pub started_at: Instant,
}

/// Tasks `run` starts next to the HTTP server and stops after it.
pub struct Background {
    /// Writes the activity log's queue to the database.
    pub activity_writer: ActivityWriter,
    /// Writes the API keys' `last_used_at`.
    pub key_usage_writer: KeyUsageWriter,
    /// Hears other hosts' changes (PostgreSQL only).
    pub change_listener: Option<ChangeListener>,
}

impl App {
    /// Connects the store, applies migrations and starts the runtime.
    pub async fn start(config: Config) -> anyhow::Result<(Self, Background)> {
        config.dashboard.check().map_err(anyhow::Error::msg)?;
        let store = connect_store(&config).await?;
        store
            .migrate()
            .await
            .context("applying database migrations")?;
        let runtime =
            Runtime::new(config.runtime.clone()).context("starting the plugin runtime")?;
        let auth = Arc::new(AuthCache::new(
            config.auth.cache_entries,
            Duration::from_secs(config.auth.cache_ttl_s),
        ));
        let (key_usage, key_usage_writer) = KeyUsage::new(
            store.clone(),
            &UsageLimits {
                interval: Duration::from_secs(config.auth.last_used_interval_s),
                tracked_keys: config.auth.cache_entries,
                queue_capacity: config.auth.last_used_queue,
            },
        );
        let rates = &config.exchange_rates;
        let exchange_rates = Arc::new(RateBook::new(
            store.clone(),
            rates.cache_entries,
            Duration::from_secs(rates.cache_ttl_s),
        ));
        // A bad schedule fails the start even when the job is off: it would later.
        let exchange_rate_schedule = Schedule::parse(&rates.schedule, &rates.time_zone)
            .context("exchange_rates.schedule and exchange_rates.time_zone")?;
        let source = CbrSource::new(CbrConfig {
            base_url: rates.source_url.clone(),
            request_timeout: Duration::from_millis(rates.request_timeout_ms),
            retries: rates.retries,
            backoff_base: Duration::from_millis(rates.retry_backoff_ms),
            ..CbrConfig::default()
        })
        .context("exchange_rates.source_url")?;
        let exchange_rate_job = Arc::new(ExchangeRateJob::new(
            store.clone(),
            Arc::new(source),
            exchange_rates.clone(),
        ));
        let limits = &config.calculations;
        let executor = Executor::start(
            &ExecutorConfig {
                threads: limits.executor_threads as usize,
                max_calls: limits.executor_max_calls as usize,
                demote_after: Duration::from_millis(limits.demote_after_ms.max(1)),
                nice: limits.executor_nice,
            },
            runtime.preempter(),
            limits.tracked_orgs,
        )
        .context("starting the guest executor")?;
        let calculations = CalculationGate::new(
            limits.max_in_flight as usize,
            limits.max_in_flight_per_org as usize,
            Duration::from_millis(limits.queue_wait_ms),
            limits.tracked_orgs,
            executor,
        );
        let activity_config = &config.activity;
        let (activity, activity_writer) = ActivityLog::new(
            activity_config.queue_capacity,
            WriterConfig {
                batch_size: activity_config.batch_size,
                flush_interval: Duration::from_millis(activity_config.flush_interval_ms),
                max_backoff: Duration::from_millis(activity_config.max_retry_backoff_ms),
                shutdown_deadline: Duration::from_millis(config.http.shutdown_grace_ms),
            },
            store.clone(),
            config.http.max_echoed_text_bytes,
        );
        let dashboard = Arc::new(DashboardCache::new(
            config.dashboard.cache_entries,
            Duration::from_secs(config.dashboard.cache_ttl_s),
            config.dashboard.chart_months,
        ));
        let changes = Arc::new(Changes::new());
        changes.subscribe(auth.clone());
        changes.subscribe(dashboard.clone());
        changes.subscribe(exchange_rates.clone());
        let (cluster, change_listener) = match store.backend() {
            Backend::Postgres => {
                let (cluster, listener) =
                    Cluster::connect(&config.database.url, &config.cluster, changes.clone())
                        .await
                        .context("starting the change listener")?;
                (cluster, Some(listener))
            }
            _ => (Cluster::local(), None),
        };
        let shared_limits = match config.rate_limits.backend {
            RateLimitBackend::Redis => Some(Arc::new(
                SharedLimits::new(&config.rate_limits).context("rate_limits.redis_url")?,
            )),
            RateLimitBackend::Local => None,
        };
        let resolved_plugins = Arc::new(PluginCache::new(
            limits.plugin_cache_entries,
            Duration::from_secs(limits.plugin_cache_ttl_s),
        ));
        changes.subscribe(resolved_plugins.clone());
        let exports = ExportGate::new(config.http.max_exports_per_org as usize);
        let documents = Documents::new(config.documents.clone());
        let runtime = Arc::new(runtime);
        let amounts = AmountLimits {
            max_quantity: Decimal::from(limits.max_quantity),
            max_unit_price: Decimal::from(limits.max_unit_price),
            max_amount: Decimal::from(limits.max_amount),
        };
        let pricer = Pricer::new(
            store.clone(),
            runtime.clone(),
            exchange_rates,
            calculations,
            config.input_limits.clone(),
            amounts,
            Lookahead::new(
                limits.tracked_orgs,
                Duration::from_secs(limits.lookahead_interval_s.max(1)),
            ),
            resolved_plugins,
        );
        let health = HealthCheck::new(
            Duration::from_millis(config.http.health_check_max_age_ms),
            crate::http::DATABASE_PING_TIMEOUT,
        );
        let app = Self {
            config,
            store,
            runtime,
            changes,
            cluster: Arc::new(cluster),
            shared_limits,
            auth,
            key_usage,
            pricer,
            activity,
            dashboard,
            exports,
            documents,
            exchange_rate_job,
            exchange_rate_schedule,
            health,
            started_at: Instant::now(),
        };
        let background = Background {
            activity_writer,
            key_usage_writer,
            change_listener,
        };
        Ok((app, background))
    }
}

/// Opens the configured database.
pub async fn connect_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let database = &config.database;
    let options = PoolOptionsConfig {
        max_connections: database.max_connections,
        min_connections: database.min_connections,
        acquire_timeout: Duration::from_millis(database.acquire_timeout_ms),
        idle_timeout: Some(Duration::from_secs(database.idle_timeout_s)),
        statement_timeout: Some(Duration::from_millis(database.statement_timeout_ms)),
        ..PoolOptionsConfig::default()
    };
    store::connect(&database.url, &options)
        .await
        .with_context(|| format!("connecting to {}", crate::config::mask_url(&database.url)))
}
