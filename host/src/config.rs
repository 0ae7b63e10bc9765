//! Typed configuration in three layers: defaults, then an optional TOML file, then
//! `QUOTE_*` environment variables (`__` separates sections: `QUOTE_DATABASE__URL`).

pub use crate::cluster::ClusterConfig;
use crate::quoting::limits::InputLimits;
use crate::runtime::RuntimeConfig;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Folder for the SQLite file, compiled plugins and the first admin key. Default `./data`.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub runtime: RuntimeConfig,
    pub calculations: CalculationConfig,
    pub input_limits: InputLimits,
    pub rate_limits: RateLimitConfig,
    pub activity: ActivityConfig,
    pub dashboard: DashboardConfig,
    pub auth: AuthConfig,
    pub exchange_rates: ExchangeRateConfig,
    pub bootstrap: BootstrapConfig,
    pub documents: DocumentConfig,
    pub console: crate::console::ConsoleConfig,
    pub cluster: ClusterConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database: DatabaseConfig::default(),
            http: HttpConfig::default(),
            runtime: RuntimeConfig::default(),
            calculations: CalculationConfig::default(),
            input_limits: InputLimits::default(),
            rate_limits: RateLimitConfig::default(),
            activity: ActivityConfig::default(),
            dashboard: DashboardConfig::default(),
            auth: AuthConfig::default(),
            exchange_rates: ExchangeRateConfig::default(),
            bootstrap: BootstrapConfig::default(),
            documents: DocumentConfig::default(),
            console: crate::console::ConsoleConfig::default(),
            cluster: ClusterConfig::default(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database)
            .field("http", &self.http)
            .field("runtime", &self.runtime)
            .field("calculations", &self.calculations)
            .field("input_limits", &self.input_limits)
            .field("rate_limits", &self.rate_limits)
            .field("activity", &self.activity)
            .field("dashboard", &self.dashboard)
            .field("auth", &self.auth)
            .field("exchange_rates", &self.exchange_rates)
            .field("bootstrap", &self.bootstrap)
            .field("documents", &self.documents)
            .field("console", &self.console)
            .field("cluster", &self.cluster)
            .finish()
    }
}

impl Config {
    /// Defaults, then `file` if given, then the `QUOTE_*` environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let environment = Env::prefixed("QUOTE_")
            .split("__")
            .filter(|key| is_setting(key.as_str()));
        warn_about_unknown_variables();
        let config: Config = figment.merge(environment).extract().map_err(Box::new)?;
        Ok(config.resolved())
    }

    /// Fills what derives from `data_dir` when not set explicitly.
    fn resolved(mut self) -> Self {
        if self.database.url.is_empty() {
            self.database.url =
                format!("sqlite://{}", self.data_dir.join("quote-host.db").display());
        }
        if self.runtime.artifact_dir == RuntimeConfig::default().artifact_dir {
            self.runtime.artifact_dir = Some(self.data_dir.join("plugin-cache"));
        }
        self
    }
}

/// The sections and top-level settings `QUOTE_*` variables may set.
const TOP_LEVEL_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database",
    "http",
    "runtime",
    "calculations",
    "input_limits",
    "rate_limits",
    "activity",
    "dashboard",
    "auth",
    "exchange_rates",
    "bootstrap",
    "documents",
    "console",
];

/// `QUOTE_DATABASE__URL` is a setting; `QUOTE_LOG`, `QUOTE_CONFIG` or a test's
/// `QUOTE_TEST_POSTGRES_URL` are not.
fn is_setting(key: &str) -> bool {
    // figment may hand the key over already split ("database.url") or not ("DATABASE__URL").
    let first = key.split("__").next().unwrap_or(key);
    let first = first
        .split('.')
        .next()
        .unwrap_or(first)
        .to_ascii_lowercase();
    TOP_LEVEL_KEYS.contains(&first.as_str())
}

/// Variables that look like settings but are not (a typo) are worth a warning.
fn warn_about_unknown_variables() {
    const NOT_SETTINGS: &[&str] = &["LOG", "CONFIG"];
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let Some(key) = name.strip_prefix("QUOTE_") else {
            continue;
        };
        if !is_setting(key) && !NOT_SETTINGS.contains(&key) && !key.starts_with("TEST_") {
            tracing::warn!(
                variable = name,
                "ignoring an environment variable that is not a quote-host setting"
            );
        }
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://user:password@host/db`. Default: `sqlite://<data_dir>/quote-host.db`.
    pub url: String,
    /// Most connections in the pool. Default 10.
    pub max_connections: u32,
    /// Connections kept open when idle. Default 1.
    pub min_connections: u32,
    /// Longest wait for a free connection, in milliseconds. Default 5000.
    pub acquire_timeout_ms: u64,
    /// Idle connections are closed after this many seconds. Default 600.
    pub idle_timeout_s: u64,
    /// Longest a single statement may run, in milliseconds (PostgreSQL). Default 30000.
    pub statement_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 10,
            min_connections: 1,
            acquire_timeout_ms: 5_000,
            idle_timeout_s: 600,
            statement_timeout_ms: 30_000,
        }
    }
}

