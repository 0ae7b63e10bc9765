//! A fake Central Bank of Russia `XML_daily.asp` endpoint on 127.0.0.1 that serves
//! the real fixture (or a 500, garbage, silence) and counts requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use quote_host::fx::cbr::{CbrConfig, CbrSource};
use quote_host::fx::source::RateSource;

/// Byte-exact CBR response for 02.11.2023 (windows-1251), 43 currencies
/// (`fixtures/cbr/`, see its README for where it came from).
pub const FIXTURE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/cbr/XML_daily_2023-11-02.xml"
));

/// What the server answers.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// 200 with these bytes.
    Body(&'static [u8]),
    /// This status, short text body.
    Status(u16),
    /// Reads the request, never answers.
    Hang,
}

/// The fake service; cloning shares it.
#[derive(Clone)]
pub struct FakeCbr {
    pub url: String,
    hits: Arc<AtomicUsize>,
    reply: Arc<Mutex<(Reply, Duration)>>,
}

impl FakeCbr {
    /// Answers every request with `reply`, at once.
    pub async fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/scripts/XML_daily.asp",
            listener.local_addr().unwrap()
        );
        let server = Self {
            url,
            hits: Arc::default(),
            reply: Arc::new(Mutex::new((reply, Duration::ZERO))),
        };
        let shared = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(shared.clone().answer(stream));
            }
        });
        server
    }

    /// Answers from now on with `reply`.
    pub fn set_reply(&self, reply: Reply) {
        self.reply.lock().unwrap().0 = reply;
    }

    /// Waits this long before answering.
    pub fn set_delay(&self, delay: Duration) {
        self.reply.lock().unwrap().1 = delay;
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Client settings for tests: short timeouts, 2 retries 10 ms apart.
    pub fn config(&self) -> CbrConfig {
        CbrConfig {
            base_url: self.url.clone(),
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            retries: 2,
            backoff_base: Duration::from_millis(10),
            backoff_max: Duration::from_millis(20),
            user_agent: "quote-host-test/1".into(),
        }
    }

    /// A [`CbrSource`] pointed here.
    pub fn source(&self) -> Arc<dyn RateSource> {
        Arc::new(CbrSource::new(self.config()).unwrap())
    }

    async fn answer(self, mut stream: TcpStream) {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        self.hits.fetch_add(1, Ordering::SeqCst);
        let (reply, delay) = *self.reply.lock().unwrap();
        tokio::time::sleep(delay).await;
        let (status, body): (u16, &[u8]) = match reply {
            Reply::Body(body) => (200, body),
            Reply::Status(status) => (status, b"error"),
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(600)).await;
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
}
