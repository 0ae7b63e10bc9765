//! Another organization's objects do not exist for you: every resource answers 404.

use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, TestServer, on_both_databases, wait};
use serde_json::json;
use std::time::Duration;

async fn tenants_cannot_reach_each_other(backend: Backend) {
    // Activity is written within 50 ms, so the activity check below looks at a written log.
    let server =
        TestServer::start_with(backend, |config| config.activity.flush_interval_ms = 50).await;
    let demo = server.admin();
    let other = super::other_organization(&server, "acme");

    assert_eq!(
        other.get("/api/me").await.expect(200).body["organization"]["name"],
        "acme"
    );
    // acme has no plugins; demo's are invisible to it.
    assert_eq!(
        other.get("/api/plugins").await.expect(200).body["items"],
        json!([])
    );
    other
        .get("/api/plugins/standard")
        .await
        .expect_error(404, "plugin_not_found");
    other
        .post("/api/plugins/standard/activate", &json!({"version": 1}))
        .await
        .expect_error(404, "plugin_version_not_found");
    other
        .delete("/api/plugins/standard/versions/1")
        .await
        .expect_error(404, "plugin_version_not_found");

    // demo's keys cannot be listed or revoked from acme.
    let demo_key_id = demo.get("/api/me").await.expect(200).body["api_key"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let acme_keys = other.get("/api/api-keys").await.expect(200);
    assert!(!acme_keys.text.contains(&demo_key_id));
    other
        .delete(&format!("/api/api-keys/{demo_key_id}"))
        .await
        .expect_error(404, "api_key_not_found");
    demo.get("/api/me").await.expect(200);

    // Same plugin name in both: independent registries.
    other
        .upload("standard", plugin_bytes("hostile-slow-ok"))
        .await
        .expect(201);
    let demo_standard = demo.get("/api/plugins/standard").await.expect(200);
    assert_eq!(demo_standard.body["versions"].as_array().unwrap().len(), 1);
    assert_eq!(
        demo_standard.body["versions"][0]["describe"]["name"],
        "standard"
    );

    // Quotes: acme sees none of demo's, and cannot touch one by id.
    let body = json!({"currency": "RUB", "items": [{"sku": "A", "quantity": "1", "unit_price": "10", "currency": "RUB"}]});
    let quote = demo.post("/api/quotes", &body).await.expect(201);
    let id = quote.body["id"].as_str().unwrap();
    assert_eq!(
        other.get("/api/quotes").await.expect(200).body["items"],
        json!([])
    );
    other
        .get(&format!("/api/quotes/{id}"))
        .await
        .expect_error(404, "quote_not_found");
    other
        .patch(&format!("/api/quotes/{id}"), &json!({"title": "mine"}))
        .await
        .expect_error(404, "quote_not_found");
    other
        .delete(&format!("/api/quotes/{id}"))
        .await
        .expect_error(404, "quote_not_found");
    other
        .post(&format!("/api/quotes/{id}/verify"), &json!({}))
        .await
        .expect_error(404, "quote_not_found");
    demo.get(&format!("/api/quotes/{id}")).await.expect(200);
    // demo's log has the quote's creation; acme's, written by the same writer, does not.
    let logged = async |client: &quote_tests::Client| {
        let page = client
            .get("/api/activity-logs?action=quote.create")
            .await
            .expect(200);
        page.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["entity_id"] == id)
    };
    wait::until(
        "demo's quote.create entry",
        Duration::from_secs(10),
        async || logged(&demo).await,
    )
    .await;
    assert!(!logged(&other).await, "acme sees demo's activity");
    // acme's own upload, queued before demo's quote, is written and visible to acme.
    let own = other
        .get("/api/activity-logs?action=plugin.upload")
        .await
        .expect(200);
    assert_eq!(
        own.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        own.text
    );
    let activity = other.get("/api/activity-logs").await.expect(200);
    assert!(!activity.text.contains(id), "acme sees demo's activity");
}

on_both_databases!(tenants_cannot_reach_each_other);
