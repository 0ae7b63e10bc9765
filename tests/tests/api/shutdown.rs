//! The real binary, stopped with SIGTERM right after 10,000 logged requests: it exits 0
//! and every activity entry is in the database.

use super::quotes::bearing_quote;
use quote_tests::process::ServerProcess;
use quote_tests::{Backend, TestDatabase, on_both_databases};
use serde_json::Value;
use std::time::{Duration, Instant};

const REQUESTS: usize = 10_000;
const CLIENTS: usize = 32;

async fn sigterm_after_ten_thousand_logged_requests_loses_nothing(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_quote-host-under-test");
    let mut server = ServerProcess::spawn(bin, &database, data_dir.path());
    let base_url = server.base_url.clone();
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

    server.terminate();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
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
