//! A fake Central Bank of Russia `XML_daily.asp` endpoint on 127.0.0.1 that serves
//! the real fixture (or a 500, garbage, silence) and counts requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use quote_host::fx::cbr::{CbrConfig, CbrSource};
use quote_host::fx::source::RateSource;

/// Byte-exact CBR response for 02.11.2023 (windows-1251), 43 currencies
/// (`fixtures/cbr/`, see its README for where it came from).
pub const FIXTURE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/cbr/XML_daily_2023-11-02.xml"
));

/// The fixture's 43 currencies as it writes them (decimal commas made points):
/// `(CharCode, Nominal, Value, VunitRate)`, where `VunitRate` is the bank's own
/// `Value / Nominal`, the rubles one unit costs.
pub const FIXTURE_RATES: &[(&str, i32, &str, &str)] = &[
    ("AUD", 1, "59.0650", "59.065"),
    ("AZN", 1, "54.8706", "54.8706"),
    ("GBP", 1, "113.1861", "113.1861"),
    ("AMD", 100, "23.1815", "0.231815"),
    ("BYN", 1, "29.1519", "29.1519"),
    ("BGN", 1, "50.6462", "50.6462"),
    ("BRL", 1, "18.4450", "18.445"),
    ("HUF", 100, "26.0174", "0.260174"),
    ("VND", 10000, "38.7231", "0.00387231"),
    ("HKD", 1, "11.9437", "11.9437"),
    ("GEL", 1, "34.4474", "34.4474"),
    ("DKK", 1, "13.2696", "13.2696"),
    ("AED", 1, "25.3962", "25.3962"),
    ("USD", 1, "93.2801", "93.2801"),
    ("EUR", 1, "98.4365", "98.4365"),
    ("EGP", 10, "30.1944", "3.01944"),
    ("INR", 10, "11.2180", "1.1218"),
    ("IDR", 10000, "58.6778", "0.00586778"),
    ("KZT", 100, "19.8608", "0.198608"),
    ("CAD", 1, "67.2483", "67.2483"),
    ("QAR", 1, "25.6264", "25.6264"),
    ("KGS", 10, "10.4434", "1.04434"),
    ("CNY", 1, "12.7052", "12.7052"),
    ("MDL", 10, "51.3634", "5.13634"),
    ("NZD", 1, "54.1025", "54.1025"),
    ("NOK", 10, "83.2776", "8.32776"),
    ("PLN", 1, "22.0421", "22.0421"),
    ("RON", 1, "19.8106", "19.8106"),
    ("XDR", 1, "122.5831", "122.5831"),
    ("SGD", 1, "68.0926", "68.0926"),
    ("TJS", 10, "85.1663", "8.51663"),
    ("THB", 10, "25.7482", "2.57482"),
    ("TRY", 10, "33.0055", "3.30055"),
    ("TMT", 1, "26.6515", "26.6515"),
    ("UZS", 10000, "76.2440", "0.0076244"),
    ("UAH", 10, "25.6410", "2.5641"),
    ("CZK", 10, "40.3199", "4.03199"),
    ("SEK", 10, "83.4385", "8.34385"),
    ("CHF", 1, "104.6328", "104.6328"),
    ("RSD", 100, "84.1486", "0.841486"),
    ("ZAR", 10, "49.7983", "4.97983"),
    ("KRW", 1000, "68.7247", "0.0687247"),
    ("JPY", 100, "61.6524", "0.616524"),
];

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
    reply: Arc<Mutex<Reply>>,
    /// While `true`, requests are counted and then wait before being answered.
    held: Arc<watch::Sender<bool>>,
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
            reply: Arc::new(Mutex::new(reply)),
            held: Arc::new(watch::Sender::new(false)),
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
        *self.reply.lock().unwrap() = reply;
    }

    /// Holds every answer from now on, until [`release`](Self::release).
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    /// Answers the held requests, and the next ones at once.
    pub fn release(&self) {
        self.held.send_replace(false);
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
        let mut held = self.held.subscribe();
        let _ = held.wait_for(|held| !held).await;
        let reply = *self.reply.lock().unwrap();
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
