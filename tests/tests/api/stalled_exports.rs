//! One tenant's stalled exports take the database from nobody: ten NDJSON exports on
//! sockets that never read, from an organization with tens of megabytes of quotes, while
//! another organization lists and creates quotes. Exports beyond the per-organization cap
//! are refused, and a client that stops reading is cut off after the write timeout, which
//! gives its organization the slot back.

use super::export::rss_bytes;
use super::quotes::{plain_quote, seed_sample_rates};
use futures::StreamExt;
use quote_tests::bulk::clone_quote;
use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Quotes of the exporting organization: about 35 KB each as NDJSON, 25 MB in all, far
/// more than the socket buffers between a server and a client that reads nothing (and
/// than the 256 rows an export once buffered ahead of its client). Kept this small
/// because memory is measured by other tests of this process.
const BIG_QUOTES: i64 = 700;
/// Lines of each of them.
const ITEMS: usize = 60;
/// A generous safety bound for each request of the other organization (not a speed claim).
const BOUND: Duration = Duration::from_secs(5);

/// Gives the demo organization `BIG_QUOTES` quotes of `ITEMS` lines.
async fn seed_big_quotes(server: &TestServer) {
    let items: Vec<_> = (0..ITEMS)
        .map(|i| {
            json!({"sku": format!("SKU-{i:05}"), "name": "Deep groove ball bearing 6204-2RS, 20x47x14 mm",
                   "quantity": "3", "unit_price": "19.99", "currency": "RUB"})
        })
        .collect();
    let body = json!({"title": "big", "currency": "RUB", "items": items});
    let quote = server.admin().post("/api/quotes", &body).await.expect(201);
    clone_quote(server, quote.body["id"].as_str().unwrap(), BIG_QUOTES - 1).await;
}

/// Sends an NDJSON export request on a socket with a tiny receive buffer and never reads.
async fn stalled_export(server: &TestServer, key: &str) -> TcpStream {
    let address = server.base_url.trim_start_matches("http://").to_string();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(address.parse().unwrap()).await.unwrap();
    let request = format!(
        "GET /api/quotes/export HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\
         Accept: application/x-ndjson\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Exports running in the server, from the detailed health.
async fn exports_running(admin: &Client) -> u64 {
    let health = admin.get("/api/health/detailed").await.expect(200);
    health.body["exports_running"].as_u64().unwrap()
}

async fn wait_for_exports(admin: &Client, running: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while exports_running(admin).await != running {
        assert!(Instant::now() < deadline, "{running} exports never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A second organization that can price quotes.
async fn other_pricing_organization(server: &TestServer) -> Client {
    let other = super::other_organization(server, "acme");
    let uploaded = other.upload("standard", plugin_bytes("standard")).await;
    assert!(uploaded.status.is_success(), "{}", uploaded.text);
    other
        .post("/api/plugins/standard/activate", &json!({"version": 1}))
        .await
        .expect(200);
    other
}

async fn within_bound<T>(what: &str, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let done = tokio::time::timeout(BOUND, work)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {BOUND:?}"));
    eprintln!("{what}: {:?}", started.elapsed());
    done
}

async fn stalled_exports_leave_the_database_to_other_organizations(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        // Fewer connections than stalled exports, and a cap that lets all ten run: an
        // export holding its connection would leave none for anyone else.
        // (A request waiting for a connection waits past the bound.)
        config.database.max_connections = 4;
        config.database.acquire_timeout_ms = 10_000;
        config.http.max_exports_per_org = 10;
        config.http.write_timeout_ms = 600_000;
    })
    .await;
    seed_sample_rates(&server).await;
    seed_big_quotes(&server).await;
    let other = other_pricing_organization(&server).await;
    let admin = server.admin();

    let rss_before = rss_bytes();
    let mut stalled = Vec::new();
    for _ in 0..10 {
        stalled.push(stalled_export(&server, &server.admin_key).await);
    }
    wait_for_exports(&admin, 10).await;
    for round in 0..5 {
        within_bound(&format!("list {round}"), other.get("/api/quotes?limit=20"))
            .await
            .expect(200);
        within_bound(
            &format!("create {round}"),
            other.post("/api/quotes", &plain_quote("meanwhile")),
        )
        .await
        .expect(201);
        within_bound(
            &format!("health {round}"),
            server.anonymous().get("/api/health"),
        )
        .await
        .expect(200);
    }
    assert_eq!(
        exports_running(&admin).await,
        10,
        "the stalled exports are still there, waiting on their clients"
    );
    eprintln!(
        "{backend:?}: RSS {} MB before the stalled exports, {} MB with them",
        rss_before / 1_000_000,
        rss_bytes() / 1_000_000
    );
    drop(stalled);
    wait_for_exports(&admin, 0).await;
}

/// Reads what the server sent a stalled client until the connection ends.
async fn read_to_end(mut stream: TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut received));
    // A reset after the data is an end as well.
    let _ = read.await.expect("the server closed the connection");
    received
}

async fn exports_are_capped_per_organization_and_stalled_ones_cut_off(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.http.max_exports_per_org = 2;
        config.http.write_timeout_ms = 1_000;
    })
    .await;
    seed_sample_rates(&server).await;
    seed_big_quotes(&server).await;
    let other = other_pricing_organization(&server).await;
    other
        .post("/api/quotes", &plain_quote("b's own"))
        .await
        .expect(201);
    let admin = server.admin();

    let first = stalled_export(&server, &server.admin_key).await;
    let second = stalled_export(&server, &server.admin_key).await;
    wait_for_exports(&admin, 2).await;
    let refused = admin
        .get("/api/quotes/export")
        .await
        .expect_error(429, "too_many_exports");
    assert!(refused.headers.contains_key("retry-after"));
    // The cap is per organization: another one exports as usual.
    let exported = other.get("/api/quotes/export").await.expect(200);
    assert_eq!(exported.text.lines().count(), 2, "header and one quote");

    // The stalled clients are cut off after the write timeout: their slots come back.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = admin
            .request(reqwest::Method::GET, "/api/quotes/export")
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            let mut body = response.bytes_stream();
            let mut lines = 0;
            while let Some(chunk) = body.next().await {
                lines += chunk.unwrap().iter().filter(|byte| **byte == b'\n').count() as i64;
            }
            assert_eq!(lines, BIG_QUOTES + 1, "header and every quote");
            break;
        }
        assert_eq!(response.status(), 429);
        assert!(
            Instant::now() < deadline,
            "the stalled exports were never cut off"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for stalled in [first, second] {
        let received = read_to_end(stalled).await;
        let lines = received.iter().filter(|byte| **byte == b'\n').count() as i64;
        assert!(
            lines < BIG_QUOTES && !received.ends_with(b"\r\n0\r\n\r\n"),
            "a cut-off export ends early, without the final chunk: {lines} lines"
        );
    }
}

on_both_databases!(
    stalled_exports_leave_the_database_to_other_organizations,
    exports_are_capped_per_organization_and_stalled_ones_cut_off
);