/// The URL with any password replaced by `***`.
pub fn mask_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &mask_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .field("idle_timeout_s", &self.idle_timeout_s)
            .field("statement_timeout_ms", &self.statement_timeout_ms)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest request body, in bytes. Default 10 MiB.
    pub max_body_bytes: usize,
    /// Largest plugin upload, in bytes. Default 5 MiB.
    pub max_upload_bytes: usize,
    /// How long in-flight requests may take to finish after a shutdown signal, in ms. Default 30000.
    pub shutdown_grace_ms: u64,
    /// Most rows a list endpoint returns (`limit` may not exceed it) and most
    /// differences a verification lists. Default 100.
    pub max_page_size: u32,
    /// Rows a list endpoint returns without `limit`. Default 20.
    pub default_page_size: u32,
    /// Longest user or plugin text repeated in an error message or an activity entry,
    /// in bytes; longer text is cut on a character boundary and marked with `…`. Default 512.
    pub max_echoed_text_bytes: usize,
    /// How long a response write may stay blocked on a client that reads nothing before
    /// the connection is closed (a stalled export, for one), in ms. Default 30000.
    pub write_timeout_ms: u64,
    /// Exports an organization may run at once; one more answers 429
    /// `too_many_exports`. Default 2.
    pub max_exports_per_org: u32,
    /// Quotes an export reads per database round trip (1 to 10000): what a stalled
    /// export holds in memory is about this many quotes as stored text. Default 50.
    pub export_page_rows: u32,
    /// `GET /api/health` answers from a database check at most this old, in ms; one
    /// request checks while the others wait for it. 0 checks on every request. Default 1000.
    pub health_check_max_age_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 * 1024 * 1024,
            max_upload_bytes: 5 * 1024 * 1024,
            shutdown_grace_ms: 30_000,
            max_page_size: 100,
            default_page_size: 20,
            max_echoed_text_bytes: crate::text::DEFAULT_MAX_ECHOED_TEXT_BYTES,
            write_timeout_ms: 30_000,
            max_exports_per_org: 2,
            export_page_rows: 50,
            health_check_max_age_ms: 1_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalculationConfig {
    /// Calculations running at once in this process. Default 64.
    pub max_in_flight: u32,
    /// Calculations running at once per organization. Default 8.
    pub max_in_flight_per_org: u32,
    /// How long a calculation may wait before it starts running, in ms: for a slot and
    /// then for a thread of the guest executor. Past it, 503 `calculation_capacity`.
    /// Default 2000.
    pub queue_wait_ms: u64,
    /// Threads of the guest executor, apart from the HTTP runtime; 0 means one per core.
    /// Default 0.
    pub executor_threads: u32,
    /// Calls alive in the executor at once (queued, running, or waiting on a timer).
    /// Default 256.
    pub executor_max_calls: u32,
    /// Nice value (Linux; 0 to 19) a guest thread takes while it runs a demoted call (one
    /// that has run past `demote_after_ms`): the kernel then gives a core to fresh calls
    /// and to HTTP and database threads first. Fresh calls run at the process's own
    /// value; where raising a thread's priority back is not allowed (RLIMIT_NICE), the
    /// threads stay at this value for every call. 0 leaves priorities alone. Default 10.
    pub executor_nice: i32,
    /// Run time after which a call drops a feedback level, so fresh calls go first; it
    /// drops again at ten times this. In ms, at least 1. Default 5.
    pub demote_after_ms: u64,
    /// Organizations listed in the executor's queues in detailed health, and with
    /// their own fuel and CPU series in the metrics. Default 10.
    pub report_top_orgs: u32,
    /// Organizations whose in-flight counters are tracked at once. Default 10000.
    pub tracked_orgs: u64,
    /// Largest item quantity (absolute value) a calculation accepts. Default 10^9.
    pub max_quantity: u64,
    /// Largest item unit price (absolute value). Default 10^12.
    pub max_unit_price: u64,
    /// Largest amount of a result (absolute value): each line's unit price and total,
    /// the subtotal, tax and total. Default 10^15.
    pub max_amount: u64,
    /// Most stored quotes one replay re-prices (`last`, which defaults to 100). Default 1000.
    pub replay_max_quotes: u32,
    /// JSON-path differences a replay lists per changed quote. Default 5.
    pub replay_differences_per_quote: u32,
    /// Largest deltas a replay lists. Default 10.
    pub replay_largest_deltas: u32,
    /// How often, per organization, a calculation looks for scheduled activations to
    /// compile their versions ahead of the switch, in seconds (at least 1). Default 30.
    pub lookahead_interval_s: u64,
    /// Resolved plugin versions (with their parsed `describe`) kept in memory, by
    /// organization and plugin reference, so a warm calculation reads no database.
    /// Default 10000.
    pub plugin_cache_entries: u64,
    /// How long a resolved version is trusted, in seconds; a change on this host drops
    /// it at once, one on another host shows within this time. 0 turns the cache off.
    /// Default 60.
    pub plugin_cache_ttl_s: u64,
}

