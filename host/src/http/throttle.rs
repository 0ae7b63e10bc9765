//! Throttling: requests per minute per route class (tower_governor), keyed by API key,
//! or by client address for requests without a valid key. Over the limit: 429 in the
//! common error shape with `Retry-After`; every answer carries `x-ratelimit-limit` and
//! `x-ratelimit-remaining`. These limits are per host; `throttle_shared.rs` shares them
//! across hosts on Redis. The
//! classes are built here from `config.rate_limits`, and [`ThrottleClasses::prune_until`]
//! keeps their key maps bounded.

use super::error::ApiError;
use crate::auth::Caller;
use crate::config::RateLimitConfig;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use governor::middleware::StateInformationMiddleware;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tower_governor::GovernorError;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use uuid::Uuid;

/// How often the limiters forget idle clients.
const PRUNE_INTERVAL: Duration = Duration::from_secs(30);

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    ApiKey(Uuid),
    /// An IPv4 address, or the /64 network of an IPv6 one.
    Address(IpAddr),
    /// Every address once too many are tracked: unauthenticated floods share one bucket.
    Overflow,
}

type Limiter = tower_governor::governor::SharedRateLimiter<ThrottleKey, StateInformationMiddleware>;

#[derive(Clone)]
pub struct ClientKey {
    limiter: Arc<OnceLock<Limiter>>,
    max_tracked: usize,
}

impl KeyExtractor for ClientKey {
    type Key = ThrottleKey;

    fn extract<T>(&self, request: &Request<T>) -> Result<ThrottleKey, GovernorError> {
        if let Some(caller) = request.extensions().get::<Arc<Caller>>() {
            return Ok(ThrottleKey::ApiKey(caller.key.id));
        }
        // Past the cap, every address shares one bucket until pruning frees room: the
        // map holds at most the cap, the address that crossed it and the overflow bucket.
        if self
            .limiter
            .get()
            .is_some_and(|limiter| limiter.len() > self.max_tracked)
        {
            return Ok(ThrottleKey::Overflow);
        }
        let address = request
            .extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
            .ok_or(GovernorError::UnableToExtractKey)?;
        Ok(ThrottleKey::Address(network_of(address)))
    }
}

pub(super) fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            IpAddr::from([
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            ])
        }
        v4 => v4,
    }
}

/// A route class's limit and the layer enforcing it.
pub struct ThrottleClass {
    pub name: &'static str,
    /// The class's limit (also what the shared limiter on Redis enforces).
    pub per_minute: u32,
    pub limiter: Limiter,
    layer: tower_governor::GovernorLayer<ClientKey, StateInformationMiddleware, Body>,
}

impl ThrottleClass {
    /// `per_minute` requests a minute, all of them usable as a burst.
    pub fn new(name: &'static str, per_minute: u32, config: &RateLimitConfig) -> Self {
        let per_minute = per_minute.max(1);
        let slot = Arc::new(OnceLock::new());
        let extractor = ClientKey {
            limiter: slot.clone(),
            max_tracked: config.max_tracked_keys,
        };
        let governor = GovernorConfigBuilder::default()
            .period(Duration::from_secs(60) / per_minute)
            .burst_size(per_minute)
            .key_extractor(extractor)
            .use_headers()
            .finish()
            .expect("period and burst are positive");
        let limiter = governor.limiter().clone();
        let _ = slot.set(limiter.clone());
        let layer = tower_governor::GovernorLayer::new(governor)
            .error_handler(move |error| rejection(name, error));
        Self {
            name,
            per_minute,
            limiter,
            layer,
        }
    }

    pub fn layer(
        &self,
    ) -> tower_governor::GovernorLayer<ClientKey, StateInformationMiddleware, Body> {
        self.layer.clone()
    }

    /// Forgets keys whose bucket is full again (idle for a minute): bounds the map.
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        metrics::gauge!("rate_limit_tracked_keys", "class" => self.name)
            .set(self.limiter.len() as f64);
    }
}

