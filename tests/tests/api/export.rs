//! Exporting 100,000 quotes streams from a database cursor: the process's memory stays
//! flat, in CSV and in NDJSON.

use super::quotes::{bearing_quote, seed_sample_rates};
use futures::StreamExt;
use quote_tests::bulk::clone_quote;
use quote_tests::{Backend, TestServer, on_both_databases};

const QUOTES: i64 = 100_000;

/// Resident memory of this process (the server runs in it), in bytes.
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Streams the export, counting rows and bytes without keeping them.
async fn stream_export(server: &TestServer, accept: &str) -> (i64, u64, u64) {
    let admin = server.admin();
    let response = admin
        .request(reqwest::Method::GET, "/api/quotes/export")
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let (mut lines, mut bytes, mut peak_rss) = (0i64, 0u64, 0u64);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        lines += chunk.iter().filter(|byte| **byte == b'\n').count() as i64;
        bytes += chunk.len() as u64;
        peak_rss = peak_rss.max(rss_bytes());
    }
    (lines, bytes, peak_rss)
}

async fn exporting_100k_quotes_keeps_memory_flat(backend: Backend) {
    let server = TestServer::start(backend).await;
    seed_sample_rates(&server).await;
    let created = server
        .admin()
        .post("/api/quotes", &bearing_quote("bulk"))
        .await
        .expect(201);
    clone_quote(&server, created.body["id"].as_str().unwrap(), QUOTES - 1).await;

    // Warm up allocator and connection pools with a first full pass, then measure.
    let (rows, _, _) = stream_export(&server, "text/csv").await;
    assert_eq!(rows, QUOTES + 1, "header + every quote");
    let baseline = rss_bytes();
    let (rows, csv_bytes, csv_peak) = stream_export(&server, "text/csv").await;
    assert_eq!(rows, QUOTES + 1);
    let (rows, ndjson_bytes, ndjson_peak) = stream_export(&server, "application/x-ndjson").await;
    assert_eq!(rows, QUOTES);
    let growth = csv_peak.max(ndjson_peak).saturating_sub(baseline);
    eprintln!(
        "export of {QUOTES} quotes: CSV {} MB, NDJSON {} MB, RSS baseline {} MB, growth {} MB",
        csv_bytes / 1_000_000,
        ndjson_bytes / 1_000_000,
        baseline / 1_000_000,
        growth / 1_000_000
    );
    // Holding the export would take at least its size (the NDJSON is over 100 MB).
    assert!(
        ndjson_bytes > 100_000_000,
        "the export is big enough to notice: {ndjson_bytes}"
    );
    assert!(
        growth < 64 * 1024 * 1024,
        "memory grew by {growth} bytes during the export"
    );
}

on_both_databases!(exporting_100k_quotes_keeps_memory_flat);
