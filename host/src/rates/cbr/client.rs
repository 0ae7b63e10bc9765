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
use crate::rates::source::{DailyRates, RateSource, RateSourceError};

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
mod tests {
    use super::*;
    use std::str::FromStr;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use rust_decimal::Decimal;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// Byte-exact CBR response for 02.11.2023 (windows-1251, one line).
    const FIXTURE: &[u8] = include_bytes!("../../../../fixtures/cbr/XML_daily_2023-11-02.xml");

    /// What the test server does with the n-th request.
    #[derive(Clone)]
    enum Reply {
        /// 200 with this body.
        Body(&'static [u8]),
        /// This status with a short text body.
        Status(u16),
        /// Read the request, then never answer.
        Hang,
    }

    /// A one-purpose HTTP/1.1 server on 127.0.0.1: request `n` gets `replies[n]`
    /// (the last reply repeats). Records each request's head.
    struct TestServer {
        url: String,
        requests: Arc<Mutex<Vec<String>>>,
    }

    impl TestServer {
        async fn start(replies: Vec<Reply>) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!(
                "http://{}/scripts/XML_daily.asp",
                listener.local_addr().unwrap()
            );
            let requests = Arc::new(Mutex::new(Vec::new()));
            let seen = Arc::clone(&requests);
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let seen = Arc::clone(&seen);
                    let replies = replies.clone();
                    tokio::spawn(async move {
                        handle(stream, seen, replies).await;
                    });
                }
            });
            Self { url, requests }
        }

        fn requests(&self) -> Vec<String> {
            self.requests.lock().unwrap().clone()
        }

        fn config(&self) -> CbrConfig {
            CbrConfig {
                base_url: self.url.clone(),
                request_timeout: Duration::from_secs(5),
                connect_timeout: Duration::from_secs(2),
                retries: 2,
                backoff_base: Duration::from_millis(10),
                backoff_max: Duration::from_millis(50),
                user_agent: "quote-host-test/1".to_owned(),
            }
        }
    }

    async fn handle(mut stream: TcpStream, seen: Arc<Mutex<Vec<String>>>, replies: Vec<Reply>) {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let index = {
            let mut seen = seen.lock().unwrap();
            seen.push(String::from_utf8_lossy(&head).into_owned());
            seen.len() - 1
        };
        let reply = replies[index.min(replies.len() - 1)].clone();
        let (status, body): (u16, &[u8]) = match reply {
            Reply::Body(body) => (200, body),
            Reply::Status(status) => (status, b"error"),
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                return;
            }
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/xml; charset=windows-1251\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(body).await;
        let _ = stream.shutdown().await;
    }

    fn request_line(head: &str) -> &str {
        head.lines().next().unwrap()
    }

    #[tokio::test]
    async fn serves_fixture() {
        let server = TestServer::start(vec![Reply::Body(FIXTURE)]).await;
        let source = CbrSource::new(server.config()).unwrap();
        assert_eq!(source.name(), "cbr");
        let daily = source.fetch(None).await.unwrap();
        assert_eq!(daily.date, NaiveDate::from_ymd_opt(2023, 11, 2).unwrap());
        assert_eq!(daily.rates.len(), 43);
        assert_eq!(
            daily.get("JPY").unwrap().per_unit,
            Decimal::from_str("0.616524").unwrap()
        );
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(
            request_line(&requests[0]),
            "GET /scripts/XML_daily.asp HTTP/1.1"
        );
        assert!(
            requests[0]
                .to_ascii_lowercase()
                .contains("user-agent: quote-host-test/1\r\n"),
            "{}",
            requests[0]
        );
    }

    #[tokio::test]
    async fn sends_date_req() {
        let server = TestServer::start(vec![Reply::Body(FIXTURE)]).await;
        let source = CbrSource::new(server.config()).unwrap();
        let asked = NaiveDate::from_ymd_opt(2023, 11, 2).unwrap();
        source.fetch(Some(asked)).await.unwrap();
        assert_eq!(
            request_line(&server.requests()[0]),
            "GET /scripts/XML_daily.asp?date_req=02/11/2023 HTTP/1.1"
        );
    }

    #[tokio::test]
    async fn response_date_may_differ_from_requested() {
        let server = TestServer::start(vec![Reply::Body(FIXTURE)]).await;
        let source = CbrSource::new(server.config()).unwrap();
        let sunday = NaiveDate::from_ymd_opt(2023, 11, 5).unwrap();
        let daily = source.fetch(Some(sunday)).await.unwrap();
        assert_eq!(daily.date, NaiveDate::from_ymd_opt(2023, 11, 2).unwrap());
        assert!(request_line(&server.requests()[0]).contains("date_req=05/11/2023 "));
    }

    #[tokio::test]
    async fn retries_after_500() {
        let server = TestServer::start(vec![Reply::Status(500), Reply::Body(FIXTURE)]).await;
        let source = CbrSource::new(server.config()).unwrap();
        let daily = source.fetch(None).await.unwrap();
        assert_eq!(daily.rates.len(), 43);
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn gives_up_after_all_attempts_fail() {
        let server = TestServer::start(vec![Reply::Status(503)]).await;
        let source = CbrSource::new(CbrConfig {
            retries: 3,
            ..server.config()
        })
        .unwrap();
        let error = source.fetch(None).await.unwrap_err();
        assert_eq!(error, RateSourceError::Http { status: 503 });
        assert_eq!(server.requests().len(), 4);
    }

    #[tokio::test]
    async fn zero_retries_means_one_attempt() {
        let server = TestServer::start(vec![Reply::Status(500)]).await;
        let source = CbrSource::new(CbrConfig {
            retries: 0,
            ..server.config()
        })
        .unwrap();
        assert!(source.fetch(None).await.is_err());
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn client_errors_are_not_retried() {
        let server = TestServer::start(vec![Reply::Status(404), Reply::Body(FIXTURE)]).await;
        let source = CbrSource::new(server.config()).unwrap();
        let error = source.fetch(None).await.unwrap_err();
        assert_eq!(error, RateSourceError::Http { status: 404 });
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn too_many_requests_is_retried() {
        let server = TestServer::start(vec![Reply::Status(429), Reply::Body(FIXTURE)]).await;
        let source = CbrSource::new(server.config()).unwrap();
        assert!(source.fetch(None).await.is_ok());
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn garbage_body_is_malformed_and_not_retried() {
        let server = TestServer::start(vec![
            Reply::Body(b"<html><body>Access denied</body></html>"),
            Reply::Body(FIXTURE),
        ])
        .await;
        let source = CbrSource::new(server.config()).unwrap();
        let error = source.fetch(None).await.unwrap_err();
        assert!(matches!(error, RateSourceError::Malformed(_)), "{error:?}");
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn truncated_fixture_is_malformed() {
        let server = TestServer::start(vec![Reply::Body(&FIXTURE[..FIXTURE.len() / 2])]).await;
        let source = CbrSource::new(server.config()).unwrap();
        let error = source.fetch(None).await.unwrap_err();
        assert!(matches!(error, RateSourceError::Malformed(_)), "{error:?}");
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn silent_server_times_out_within_bound() {
        let server = TestServer::start(vec![Reply::Hang]).await;
        let source = CbrSource::new(CbrConfig {
            request_timeout: Duration::from_millis(200),
            retries: 1,
            ..server.config()
        })
        .unwrap();
        let started = Instant::now();
        let error = source.fetch(None).await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(matches!(error, RateSourceError::Timeout(_)), "{error:?}");
        assert_eq!(server.requests().len(), 2, "timeouts are retried");
        assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    }

    #[tokio::test]
    async fn refused_connection_is_a_transport_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let source = CbrSource::new(CbrConfig {
            base_url: url,
            retries: 1,
            backoff_base: Duration::from_millis(10),
            ..CbrConfig::default()
        })
        .unwrap();
        let error = source.fetch(None).await.unwrap_err();
        assert!(matches!(error, RateSourceError::Transport(_)), "{error:?}");
    }

    #[test]
    fn url_for_appends_date_req() {
        let source = CbrSource::new(CbrConfig::default()).unwrap();
        assert_eq!(source.url_for(None).as_str(), DEFAULT_BASE_URL);
        let date = NaiveDate::from_ymd_opt(2024, 1, 9).unwrap();
        assert_eq!(
            source.url_for(Some(date)).as_str(),
            "https://www.cbr.ru/scripts/XML_daily.asp?date_req=09/01/2024"
        );
        let with_query = CbrSource::new(CbrConfig {
            base_url: "http://example.test/x?lang=en".to_owned(),
            ..CbrConfig::default()
        })
        .unwrap();
        assert_eq!(
            with_query.url_for(Some(date)).as_str(),
            "http://example.test/x?lang=en&date_req=09/01/2024"
        );
    }

    #[test]
    fn bad_config_is_rejected() {
        for base_url in ["not a url", "ftp://www.cbr.ru/x"] {
            let config = CbrConfig {
                base_url: base_url.to_owned(),
                ..CbrConfig::default()
            };
            assert!(matches!(
                CbrSource::new(config),
                Err(RateSourceError::Config(_))
            ));
        }
        let config = CbrConfig {
            user_agent: "bad\nagent".to_owned(),
            ..CbrConfig::default()
        };
        assert!(matches!(
            CbrSource::new(config),
            Err(RateSourceError::Config(_))
        ));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = CbrConfig {
            backoff_base: Duration::from_millis(10),
            backoff_max: Duration::from_millis(50),
            ..CbrConfig::default()
        };
        let delays: Vec<u128> = (1..=5)
            .map(|n| backoff_delay(&config, n).as_millis())
            .collect();
        assert_eq!(delays, [10, 20, 40, 50, 50]);
        assert_eq!(backoff_delay(&config, u32::MAX), Duration::from_millis(50));
    }

    #[test]
    fn transient_errors() {
        for status in [500, 502, 503, 504, 408, 429] {
            assert!(is_transient(&RateSourceError::Http { status }), "{status}");
        }
        for status in [400, 403, 404, 410, 301] {
            assert!(!is_transient(&RateSourceError::Http { status }), "{status}");
        }
        assert!(is_transient(&RateSourceError::Timeout(String::new())));
        assert!(is_transient(&RateSourceError::Transport(String::new())));
        assert!(!is_transient(&RateSourceError::Malformed(String::new())));
        assert!(!is_transient(&RateSourceError::Encoding(String::new())));
    }
}
