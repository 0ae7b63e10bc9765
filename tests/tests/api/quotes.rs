//! Quotes over HTTP: the whole flow, verification across plugin versions, pagination
//! under concurrent inserts, and the variable and rate checks before a plugin runs.

use chrono::Datelike;
use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::collections::HashSet;

pub fn bearing_quote(title: &str) -> Value {
    json!({
        "title": title,
        "currency": "RUB",
        "date": "2026-11-29",
        "variables": {"markup_percent": "10", "discount_tiers": "10:5,100:12"},
        "items": [
            {"sku": "A-1", "name": "Bearing 6204", "quantity": "3", "unit_price": "19.99", "currency": "USD"},
            {"sku": "B-7", "name": "Seal kit", "quantity": "120", "unit_price": "4.10", "currency": "EUR",
             "attributes": {"markup_percent": "25"}}
        ]
    })
}

/// The same items without variables or attributes: any plugin accepts them.
pub fn plain_quote(title: &str) -> Value {
    let mut body = bearing_quote(title);
    body.as_object_mut().unwrap().remove("variables");
    body["items"][1]
        .as_object_mut()
        .unwrap()
        .remove("attributes");
    body
}

/// The day of the sample rates, the day before the quotes' date.
pub const SAMPLE_RATES_DATE: &str = "2026-11-28";
/// The rates every quote test prices with.
pub const SAMPLE_RATES: &[(&str, &str, &str)] = &[("USD", "RUB", "92.5"), ("EUR", "RUB", "100.2")];

pub async fn seed_sample_rates(server: &TestServer) {
    server.seed_rates(SAMPLE_RATES_DATE, SAMPLE_RATES).await;
}

