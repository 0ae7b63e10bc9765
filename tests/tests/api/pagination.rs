//! Keyset pagination while quotes are being inserted: pages come newest first in one
//! stable order (`created_at`, then `id`), and every quote that existed when the walk
//! began appears exactly once, even among rows with the same `created_at`.

use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Quotes sharing one `created_at` (copied in the database).
const TIED: i64 = 60;
/// Quotes created one by one through the API.
const SPREAD: usize = 20;
const PAGE: usize = 7;

fn rub_quote(title: &str) -> Value {
    json!({"title": title, "currency": "RUB",
           "items": [{"sku": "A", "quantity": "1", "unit_price": "10", "currency": "RUB"}]})
}

/// Copies quote `id` `TIED` times with new ids and numbers and the same timestamps.
async fn copy_with_same_timestamp(server: &TestServer, id: &str) {
    let id = uuid::Uuid::parse_str(id).unwrap();
    let columns = "organization_id, title, status, currency, subtotal, tax, total, request, result, \
                   plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision, priced_at, \
                   created_at, updated_at";
    match server.database.backend {
        Backend::Sqlite => {
            let sql = format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
                 INSERT INTO quotes (id, number, {columns}) \
                 SELECT randomblob(16), 'TIED-' || i, {columns} FROM quotes, n WHERE id = ?"
            );
            let pool = sqlx::SqlitePool::connect(&server.database.url)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(TIED)
                .bind(id.as_bytes().to_vec())
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let sql = format!(
                "INSERT INTO quotes (id, number, {columns}) \
                 SELECT gen_random_uuid(), 'TIED-' || i, {columns} \
                 FROM quotes, generate_series(1, $1) AS i WHERE id = $2"
            );
            let pool = sqlx::PgPool::connect(&server.database.url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(TIED)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

/// `(created_at, id)` of a listed quote: the order pages must follow, descending.
fn key(quote: &Value) -> (chrono::DateTime<chrono::Utc>, uuid::Uuid) {
    (
        quote["created_at"].as_str().unwrap().parse().unwrap(),
        quote["id"].as_str().unwrap().parse().unwrap(),
    )
}

/// Every page of `first` (a listing path with `limit`), creating one quote before
/// each page is read.
async fn walk_while_inserting(admin: &Client, first: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut path = first.to_string();
    for page_number in 0.. {
        admin
            .post(
                "/api/quotes",
                &rub_quote(&format!("during page {page_number}")),
            )
            .await
            .expect(201);
        let page = admin.get(&path).await.expect(200);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= PAGE, "{}", page.text);
        seen.extend(items.iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => path = format!("{first}&cursor={next}"),
            None => return seen,
        }
    }
    unreachable!()
}

async fn pages_stay_in_order_without_gaps_or_repeats_during_inserts(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    let tied = admin
        .post("/api/quotes", &rub_quote("tied"))
        .await
        .expect(201);
    copy_with_same_timestamp(&server, tied.body["id"].as_str().unwrap()).await;
    for n in 0..SPREAD {
        admin
            .post("/api/quotes", &rub_quote(&format!("spread {n}")))
            .await
            .expect(201);
    }
    let existing = admin.get("/api/quotes?limit=100").await.expect(200).body;
    let existing: Vec<Value> = existing["items"].as_array().unwrap().clone();
    assert_eq!(existing.len(), TIED as usize + 1 + SPREAD);
    let existing_ids: Vec<&str> = existing.iter().map(|q| q["id"].as_str().unwrap()).collect();

    // A second writer keeps inserting for the whole walk.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = tokio::spawn({
        let (admin, writing) = (admin.clone(), writing.clone());
        async move {
            let mut written = 0;
            while writing.load(Ordering::SeqCst) {
                admin
                    .post("/api/quotes", &rub_quote("concurrent"))
                    .await
                    .expect(201);
                written += 1;
            }
            written
        }
    });
    for first in [
        format!("/api/quotes?limit={PAGE}"),
        format!("/api/quotes?status=draft&limit={PAGE}"),
    ] {
        let seen = walk_while_inserting(&admin, &first).await;
        let ids: Vec<&str> = seen.iter().map(|q| q["id"].as_str().unwrap()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{first}: a quote appeared twice");
        for pair in seen.windows(2) {
            assert!(
                key(&pair[0]) > key(&pair[1]),
                "{first}: out of order: {} then {}",
                pair[0],
                pair[1]
            );
        }
        let missing: Vec<&str> = existing_ids
            .iter()
            .copied()
            .filter(|id| !unique.contains(id))
            .collect();
        assert!(
            missing.is_empty(),
            "{first}: {} of {} existing quotes never came, e.g. {:?}",
            missing.len(),
            existing_ids.len(),
            &missing[..missing.len().min(3)]
        );
        let old_in_walk: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| existing_ids.contains(id))
            .collect();
        assert!(
            old_in_walk == existing_ids,
            "{first}: the existing quotes came in another order than one listing shows"
        );
    }
    writing.store(false, Ordering::SeqCst);
    let written = writer.await.unwrap();
    assert!(written > 0, "the concurrent writer wrote nothing");
}

on_both_databases!(pages_stay_in_order_without_gaps_or_repeats_during_inserts);