/// A class's limiter, for a route whose cost grows with its input (a replay of N quotes
/// counts as N calculations): the handler charges the rest once it knows the cost.
/// Routes carry it as a request extension while throttling is on.
#[derive(Clone)]
pub struct CostCharge {
    class: &'static str,
    limiter: Limiter,
}

impl CostCharge {
    /// The charge of `class`.
    pub fn of(class: &ThrottleClass) -> Self {
        Self {
            class: class.name,
            limiter: class.limiter.clone(),
        }
    }

    /// Counts `requests` more requests of the class against `api_key`; over the limit a
    /// 429 (`rate_limited`, with `Retry-After`), and nothing is counted.
    pub fn charge(&self, api_key: Uuid, requests: u32) -> Result<(), ApiError> {
        use governor::clock::Clock;
        let Some(requests) = std::num::NonZeroU32::new(requests) else {
            return Ok(());
        };
        let class = self.class;
        match self
            .limiter
            .check_key_n(&ThrottleKey::ApiKey(api_key), requests)
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(not_until)) => {
                metrics::counter!("rate_limit_rejections_total", "class" => class).increment(1);
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                let retry_after = wait.as_secs() + 1;
                let mut error = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!(
                        "this costs {requests} {class} requests, more than remain this minute; \
                         retry in {retry_after} s or ask for fewer"
                    ),
                );
                error.retry_after = Some(retry_after);
                Err(error)
            }
            Err(_) => Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "this costs {requests} {class} requests, more than the per-minute limit \
                     allows at all; ask for fewer"
                ),
            )),
        }
    }
}

fn rejection(class: &'static str, error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, headers } => {
            metrics::counter!("rate_limit_rejections_total", "class" => class).increment(1);
            // tower_governor rounds the wait down to whole seconds; a client that waits
            // that long may still be early, so round up instead.
            let retry_after = wait_time + 1;
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many {class} requests; retry in {retry_after} s"),
            )
            .into_response();
            if let Some(headers) = headers {
                response.headers_mut().extend(headers);
            }
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
                .headers_mut()
                .insert("x-ratelimit-after", HeaderValue::from(retry_after));
            response
        }
        GovernorError::UnableToExtractKey => {
            ApiError::internal("rate limiting could not identify the client").into_response()
        }
        GovernorError::Other { code, msg, .. } => ApiError::new(
            code,
            "rate_limited",
            msg.unwrap_or_else(|| "rate limited".into()),
        )
        .into_response(),
    }
}

/// The four route classes of the API.
pub struct ThrottleClasses {
    /// Everything not in another class.
    pub default: ThrottleClass,
    /// Routes that run a plugin.
    pub calculate: ThrottleClass,
    /// Plugin uploads and the exchange-rate refresh.
    pub upload: ThrottleClass,
    /// The CSV export.
    pub export: ThrottleClass,
}

impl ThrottleClasses {
    /// The classes with the configured limits.
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            default: ThrottleClass::new("default", config.default_per_minute, config),
            calculate: ThrottleClass::new("calculate", config.calculate_per_minute, config),
            upload: ThrottleClass::new("upload", config.upload_per_minute, config),
            export: ThrottleClass::new("export", config.export_per_minute, config),
        }
    }

    /// Forgets idle clients of every class.
    pub fn prune(&self) {
        for class in [&self.default, &self.calculate, &self.upload, &self.export] {
            class.prune();
        }
    }

    /// Prunes every [`PRUNE_INTERVAL`] until `stopping` fires.
    pub async fn prune_until(&self, stopping: CancellationToken) {
        let mut ticks = tokio::time::interval(PRUNE_INTERVAL);
        loop {
            tokio::select! {
                _ = ticks.tick() => self.prune(),
                () = stopping.cancelled() => return,
            }
        }
    }
}