async fn upload_calculate_store_list_patch_export_verify(backend: Backend) {
    let server = TestServer::start(backend).await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    admin
        .upload("pricing", plugin_bytes("standard"))
        .await
        .expect(201);
    admin
        .post("/api/plugins/pricing/activate", &json!({"version": 1}))
        .await
        .expect(200);

    let mut calculation = bearing_quote("x");
    calculation.as_object_mut().unwrap().remove("title");
    let priced = admin
        .post("/api/quotes/calculate", &calculation)
        .await
        .expect(200);
    assert_eq!(priced.body["result"]["total"], "72395.93");
    assert_eq!(priced.body["plugin"]["name"], "pricing");
    assert_eq!(priced.body["plugin"]["version"], 1);
    assert_eq!(priced.body["date"], "2026-11-29");
    assert_eq!(
        priced.body["rates"].as_array().unwrap().len(),
        2,
        "{}",
        priced.body["rates"]
    );
    assert!(priced.body["fuel_used"].as_u64().unwrap() > 0);
    assert_eq!(
        admin.get("/api/quotes").await.expect(200).body["items"],
        json!([]),
        "calculate stores nothing"
    );

    let before = chrono::Utc::now();
    let created = admin
        .post("/api/quotes", &bearing_quote("Bearings for ACME"))
        .await
        .expect(201);
    let after = chrono::Utc::now();
    let id = created.body["id"].as_str().unwrap().to_string();
    // Numbered by the UTC year of its creation: the first quote of that year.
    let created_at: chrono::DateTime<chrono::Utc> = created.body["created_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let micros = created_at.timestamp_micros();
    assert!(
        (before.timestamp_micros()..=after.timestamp_micros()).contains(&micros),
        "{created_at} is not the time of the request"
    );
    assert_eq!(
        created.body["number"],
        format!("Q-{}-000001", created_at.year()),
        "{}",
        created.text
    );
    assert_eq!(created.body["status"], "draft");
    assert_eq!(created.body["total"], "72395.93");
    assert_eq!(
        created.body["request"]["rates"].as_array().unwrap().len(),
        2
    );

    let listed = admin.get("/api/quotes?status=draft").await.expect(200);
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    assert!(
        listed.body["items"][0].get("result").is_none(),
        "lists are summaries"
    );
    assert_eq!(
        admin.get("/api/quotes?status=sent").await.expect(200).body["items"],
        json!([])
    );
    admin
        .get("/api/quotes?status=nope")
        .await
        .expect_error(400, "invalid_status");

    let path = format!("/api/quotes/{id}");
    admin
        .patch(&path, &json!({"status": "accepted"}))
        .await
        .expect_error(409, "illegal_transition");
    let sent = admin
        .patch(&path, &json!({"status": "sent", "title": "Final"}))
        .await
        .expect(200);
    assert_eq!(
        (sent.body["status"].as_str(), sent.body["title"].as_str()),
        (Some("sent"), Some("Final"))
    );
    admin
        .patch(&path, &json!({}))
        .await
        .expect_error(400, "empty_update");
    admin
        .patch(&path, &json!({"status": "sent"}))
        .await
        .expect_error(409, "illegal_transition");
    admin
        .post(&format!("{path}/recalculate"), &json!({}))
        .await
        .expect_error(409, "quote_not_draft");

    let csv = admin
        .send(admin.request(reqwest::Method::GET, "/api/quotes/export"))
        .await
        .expect(200);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(
        lines[0].starts_with("id,number,title,status,currency,subtotal,tax,total"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1].contains(",Final,sent,RUB,60329.94,12065.99,72395.93,pricing,1,"),
        "{}",
        lines[1]
    );
    let ndjson = admin
        .send(
            admin
                .request(reqwest::Method::GET, "/api/quotes/export?status=sent")
                .header("accept", "application/x-ndjson"),
        )
        .await
        .expect(200);
    let row: Value = serde_json::from_str(ndjson.text.lines().next().unwrap()).unwrap();
    assert_eq!(row["result"]["total"], "72395.93");

    let verified = admin
        .post(&format!("{path}/verify"), &json!({}))
        .await
        .expect(200);
    assert_eq!(verified.body["identical"], true, "{}", verified.text);
    admin.delete(&path).await.expect(204);
    admin.get(&path).await.expect_error(404, "quote_not_found");
}

async fn a_quote_verifies_after_a_new_version_and_recalculates(backend: Backend) {
    let server = TestServer::start(backend).await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    let quote = admin
        .post("/api/quotes", &plain_quote("v1"))
        .await
        .expect(201);
    let id = quote.body["id"].as_str().unwrap();
    assert_eq!(quote.body["plugin"]["version"], 1);

    // Version 2 of the same plugin prices differently (slow-ok ignores markup and VAT).
    let mut v2 = plugin_bytes("hostile-slow-ok");
    admin
        .upload("standard", std::mem::take(&mut v2))
        .await
        .expect(201);
    admin
        .post("/api/plugins/standard/activate", &json!({"version": 2}))
        .await
        .expect(200);
    let verified = admin
        .post(&format!("/api/quotes/{id}/verify"), &json!({}))
        .await
        .expect(200);
    assert_eq!(verified.body["identical"], true, "{}", verified.text);
    assert_eq!(verified.body["plugin"]["version"], 1);

    // Recalculation uses the active version and keeps the old result as a revision.
    let recalculated = admin
        .post(&format!("/api/quotes/{id}/recalculate"), &json!({}))
        .await
        .expect(200);
    assert_eq!(recalculated.body["revision"], 2);
    assert_eq!(recalculated.body["plugin"]["version"], 2);
    assert_ne!(recalculated.body["total"], quote.body["total"]);
    let verified = admin
        .post(&format!("/api/quotes/{id}/verify"), &json!({}))
        .await
        .expect(200);
    assert_eq!(verified.body["identical"], true);

    // A tampered result is caught, with the difference named.
    tamper_total(&server, id).await;
    let verified = admin
        .post(&format!("/api/quotes/{id}/verify"), &json!({}))
        .await
        .expect(200);
    assert_eq!(verified.body["identical"], false);
    assert_eq!(
        verified.body["differences"][0]["path"], "/total",
        "{}",
        verified.text
    );
    assert_eq!(verified.body["differences"][0]["stored"], "0.01");

    // Once the version is gone, it cannot be re-run.
    admin
        .post("/api/plugins/standard/activate", &json!({"version": 1}))
        .await
        .expect(200);
    admin
        .delete("/api/plugins/standard/versions/2")
        .await
        .expect(204);
    admin
        .post(&format!("/api/quotes/{id}/verify"), &json!({}))
        .await
        .expect_error(409, "plugin_version_unavailable");
}

/// Rewrites a stored result's total behind the API's back.
async fn tamper_total(server: &TestServer, id: &str) {
    let sql = match server.database.backend {
        Backend::Sqlite => "UPDATE quotes SET result = json_set(result, '$.total', '0.01')",
        Backend::Postgres => {
            "UPDATE quotes SET result = jsonb_set(result::jsonb, '{total}', '\"0.01\"')::json"
        }
    };
    let id = uuid::Uuid::parse_str(id).unwrap();
    match server.database.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&server.database.url)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("{sql} WHERE id = ?")))
                .bind(id.as_bytes().to_vec())
                .execute(&pool)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&server.database.url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("{sql} WHERE id = $1")))
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
}

