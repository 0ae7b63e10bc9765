//! SIGTERM to the real binary while a calculation is running. With the default-length
//! grace the calculation finishes and is answered before the process exits 0; with a
//! short grace the process exits promptly without waiting for it. Either way every
//! activity entry queued before the signal is in the database afterwards.

use quote_tests::process::ServerProcess;
use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, TestDatabase, on_both_databases};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Quick calculations before the slow one.
const QUICK: i64 = 5;
/// Activity entries waiting in the queue at the signal: the upload, the activation and
/// the quick calculations.
const QUEUED: i64 = 2 + QUICK;

/// The server process (killed if the test fails before it stops on its own) and the
/// demo organization's admin key.
struct Server {
    process: ServerProcess,
    key: String,
    http: reqwest::Client,
}

impl Server {
    /// `quote-host serve` on a free port: generous fuel and time (the slow calculation
    /// must end by itself or by shutdown, not by a limit), activity flushed only every
    /// minute (so entries are still queued at the signal), and `grace_ms` of grace.
    fn spawn(database: &TestDatabase, data_dir: &std::path::Path, grace_ms: u64) -> Self {
        let process = ServerProcess::spawn_with(
            env!("CARGO_BIN_EXE_quote-host-under-test"),
            database,
            data_dir,
            &[
                ("QUOTE_RUNTIME__MAX_CONCURRENT_INSTANCES", "8".into()),
                ("QUOTE_RUNTIME__FUEL", "1000000000000000".into()),
                ("QUOTE_RUNTIME__TIMEOUT_MS", "3600000".into()),
                ("QUOTE_ACTIVITY__FLUSH_INTERVAL_MS", "60000".into()),
                ("QUOTE_HTTP__SHUTDOWN_GRACE_MS", grace_ms.to_string()),
            ],
        );
        let key = std::fs::read_to_string(data_dir.join("demo-admin-key.txt"))
            .unwrap()
            .trim()
            .to_string();
        Self {
            process,
            key,
            http: reqwest::Client::new(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.process.base_url))
            .bearer_auth(&self.key)
    }

    async fn json(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"))
    }

    /// Uploads `slow-ok` as `slow`, activates it and runs it once (compiled and cached).
    async fn install_slow_plugin(&self) {
        let upload = self
            .request(reqwest::Method::POST, "/api/plugins?name=slow")
            .header("content-type", "application/wasm")
            .body(plugin_bytes("hostile-slow-ok"))
            .send()
            .await
            .unwrap();
        assert_eq!(upload.status(), StatusCode::CREATED);
        let activate = json!({"version": 1});
        self.json(
            reqwest::Method::POST,
            "/api/plugins/slow/activate",
            Some(activate),
        )
        .await;
    }

    async fn calculate(&self, spin_millions: u64) -> Value {
        self.json(
            reqwest::Method::POST,
            "/api/quotes/calculate",
            Some(calculation(spin_millions)),
        )
        .await
    }

    async fn health(&self) -> Value {
        self.json(reqwest::Method::GET, "/api/health/detailed", None)
            .await
    }

    /// Starts a calculation spinning `spin_millions` million iterations and returns once
    /// the server reports it running.
    async fn start_slow_calculation(
        &self,
        spin_millions: u64,
    ) -> tokio::task::JoinHandle<reqwest::Result<(StatusCode, String)>> {
        let request = self
            .request(reqwest::Method::POST, "/api/quotes/calculate")
            .header("content-type", "application/json")
            .body(calculation(spin_millions).to_string());
        let running = tokio::spawn(async move {
            let response = request.send().await?;
            let status = response.status();
            Ok((status, response.text().await?))
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.health().await["calculations_in_flight"] != 1 {
            assert!(!running.is_finished(), "the slow calculation ended early");
            assert!(
                Instant::now() < deadline,
                "the slow calculation never started"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        running
    }

    /// Waits up to `bound` for the process to exit; returns its exit code and how long
    /// it took.
    async fn exit_within(&mut self, bound: Duration) -> (Option<i32>, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.process.child.try_wait().unwrap() {
                return (status.code(), started.elapsed());
            }
            assert!(
                started.elapsed() < bound,
                "the server did not exit within {bound:?} of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn organization(&self) -> uuid::Uuid {
        let me = self.json(reqwest::Method::GET, "/api/me", None).await;
        me["organization"]["id"].as_str().unwrap().parse().unwrap()
    }
}

fn calculation(spin_millions: u64) -> Value {
    json!({"currency": "RUB", "variables": {"spin_millions": spin_millions.to_string()},
           "items": [{"sku": "A", "quantity": "2", "unit_price": "10", "currency": "RUB"}]})
}

/// Runs the quick calculations and checks their entries are queued, not yet written.
async fn queue_activity(server: &Server) {
    for _ in 0..QUICK {
        let priced = server.calculate(0).await;
        assert_eq!(priced["result"]["total"], "20");
    }
    let health = server.health().await;
    assert_eq!(health["activity"]["written"], 0, "{health}");
}

async fn logged_activity(database: &TestDatabase, organization: uuid::Uuid) -> i64 {
    let store = quote_host::store::connect(&database.url, &Default::default())
        .await
        .unwrap();
    let logged = store.count_activity(organization).await.unwrap();
    store.close().await;
    logged
}

async fn sigterm_lets_a_running_calculation_finish(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = Server::spawn(&database, data_dir.path(), 120_000);
    let organization = server.organization().await;
    server.install_slow_plugin().await;
    queue_activity(&server).await;
    // 2,500 million iterations: about a second (slow-ok's README: about 0.4 ms per
    // million), far longer than it takes to send the signal.
    let running = server.start_slow_calculation(2_500).await;

    server.process.terminate();
    let signalled = Instant::now();
    assert!(
        !running.is_finished(),
        "the calculation ended before the signal"
    );
    let (status, body) = running.await.unwrap().expect("the calculation is answered");
    eprintln!(
        "the running calculation was answered {:?} after SIGTERM",
        signalled.elapsed()
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let priced: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(priced["result"]["total"], "20", "{body}");
    let (code, _) = server.exit_within(Duration::from_secs(120)).await;
    assert_eq!(code, Some(0), "a clean shutdown exits 0");
    assert_eq!(
        logged_activity(&database, organization).await,
        QUEUED + 1,
        "the queued entries and the finished calculation's are written"
    );
}

async fn sigterm_with_a_short_grace_exits_promptly_and_keeps_the_queue(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = Server::spawn(&database, data_dir.path(), 300);
    let organization = server.organization().await;
    server.install_slow_plugin().await;
    queue_activity(&server).await;
    // A million million iterations: minutes of work at the very least.
    let running = server.start_slow_calculation(1_000_000).await;

    server.process.terminate();
    // A generous safety bound: the grace is 300 ms; the calculation would take minutes.
    let (code, took) = server.exit_within(Duration::from_secs(30)).await;
    assert_eq!(
        code,
        Some(0),
        "stopping after the grace is still a clean exit"
    );
    eprintln!("exited {took:?} after SIGTERM with a 300 ms grace");
    let answered = running.await.unwrap();
    assert!(
        !matches!(answered, Ok((StatusCode::OK, _))),
        "the abandoned calculation cannot have succeeded: {answered:?}"
    );
    assert_eq!(
        logged_activity(&database, organization).await,
        QUEUED,
        "every entry queued before the signal is written"
    );
}

on_both_databases!(
    sigterm_lets_a_running_calculation_finish,
    sigterm_with_a_short_grace_exits_promptly_and_keeps_the_queue,
);