impl Default for CalculationConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 64,
            max_in_flight_per_org: 8,
            queue_wait_ms: 2_000,
            executor_threads: 0,
            executor_max_calls: 256,
            executor_nice: 10,
            demote_after_ms: 5,
            report_top_orgs: 10,
            tracked_orgs: 10_000,
            max_quantity: 1_000_000_000,
            max_unit_price: 1_000_000_000_000,
            max_amount: 1_000_000_000_000_000,
            replay_max_quotes: 1_000,
            replay_differences_per_quote: 5,
            replay_largest_deltas: 10,
            lookahead_interval_s: 30,
            plugin_cache_entries: 10_000,
            plugin_cache_ttl_s: 60,
        }
    }
}

/// Where the rate-limit counters live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitBackend {
    /// In this process: each host counts on its own.
    Local,
    /// On Redis: every host shares one counter per key and class.
    Redis,
}

/// Requests per minute per API key (per client address where there is no key).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Off for benchmarks. Default true.
    pub enabled: bool,
    /// Default 50.
    pub default_per_minute: u32,
    /// Calculate, create quote, recalculate, verify. Default 10.
    pub calculate_per_minute: u32,
    /// Plugin upload and rate refresh. Default 5.
    pub upload_per_minute: u32,
    /// Quote export. Default 20.
    pub export_per_minute: u32,
    /// Client addresses tracked per route class; past it, new addresses share one
    /// bucket. Idle entries are pruned every 30 s. Default 100000.
    pub max_tracked_keys: usize,
    /// `local` (default: one host, nothing to install) or `redis` (shared by every host).
    pub backend: RateLimitBackend,
    /// Redis for `backend = "redis"`. Default `redis://127.0.0.1:6379`.
    pub redis_url: String,
    /// Prefix of every Redis key this host writes. Default `quote-host:`.
    pub redis_prefix: String,
    /// Longest a Redis check may take before it counts as Redis unreachable, in ms.
    /// Default 250.
    pub redis_timeout_ms: u64,
    /// With Redis unreachable: serve unthrottled (true, default) or answer 503
    /// `rate_limits_unavailable` (false).
    pub fail_open: bool,
}

impl std::fmt::Debug for RateLimitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitConfig")
            .field("enabled", &self.enabled)
            .field("default_per_minute", &self.default_per_minute)
            .field("calculate_per_minute", &self.calculate_per_minute)
            .field("upload_per_minute", &self.upload_per_minute)
            .field("export_per_minute", &self.export_per_minute)
            .field("max_tracked_keys", &self.max_tracked_keys)
            .field("backend", &self.backend)
            .field("redis_url", &mask_url(&self.redis_url))
            .field("redis_prefix", &self.redis_prefix)
            .field("redis_timeout_ms", &self.redis_timeout_ms)
            .field("fail_open", &self.fail_open)
            .finish()
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            default_per_minute: 50,
            calculate_per_minute: 10,
            upload_per_minute: 5,
            export_per_minute: 20,
            max_tracked_keys: 100_000,
            backend: RateLimitBackend::Local,
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_prefix: "quote-host:".into(),
            redis_timeout_ms: 250,
            fail_open: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivityConfig {
    /// Entries waiting to be written; beyond it entries are dropped and counted. Default 10000.
    pub queue_capacity: usize,
    /// Entries written per insert. Default 500.
    pub batch_size: usize,
    /// Longest an entry waits before a write, in ms. Default 5000.
    pub flush_interval_ms: u64,
    /// Longest pause between retries of a failed write, in ms. Default 30000.
    pub max_retry_backoff_ms: u64,
}

impl Default for ActivityConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 10_000,
            batch_size: 500,
            flush_interval_ms: 5_000,
            max_retry_backoff_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardConfig {
    /// Organizations whose stats are cached. Default 10000.
    pub cache_entries: u64,
    /// How long cached stats live, in seconds. Default 300.
    pub cache_ttl_s: u64,
    /// Calendar months (UTC, the current one included) of accepted totals in the stats'
    /// `accepted_by_month` and the console's chart, 1 to 36; anything else is refused at
    /// start-up. Default 12.
    pub chart_months: u32,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            cache_entries: 10_000,
            cache_ttl_s: 300,
            chart_months: 12,
        }
    }
}

