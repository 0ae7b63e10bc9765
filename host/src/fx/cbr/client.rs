//! HTTP client for the CBR daily rates service, with timeouts and retries.
//!
//! Retry policy: an attempt is retried (up to [`CbrConfig::retries`] more times,
//! waiting `backoff_base * 2^(n-1)` before retry `n`, capped at `backoff_max`,
//! without jitter) when it failed transiently: HTTP 5xx, 408 or 429, a timeout,
//! or a transport error (DNS, refused or reset connection, TLS, broken body).
//! Any other HTTP status (4xx, or a 3xx left after redirects) and a body that does
//! not decode or parse are returned at once: asking again would get the same answer.

use std::error::Error as _;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use reqwest::{Client, Url};

use super::parse::parse_daily;
use crate::fx::source::{DailyRates, RateSource, RateSourceError};

/// The CBR daily rates endpoint.
pub const DEFAULT_BASE_URL: &str = "https://www.cbr.ru/scripts/XML_daily.asp";

/// Largest response body accepted (a real one is about 8 KiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Settings of a [`CbrSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CbrConfig {
    /// Endpoint URL, `http` or `https`; `date_req` is appended to its query.
    pub base_url: String,
    /// Limit on one attempt, from connecting until the body is read.
    pub request_timeout: Duration,
    /// Limit on establishing the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Extra attempts after the first one fails transiently (0 = try once).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further retry.
    pub backoff_base: Duration,
    /// Upper bound on the wait between two attempts.
    pub backoff_max: Duration,
    /// `User-Agent` header sent with every request.
    pub user_agent: String,
}

impl Default for CbrConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            retries: 3,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            user_agent: concat!("quote-host/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Fetches official daily rates from the Central Bank of Russia.
///
/// Holds one [`reqwest::Client`] (and so one connection pool) for its lifetime.
#[derive(Debug, Clone)]
pub struct CbrSource {
    client: Client,
    base_url: Url,
    config: CbrConfig,
}

impl CbrSource {
    /// Builds the source and its HTTP client.
    ///
    /// # Errors
    ///
    /// [`RateSourceError::Config`] when the base URL is not an absolute `http` or
    /// `https` URL, the user agent is not a valid header value, or the HTTP client
    /// cannot be built.
    pub fn new(config: CbrConfig) -> Result<Self, RateSourceError> {
        let base_url = Url::parse(&config.base_url)
            .map_err(|e| RateSourceError::Config(format!("base URL {:?}: {e}", config.base_url)))?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(RateSourceError::Config(format!(
                "base URL {:?} is not http or https",
                config.base_url
            )));
        }
        let client = Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.as_str())
            .build()
            .map_err(|e| RateSourceError::Config(format!("HTTP client: {}", chain(&e))))?;
        Ok(Self {
            client,
            base_url,
            config,
        })
    }

    /// The settings this source was built with.
    pub fn config(&self) -> &CbrConfig {
        &self.config
    }

    /// The URL fetched for `date`: the base URL, plus `date_req=DD/MM/YYYY` when
    /// a date is given (slashes unescaped, as the CBR documents it).
    #[must_use]
    pub fn url_for(&self, date: Option<NaiveDate>) -> Url {
        let mut url = self.base_url.clone();
        if let Some(date) = date {
            let param = format!(
                "date_req={:02}/{:02}/{:04}",
                date.day(),
                date.month(),
                date.year()
            );
            let query = match url.query() {
                Some(existing) if !existing.is_empty() => format!("{existing}&{param}"),
                _ => param,
            };
            url.set_query(Some(&query));
        }
        url
    }

    /// One request: status check, size-limited body read, parse.
    async fn attempt(&self, url: &Url) -> Result<DailyRates, RateSourceError> {
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(from_reqwest)?;
        let status = response.status();
        if !status.is_success() {
            return Err(RateSourceError::Http {
                status: status.as_u16(),
            });
        }
        let too_large = || {
            RateSourceError::Malformed(format!("response body larger than {MAX_BODY_BYTES} bytes"))
        };
        if response
            .content_length()
            .is_some_and(|len| len > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(from_reqwest)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        parse_daily(&body)
    }
}

#[async_trait]
impl RateSource for CbrSource {
    fn name(&self) -> &str {
        "cbr"
    }

    async fn fetch(&self, date: Option<NaiveDate>) -> Result<DailyRates, RateSourceError> {
        let url = self.url_for(date);
        let attempts = self.config.retries.saturating_add(1);
        let mut attempt = 1;
        loop {
            match self.attempt(&url).await {
                Ok(daily) => {
                    tracing::debug!(
                        source = "cbr",
                        %url,
                        attempt,
                        rates_date = %daily.date,
                        currencies = daily.rates.len(),
                        "fetched CBR daily rates"
                    );
                    return Ok(daily);
                }
                Err(error) => {
                    let retry = attempt < attempts && is_transient(&error);
                    let delay = retry.then(|| backoff_delay(&self.config, attempt));
                    tracing::warn!(
                        source = "cbr",
                        %url,
                        attempt,
                        max_attempts = attempts,
                        retry_in_ms = delay.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                        %error,
                        "CBR rates fetch attempt failed"
                    );
                    let Some(delay) = delay else {
                        return Err(error);
                    };
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }
}

/// Whether a failed attempt may succeed if repeated (see the module docs).
fn is_transient(error: &RateSourceError) -> bool {
    match error {
        RateSourceError::Http { status } => *status >= 500 || matches!(status, 408 | 429),
        RateSourceError::Timeout(_) | RateSourceError::Transport(_) => true,
        RateSourceError::Encoding(_)
        | RateSourceError::Malformed(_)
        | RateSourceError::Config(_) => false,
    }
}

/// Wait before retry number `retry` (1-based): `base * 2^(retry-1)`, at most `max`.
fn backoff_delay(config: &CbrConfig, retry: u32) -> Duration {
    let factor = 1u32 << retry.saturating_sub(1).min(20);
    config
        .backoff_base
        .saturating_mul(factor)
        .min(config.backoff_max)
}

fn from_reqwest(error: reqwest::Error) -> RateSourceError {
    if error.is_timeout() {
        RateSourceError::Timeout(chain(&error))
    } else {
        RateSourceError::Transport(chain(&error))
    }
}

/// An error and its sources, joined with `": "` (reqwest's own message is terse).
fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
