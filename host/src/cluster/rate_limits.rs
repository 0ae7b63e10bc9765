//! Rate limits shared by every host, on Redis: one GCRA bucket per client and route
//! class, checked and charged atomically by one Lua script on Redis's clock. Redis
//! unreachable is an outcome, not an error: the caller fails open or closed.

use crate::config::RateLimitConfig;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// GCRA: KEYS[1] holds the bucket's theoretical arrival time (ms, Redis clock).
/// ARGV: emission interval ms, burst, cost. Returns {allowed (1/0/-1), wait ms, remaining}.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
if cost > burst then return {-1, 0, 0} end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * cost
local allow_at = new_tat - interval * burst
if allow_at > now then
  local remaining = math.max(0, math.floor((now - (tat - interval * burst)) / interval))
  return {0, allow_at - now, remaining}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, new_tat - now))
return {1, 0, math.floor((now - allow_at) / interval)}
";

/// How often a host retries connecting to Redis while it is unreachable.
const RECONNECT_GAP: Duration = Duration::from_secs(1);

/// What a check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted; this many more fit now.
    Allowed { remaining: u64 },
    /// Over the limit; retry after this long.
    Refused { wait: Duration },
    /// More than the limit allows at all.
    TooCostly,
    /// Redis did not answer in time.
    Unavailable,
}

/// The `rate_limits` part of health's `cluster` section.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RateLimitHealth {
    /// `local` or `redis`.
    pub backend: &'static str,
    /// Whether the last Redis check answered (always true for `local`).
    pub reachable: bool,
    /// Checks Redis did not answer in time, since start.
    pub failures: u64,
    /// Whether requests are served unthrottled while Redis is unreachable.
    pub fail_open: bool,
}

/// The connection to Redis and the script.
pub struct SharedLimits {
    client: redis::Client,
    connection: Mutex<(Option<ConnectionManager>, Option<Instant>)>,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    pub fail_open: bool,
    reachable: AtomicBool,
    failures: AtomicU64,
}

impl SharedLimits {
    /// Prepares the client; the connection is made on first use (and remade after a loss),
    /// so a host starts even while Redis is down.
    pub fn new(config: &RateLimitConfig) -> anyhow::Result<Self> {
        let client = redis::Client::open(config.redis_url.as_str())?;
        Ok(Self {
            client,
            connection: Mutex::new((None, None)),
            script: redis::Script::new(GCRA),
            prefix: config.redis_prefix.clone(),
            timeout: Duration::from_millis(config.redis_timeout_ms.max(1)),
            fail_open: config.fail_open,
            reachable: AtomicBool::new(true),
            failures: AtomicU64::new(0),
        })
    }

    /// Charges `cost` requests of `class` (limit `per_minute`) to `client`.
    pub async fn check(&self, class: &str, client: &str, per_minute: u32, cost: u32) -> Verdict {
        let per_minute = per_minute.max(1);
        let interval_ms = (60_000 / u64::from(per_minute)).max(1);
        let key = format!("{}rl:{class}:{client}", self.prefix);
        let answer = tokio::time::timeout(self.timeout, async {
            let mut connection = self.connection().await?;
            self.script
                .key(key)
                .arg(interval_ms)
                .arg(per_minute)
                .arg(cost)
                .invoke_async::<(i64, i64, i64)>(&mut connection)
                .await
                .ok()
        })
        .await
        .ok()
        .flatten();
        let Some((allowed, wait_ms, remaining)) = answer else {
            self.failed().await;
            return Verdict::Unavailable;
        };
        self.reachable.store(true, Ordering::Relaxed);
        metrics::gauge!("rate_limit_backend_up").set(1.0);
        match allowed {
            1 => Verdict::Allowed {
                remaining: remaining.max(0) as u64,
            },
            0 => Verdict::Refused {
                wait: Duration::from_millis(wait_ms.max(0) as u64),
            },
            _ => Verdict::TooCostly,
        }
    }

    /// Pings Redis (bounded by the timeout) so health tells the state now, then reports.
    pub async fn health(&self) -> RateLimitHealth {
        let answered = tokio::time::timeout(self.timeout, async {
            let mut connection = self.connection().await?;
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .ok()
        })
        .await
        .ok()
        .flatten()
        .is_some();
        match answered {
            true => self.reachable.store(true, Ordering::Relaxed),
            false => self.reachable.store(false, Ordering::Relaxed),
        }
        metrics::gauge!("rate_limit_backend_up").set(if answered { 1.0 } else { 0.0 });
        RateLimitHealth {
            backend: "redis",
            reachable: self.reachable.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            fail_open: self.fail_open,
        }
    }

    /// The managed connection, connecting at most once per [`RECONNECT_GAP`].
    async fn connection(&self) -> Option<ConnectionManager> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = &slot.0 {
            return Some(connection.clone());
        }
        if slot.1.is_some_and(|tried| tried.elapsed() < RECONNECT_GAP) {
            return None;
        }
        slot.1 = Some(Instant::now());
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_with_config(self.client.clone(), config)
            .await
            .ok()?;
        slot.0 = Some(connection.clone());
        Some(connection)
    }

    async fn failed(&self) {
        self.reachable.store(false, Ordering::Relaxed);
        self.failures.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("rate_limit_backend_failures_total").increment(1);
        metrics::gauge!("rate_limit_backend_up").set(0.0);
    }
}
