//! Verification replays a quote with the rates stored in it, not today's: new rates for
//! the quote's date leave it identical, recalculation picks them up, and a stored
//! request changed behind the API's back shows up as differences.

use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// 3 × 10 USD in RUB, no VAT: 3 × 10 × rate.
fn usd_quote(title: &str) -> Value {
    json!({"title": title, "currency": "RUB", "variables": {"vat_percent": "0"},
           "items": [{"sku": "U", "quantity": "3", "unit_price": "10", "currency": "USD"}]})
}

/// Prices (without storing) until new calculations see `total`: the rate cache holds
/// a lookup for at most `exchange_rates.cache_ttl_s`.
async fn wait_for_total(admin: &Client, total: &str) {
    let mut body = usd_quote("");
    body.as_object_mut().unwrap().remove("title");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let priced = admin.post("/api/quotes/calculate", &body).await.expect(200);
        if priced.body["result"]["total"] == total {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "new calculations did not reach {total} within 20 s: {}",
            priced.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sets `pointer` (a JSON path like `items,0,quantity`) of a stored request to the text
/// `value`, in the database.
async fn rewrite_request(server: &TestServer, id: &str, pointer: &[&str], value: &str) {
    let id = uuid::Uuid::parse_str(id).unwrap();
    match server.database.backend {
        Backend::Sqlite => {
            let path: String = pointer
                .iter()
                .map(|part| match part.parse::<usize>() {
                    Ok(index) => format!("[{index}]"),
                    Err(_) => format!(".{part}"),
                })
                .collect();
            let pool = sqlx::SqlitePool::connect(&server.database.url)
                .await
                .unwrap();
            let done =
                sqlx::query("UPDATE quotes SET request = json_set(request, ?, ?) WHERE id = ?")
                    .bind(format!("${path}"))
                    .bind(value)
                    .bind(id.as_bytes().to_vec())
                    .execute(&pool)
                    .await
                    .unwrap();
            assert_eq!(done.rows_affected(), 1);
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&server.database.url).await.unwrap();
            let done = sqlx::query(
                "UPDATE quotes SET request = jsonb_set(request::jsonb, $1::text[], to_jsonb($2::text))::json \
                 WHERE id = $3",
            )
            .bind(pointer.iter().map(|part| part.to_string()).collect::<Vec<_>>())
            .bind(value)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
            assert_eq!(done.rows_affected(), 1);
            pool.close().await;
        }
    }
}

async fn verify(admin: &Client, id: &str) -> Value {
    admin
        .post(&format!("/api/quotes/{id}/verify"), &json!({}))
        .await
        .expect(200)
        .body
}

fn difference<'a>(verification: &'a Value, path: &str) -> &'a Value {
    verification["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|difference| difference["path"] == path)
        .unwrap_or_else(|| panic!("no difference at {path}: {verification}"))
}

async fn verify_replays_the_stored_rates(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.exchange_rates.cache_ttl_s = 1;
    })
    .await;
    let admin = server.admin();
    let today = chrono::Utc::now().date_naive();
    let yesterday = (today - chrono::Days::new(1)).to_string();
    server.seed_rates(&yesterday, &[("USD", "RUB", "90")]).await;

    // 3 × 10 × 90 = 2700.00
    let first = admin
        .post("/api/quotes", &usd_quote("a"))
        .await
        .expect(201)
        .body;
    let second = admin
        .post("/api/quotes", &usd_quote("b"))
        .await
        .expect(201)
        .body;
    for quote in [&first, &second] {
        assert_eq!(quote["total"], "2700.00", "{quote}");
        assert_eq!(quote["request"]["rates"][0]["rate"], "90");
    }
    let (first_id, second_id) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );

    // New rates dated the quotes' own day; new calculations use them (3 × 10 × 100).
    let quote_date = first["request"]["date"].as_str().unwrap();
    server
        .seed_rates(quote_date, &[("USD", "RUB", "100")])
        .await;
    wait_for_total(&admin, "3000.00").await;

    for id in [first_id, second_id] {
        let verified = verify(&admin, id).await;
        assert_eq!(verified["identical"], true, "{verified}");
        assert_eq!(verified["differences"], json!([]));
    }

    // Recalculation takes today's rates.
    let recalculated = admin
        .post(&format!("/api/quotes/{first_id}/recalculate"), &json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(recalculated["total"], "3000.00");
    assert_eq!(recalculated["request"]["rates"][0]["rate"], "100");
    assert_eq!(verify(&admin, first_id).await["identical"], true);

    // A stored quantity changed: 4 × 10 × 100 = 4000.00 against the stored 3000.00.
    rewrite_request(&server, first_id, &["items", "0", "quantity"], "4").await;
    let tampered = verify(&admin, first_id).await;
    assert_eq!(tampered["identical"], false, "{tampered}");
    let total = difference(&tampered, "/total");
    assert_eq!(
        (&total["stored"], &total["recomputed"]),
        (&json!("3000.00"), &json!("4000.00"))
    );
    assert_eq!(
        difference(&tampered, "/items/0/total")["recomputed"],
        "4000.00"
    );

    // A stored rate changed: 3 × 10 × 91 = 2730.00 against the stored 2700.00. Only
    // the stored rate can have produced it: no rate of 91 exists anywhere else.
    rewrite_request(&server, second_id, &["rates", "0", "rate"], "91").await;
    let tampered = verify(&admin, second_id).await;
    assert_eq!(tampered["identical"], false, "{tampered}");
    let total = difference(&tampered, "/total");
    assert_eq!(
        (&total["stored"], &total["recomputed"]),
        (&json!("2700.00"), &json!("2730.00"))
    );
}

on_both_databases!(verify_replays_the_stored_rates);
