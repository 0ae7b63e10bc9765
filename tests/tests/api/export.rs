//! Exporting 100,000 quotes streams from a database cursor: the server's memory stays
//! flat, in CSV and in NDJSON. The server runs as a process of its own, so its memory is
//! not the other tests'.

use super::quotes::{SAMPLE_RATES, SAMPLE_RATES_DATE, bearing_quote};
use futures::StreamExt;
use quote_tests::process::ServerProcess;
use quote_tests::{Backend, Client, TestDatabase, on_both_databases};

const QUOTES: i64 = 100_000;

/// Resident memory of this test process (in-process servers run in it), in bytes.
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Copies one quote `QUOTES - 1` times with new ids and numbers, in the database.
async fn clone_quote(database: &TestDatabase, id: &str) {
    let id = uuid::Uuid::parse_str(id).unwrap();
    match database.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&database.url).await.unwrap();
            let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
                INSERT INTO quotes (id, organization_id, number, title, status, currency, subtotal, tax, total, \
                request, result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision, \
                priced_at, created_at, updated_at) \
                SELECT randomblob(16), organization_id, 'X-' || i, title, status, currency, subtotal, tax, total, \
                request, result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision, \
                priced_at, created_at, updated_at FROM quotes, n WHERE id = ?";
            sqlx::query(sql)
                .bind(QUOTES - 1)
                .bind(id.as_bytes().to_vec())
                .execute(&pool)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
            let sql = "INSERT INTO quotes (id, organization_id, number, title, status, currency, subtotal, tax, \
                total, request, result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision, \
                priced_at, created_at, updated_at) \
                SELECT gen_random_uuid(), organization_id, 'X-' || i, title, status, currency, subtotal, tax, total, \
                request, result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision, \
                priced_at, created_at, updated_at FROM quotes, generate_series(1, $1) AS i WHERE id = $2";
            sqlx::query(sql)
                .bind(QUOTES - 1)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
}

/// Streams the export, counting rows and bytes without keeping them, and sampling the
/// server's resident memory at every chunk.
async fn stream_export(server: &ServerProcess, admin: &Client, accept: &str) -> (i64, u64, u64) {
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
        peak_rss = peak_rss.max(server.rss_bytes());
    }
    (lines, bytes, peak_rss)
}

async fn exporting_100k_quotes_keeps_memory_flat(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_quote-host-under-test");
    let server = ServerProcess::spawn(bin, &database, data_dir.path());
    database.seed_rates(SAMPLE_RATES_DATE, SAMPLE_RATES).await;
    let key = std::fs::read_to_string(data_dir.path().join("demo-admin-key.txt")).unwrap();
    let admin = Client::new(&server.base_url, key.trim());
    let created = admin
        .post("/api/quotes", &bearing_quote("bulk"))
        .await
        .expect(201);
    clone_quote(&database, created.body["id"].as_str().unwrap()).await;

    // Warm up allocator and connection pools with a first full pass, then measure.
    let (rows, _, _) = stream_export(&server, &admin, "text/csv").await;
    assert_eq!(rows, QUOTES + 1, "header + every quote");
    let baseline = server.rss_bytes();
    let (rows, csv_bytes, csv_peak) = stream_export(&server, &admin, "text/csv").await;
    assert_eq!(rows, QUOTES + 1);
    let (rows, ndjson_bytes, ndjson_peak) =
        stream_export(&server, &admin, "application/x-ndjson").await;
    assert_eq!(rows, QUOTES);
    let growth = csv_peak.max(ndjson_peak).saturating_sub(baseline);
    eprintln!(
        "export of {QUOTES} quotes: CSV {} MB, NDJSON {} MB, server RSS baseline {} MB, growth {} MB",
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
        "the server's memory grew by {growth} bytes during the export"
    );
}

on_both_databases!(exporting_100k_quotes_keeps_memory_flat);