impl DashboardConfig {
    /// Why this section cannot be used, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        let range = crate::dashboard::CHART_MONTHS;
        if range.contains(&self.chart_months) {
            return Ok(());
        }
        Err(format!(
            "dashboard.chart_months must be {} to {}, got {}",
            range.start(),
            range.end(),
            self.chart_months
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// API keys remembered after a lookup. Default 10000.
    pub cache_entries: u64,
    /// How long a remembered key is trusted without asking the database, in seconds.
    /// (A revocation on any host drops it at once: see `[cluster]`.) Default 30.
    pub cache_ttl_s: u64,
    /// Shortest time between two writes of a key's `last_used_at`, in seconds (at
    /// least 1); uses in between are not written. Default 60.
    pub last_used_interval_s: u64,
    /// Key uses waiting to be written to `last_used_at`; a use that finds the queue
    /// full is not recorded (a later one is). Default 1024.
    pub last_used_queue: usize,
    /// Unrevoked API keys an organization may hold; creating one more answers 409
    /// `api_key_limit_reached`. Default 100.
    pub max_keys_per_organization: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            cache_entries: 10_000,
            cache_ttl_s: 30,
            last_used_interval_s: 60,
            last_used_queue: 1024,
            max_keys_per_organization: 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeRateConfig {
    /// Run the scheduled fetch. Default true.
    pub enabled: bool,
    /// The Central Bank of Russia daily XML endpoint.
    pub source_url: String,
    /// Cron expression with seconds (tokio-cron-scheduler). Default `0 0 10 * * *`.
    pub schedule: String,
    /// Time zone of the schedule. Default `Europe/Moscow`.
    pub time_zone: String,
    /// Fetch once at start when the newest rates are older than the last scheduled run. Default true.
    pub fetch_on_start: bool,
    /// Per-request timeout, in ms. Default 15000.
    pub request_timeout_ms: u64,
    /// Retries after a failed attempt. Default 3.
    pub retries: u32,
    /// First retry delay, doubled each time, in ms. Default 500.
    pub retry_backoff_ms: u64,
    /// Rate lookups cached in memory. Default 10000.
    pub cache_entries: u64,
    /// How long a cached lookup is trusted, in seconds; a fetch on this host clears the
    /// cache at once, one on another host shows here within this time. Default 300.
    pub cache_ttl_s: u64,
}

impl Default for ExchangeRateConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            source_url: "https://www.cbr.ru/scripts/XML_daily.asp".into(),
            schedule: "0 0 10 * * *".into(),
            time_zone: "Europe/Moscow".into(),
            fetch_on_start: true,
            request_timeout_ms: 15_000,
            retries: 3,
            retry_backoff_ms: 500,
            cache_entries: 10_000,
            cache_ttl_s: 300,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapConfig {
    /// On an empty database, create this organization with an admin key and the
    /// standard plugin. Empty disables it. Default `demo`.
    pub organization: String,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            organization: "demo".into(),
        }
    }
}

/// Quote documents (PDF, XLSX) and the branding that goes on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocumentConfig {
    /// Most lines a quote may have to get a document. Default 10000.
    pub max_lines: usize,
    /// Most distinct breakdown fields across a quote's lines (columns of the XLSX
    /// breakdown sheet). Default 100.
    pub max_breakdown_columns: usize,
    /// Documents rendered at once in this process (each on a blocking thread). Default 2.
    pub max_concurrent_renders: usize,
    /// How long a request waits for a free render slot before a 503, in ms. Default 2000.
    pub render_wait_ms: u64,
    /// Largest logo, in bytes of PNG. Default 256 KiB.
    pub max_logo_bytes: usize,
    /// Largest logo width and height, in pixels. Default 2048.
    pub max_logo_pixels: u32,
    /// Longest footer text, in characters. Default 500.
    pub max_footer_chars: usize,
}

impl Default for DocumentConfig {
    fn default() -> Self {
        Self {
            max_lines: 10_000,
            max_breakdown_columns: 100,
            max_concurrent_renders: 2,
            render_wait_ms: 2_000,
            max_logo_bytes: 256 * 1024,
            max_logo_pixels: 2048,
            max_footer_chars: 500,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_sections_come_from_the_environment() {
        assert!(is_setting("DATABASE__URL"));
        assert!(is_setting("database.url"));
        assert!(is_setting("LISTEN"));
        assert!(!is_setting("TEST_POSTGRES_URL"));
        assert!(!is_setting("LOG"));
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_url("postgres://app:s3cret@db:5432/quotes"),
            "postgres://app:***@db:5432/quotes"
        );
        assert_eq!(mask_url("sqlite://./data/q.db"), "sqlite://./data/q.db");
        let config = DatabaseConfig {
            url: "postgres://app:s3cret@db/q".into(),
            ..Default::default()
        };
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
