//! A recalculation saves only a draft still at the revision it priced: a quote sent and
//! accepted while its slow recalculation runs stays accepted, with its total and
//! revision, and the recalculation answers 409.

use super::quotes::{plain_quote, seed_sample_rates};
use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::json;
use std::time::Duration;

/// Millions of busy-loop iterations of `hostile-slow-ok`: about 1 s of calculation
/// (0.5 ms and 10.25 M fuel per million), time enough for two PATCHes.
const SPIN_MILLIONS: &str = "2000";

/// Waits until a calculation is running in the server.
async fn wait_until_calculating(admin: &Client) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let health = admin.get("/api/health/detailed").await.expect(200);
        if health.body["calculations_in_flight"].as_u64() >= Some(1) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the recalculation never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn a_quote_accepted_during_its_recalculation_keeps_its_total(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.runtime.fuel = 100_000_000_000;
    })
    .await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    admin
        .upload("slow", plugin_bytes("hostile-slow-ok"))
        .await
        .expect(201);
    admin
        .post("/api/plugins/slow/activate", &json!({"version": 1}))
        .await
        .expect(200);
    let mut body = plain_quote("slow");
    body["plugin"] = json!("slow");
    body["variables"] = json!({"spin_millions": SPIN_MILLIONS});
    let created = admin.post("/api/quotes", &body).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_string();

    let recalculation = tokio::spawn({
        let (admin, id) = (admin.clone(), id.clone());
        async move {
            admin
                .post(&format!("/api/quotes/{id}/recalculate"), &json!({}))
                .await
        }
    });
    wait_until_calculating(&admin).await;
    admin.accept_quote(&id).await;
    recalculation
        .await
        .unwrap()
        .expect_error(409, "quote_not_draft");

    let stored = admin.get(&format!("/api/quotes/{id}")).await.expect(200);
    assert_eq!(stored.body["status"], "accepted");
    assert_eq!(stored.body["revision"], 1, "{}", stored.text);
    assert_eq!(stored.body["total"], created.body["total"]);
    assert_eq!(stored.body["priced_at"], created.body["priced_at"]);
}

on_both_databases!(a_quote_accepted_during_its_recalculation_keeps_its_total);