async fn checks_before_the_plugin_runs(backend: Backend) {
    let server = TestServer::start(backend).await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = bearing_quote("t");
        body.as_object_mut().unwrap().remove("title");
        change(&mut body);
        body
    };
    let unknown = admin
        .post(
            "/api/quotes/calculate",
            &with(&|b| b["variables"]["colour"] = json!("red")),
        )
        .await;
    assert!(
        unknown
            .expect_error(422, "unknown_variable")
            .text
            .contains("colour")
    );
    let kind = admin
        .post(
            "/api/quotes/calculate",
            &with(&|b| b["variables"]["vat_percent"] = json!("twenty")),
        )
        .await;
    assert!(
        kind.expect_error(422, "invalid_variable")
            .text
            .contains("vat_percent")
    );
    let scope = admin
        .post(
            "/api/quotes/calculate",
            &with(&|b| b["items"][0]["attributes"] = json!({"vat_percent": "5"})),
        )
        .await;
    assert!(
        scope
            .expect_error(422, "invalid_variable")
            .text
            .contains("items[0].attributes.vat_percent")
    );
    let missing_rate = admin
        .post(
            "/api/quotes/calculate",
            &with(&|b| b["items"][0]["currency"] = json!("CNY")),
        )
        .await;
    assert!(
        missing_rate
            .expect_error(422, "missing_rate")
            .text
            .contains("CNY->RUB"),
        "names the pair"
    );
    let too_early = admin
        .post(
            "/api/quotes/calculate",
            &with(&|b| b["date"] = json!("2026-01-01")),
        )
        .await;
    too_early.expect_error(422, "missing_rate");
    let rates = admin
        .post("/api/quotes/calculate", &with(&|b| b["rates"] = json!([])))
        .await;
    rates.expect_error(400, "invalid_request");
    admin
        .post(
            "/api/quotes/calculate",
            &with(&|b| b["plugin"] = json!("nope")),
        )
        .await
        .expect_error(404, "plugin_not_found");
    admin
        .post(
            "/api/quotes/calculate",
            &with(&|b| b["plugin"] = json!("standard@9")),
        )
        .await
        .expect_error(404, "plugin_not_found");
    let duplicate = with(&|b| {
        b["items"][0]["id"] = json!("x");
        b["items"][1]["id"] = json!("x");
    });
    admin
        .post("/api/quotes/calculate", &duplicate)
        .await
        .expect_error(400, "invalid_request");
    let cross = admin
        .post(
            "/api/quotes/calculate",
            &with(&|b| b["currency"] = json!("EUR")),
        )
        .await
        .expect(200);
    assert_eq!(
        cross.body["rates"].as_array().unwrap().len(),
        2,
        "USD->EUR through RUB: both legs"
    );

    // A required variable (import-calc declares several) must be given.
    admin
        .upload("import", plugin_bytes("import-calc"))
        .await
        .expect(201);
    let mut bare = plain_quote("t");
    bare.as_object_mut().unwrap().remove("title");
    bare["plugin"] = json!("import@1");
    let missing = admin.post("/api/quotes/calculate", &bare).await;
    missing.expect_error(422, "missing_variable");
}

async fn pagination_is_stable_under_concurrent_inserts(backend: Backend) {
    let server = TestServer::start(backend).await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    for batch in 0..6 {
        let creations = (0..20).map(|n| {
            let admin = admin.clone();
            async move {
                admin
                    .post("/api/quotes", &bearing_quote(&format!("q{batch}-{n}")))
                    .await
                    .expect(201)
            }
        });
        futures::future::join_all(creations).await;
    }
    let before: HashSet<String> = all_ids(&admin, "/api/quotes?limit=100").await;
    assert_eq!(before.len(), 120);

    // Page through while 30 more are being created: every old quote exactly once.
    let writer = {
        let admin = admin.clone();
        tokio::spawn(async move {
            for n in 0..30 {
                admin
                    .post("/api/quotes", &bearing_quote(&format!("late-{n}")))
                    .await
                    .expect(201);
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/quotes?limit=7&cursor={cursor}"),
            None => "/api/quotes?limit=7".to_string(),
        };
        let page = admin.get(&path).await.expect(200);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q["id"].as_str().unwrap().to_string()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    writer.await.unwrap();
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a quote appeared twice");
    assert!(before.is_subset(&unique), "a quote was skipped");
    let numbers: HashSet<String> = {
        let page = admin.get("/api/quotes?limit=100").await.expect(200);
        page.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["number"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(numbers.len(), 100, "numbers are unique");
}

async fn all_ids(admin: &quote_tests::Client, first: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut path = first.to_string();
    loop {
        let page = admin.get(&path).await.expect(200);
        ids.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q["id"].as_str().unwrap().to_string()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => path = format!("{first}&cursor={next}"),
            None => return ids,
        }
    }
}

on_both_databases!(
    upload_calculate_store_list_patch_export_verify,
    a_quote_verifies_after_a_new_version_and_recalculates,
    checks_before_the_plugin_runs,
    pagination_is_stable_under_concurrent_inserts,
);
