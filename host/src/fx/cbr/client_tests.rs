//! Tests of `client.rs`: the client against a local fake of the CBR service.

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
