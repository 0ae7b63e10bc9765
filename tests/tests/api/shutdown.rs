//! The real binary, stopped with SIGTERM right after 10,000 logged requests: it exits 0
//! and every activity entry is in the database.

use super::quotes::bearing_quote;
use quote_tests::{Backend, TestDatabase, on_both_databases};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REQUESTS: usize = 10_000;
const CLIENTS: usize = 32;

/// The server process; killed if the test fails before it stops on its own.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `quote-host serve` on a free port and returns it with its address.
fn spawn_server(database: &TestDatabase, data_dir: &std::path::Path) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quote-host-under-test"))
        .arg("serve")
        .env("QUOTE_LISTEN", "127.0.0.1:0")
        .env("QUOTE_DATA_DIR", data_dir)
        .env("QUOTE_DATABASE__URL", &database.url)
        .env("QUOTE_RATE_LIMITS__ENABLED", "false")
        .env("QUOTE_EXCHANGE_RATES__ENABLED", "false")
        .env("QUOTE_RUNTIME__MAX_CONCURRENT_INSTANCES", "32")
        .env("QUOTE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent && line.contains("quote-host listening") {
                let address = line
                    .split("address=")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next());
                let _ = found.send(address.unwrap_or_default().to_string());
                sent = true;
            }
        }
    });
    let child = Server(child);
    let address = address
        .recv_timeout(Duration::from_secs(120))
        .expect("the server logs its address");
    (child, format!("http://{address}"))
}

fn terminate(server: &Server) {
    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

async fn sigterm_after_ten_thousand_logged_requests_loses_nothing(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().unwrap();
    let (mut child, base_url) = spawn_server(&database, data_dir.path());
    let key = std::fs::read_to_string(data_dir.path().join("demo-admin-key.txt"))
        .unwrap()
        .trim()
        .to_string();
    let http = reqwest::Client::new();
    let me = http
        .get(format!("{base_url}/api/me"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let me: Value = serde_json::from_str(&me.text().await.unwrap()).unwrap();
    let organization = uuid::Uuid::parse_str(me["organization"]["id"].as_str().unwrap()).unwrap();

    let mut body = bearing_quote("t");
    body.as_object_mut().unwrap().remove("title");
    body.as_object_mut().unwrap().remove("variables");
    for item in body["items"].as_array_mut().unwrap() {
        item["currency"] = serde_json::json!("RUB");
        item.as_object_mut().unwrap().remove("attributes");
    }
    let body = body.to_string();
    let started = Instant::now();
    let clients = (0..CLIENTS).map(|client| {
        let (http, base_url, key, body) =
            (http.clone(), base_url.clone(), key.clone(), body.clone());
        tokio::spawn(async move {
            for _ in (client..REQUESTS).step_by(CLIENTS) {
                let response = http
                    .post(format!("{base_url}/api/quotes/calculate"))
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
            }
        })
    });
    for client in futures::future::join_all(clients).await {
        client.unwrap();
    }
    eprintln!("{REQUESTS} calculations in {:?}", started.elapsed());

    terminate(&child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop within 60 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0), "a clean shutdown exits 0");

    let store = quote_host::store::connect(&database.url, &Default::default())
        .await
        .unwrap();
    let logged = store.count_activity(organization).await.unwrap();
    store.close().await;
    assert_eq!(
        logged, REQUESTS as i64,
        "every calculation's activity entry was written before exit"
    );
}

on_both_databases!(sigterm_after_ten_thousand_logged_requests_loses_nothing);
