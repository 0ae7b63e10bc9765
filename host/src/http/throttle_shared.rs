//! Throttling on Redis (`rate_limits.backend = "redis"`): the same classes, per-key
//! counting, `x-ratelimit-*` headers and `Retry-After` as the local limiter in
//! `throttle.rs`, but one counter per key shared by every host. Redis unreachable:
//! served unthrottled and counted (`fail_open`), or 503 `rate_limits_unavailable`.

use super::error::ApiError;
use crate::auth::Caller;
use crate::cluster::{SharedLimits, Verdict};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// One route class on the shared limiter.
#[derive(Clone)]
pub struct SharedClass {
    pub limits: Arc<SharedLimits>,
    pub name: &'static str,
    pub per_minute: u32,
}

/// The middleware: checks the request's client against its class before the handler.
pub async fn throttle_shared(
    State(class): State<SharedClass>,
    request: Request,
    next: Next,
) -> Response {
    let client = match request.extensions().get::<Arc<Caller>>() {
        Some(caller) => format!("key:{}", caller.key.id),
        None => match request.extensions().get::<ConnectInfo<SocketAddr>>() {
            Some(info) => format!("addr:{}", super::throttle::network_of(info.0.ip())),
            None => "addr:unknown".into(),
        },
    };
    let limit = class.per_minute.max(1);
    match class.limits.check(class.name, &client, limit, 1).await {
        Verdict::Allowed { remaining } => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
            response
        }
        Verdict::Refused { wait } => {
            metrics::counter!("rate_limit_rejections_total", "class" => class.name).increment(1);
            // Whole seconds, rounded up: a client that waits this long is not early.
            let retry_after = wait.as_secs() + 1;
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many {} requests; retry in {retry_after} s", class.name),
            )
            .into_response();
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(0));
            headers.insert("x-ratelimit-after", HeaderValue::from(retry_after));
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Verdict::TooCostly => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("the {} limit allows no request at all", class.name),
        )
        .into_response(),
        Verdict::Unavailable if class.limits.fail_open => next.run(request).await,
        Verdict::Unavailable => ApiError::unavailable(
            "rate_limits_unavailable",
            "the shared rate-limit store does not answer; retry shortly",
            1,
        )
        .into_response(),
    }
}
