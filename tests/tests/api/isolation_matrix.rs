//! Every tenant-scoped route, asked by another organization: it answers 404 or shows
//! only its own data, and the first organization's data is unchanged afterwards.
//! Both organizations hold data, so "empty" cannot come from a listing that is broken
//! for everyone.

use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// A RUB-only quote any plugin prices without rates.
fn rub_quote(title: &str) -> Value {
    json!({"title": title, "currency": "RUB",
           "items": [{"sku": "A", "quantity": "2", "unit_price": "10", "currency": "RUB"}]})
}

/// What organization A can see of its own data, minus fields that change by reading.
async fn snapshot(a: &Client, quote_id: &str) -> Value {
    let keys: BTreeSet<String> = ids(&a.get("/api/api-keys").await.expect(200).body["items"]);
    let dashboard = a.get("/api/dashboard/stats").await.expect(200).body;
    json!({
        "quote": a.get(&format!("/api/quotes/{quote_id}")).await.expect(200).body,
        "quotes": a.get("/api/quotes").await.expect(200).body,
        "export": a.get("/api/quotes/export").await.expect(200).text,
        "plugins": a.get("/api/plugins").await.expect(200).body,
        "plugin": a.get("/api/plugins/standard").await.expect(200).body,
        "keys": keys,
        "dashboard": [dashboard["quotes_by_status"].clone(), dashboard["recent_quotes"].clone()],
    })
}

fn ids(items: &Value) -> BTreeSet<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {items}"))
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until `client`'s activity log shows an entry about `entity_id`.
async fn wait_for_activity(client: &Client, entity_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = client.get("/api/activity-logs?limit=100").await.expect(200);
        if page.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["entity_id"] == entity_id)
        {
            return page.body;
        }
        assert!(
            Instant::now() < deadline,
            "no activity entry for {entity_id} within 20 s: {}",
            page.text
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn every_tenant_route_hides_the_other_organization(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.activity.flush_interval_ms = 20;
    })
    .await;
    let a = server.admin();
    let b = super::other_organization(&server, "acme");
    let a_quote = a.post("/api/quotes", &rub_quote("A's")).await.expect(201);
    let a_id = a_quote.body["id"].as_str().unwrap().to_string();
    let a_key = a.get("/api/me").await.expect(200).body["api_key"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for_activity(&a, &a_id).await;

    // B's own data: a plugin of another name, and a quote priced by it.
    b.upload("mine", plugin_bytes("hostile-slow-ok"))
        .await
        .expect(201);
    b.post("/api/plugins/mine/activate", &json!({"version": 1}))
        .await
        .expect(200);
    let b_quote = b.post("/api/quotes", &rub_quote("B's")).await.expect(201);
    let b_id = b_quote.body["id"].as_str().unwrap().to_string();
    let b_key = b.get("/api/me").await.expect(200).body["api_key"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let before = snapshot(&a, &a_id).await;

    // Quotes by id: read, change, delete, re-price, verify.
    let quote = format!("/api/quotes/{a_id}");
    b.get(&quote).await.expect_error(404, "quote_not_found");
    b.patch(&quote, &json!({"title": "mine"}))
        .await
        .expect_error(404, "quote_not_found");
    b.patch(&quote, &json!({"status": "sent"}))
        .await
        .expect_error(404, "quote_not_found");
    b.post(&format!("{quote}/recalculate"), &json!({}))
        .await
        .expect_error(404, "quote_not_found");
    b.post(&format!("{quote}/verify"), &json!({}))
        .await
        .expect_error(404, "quote_not_found");
    b.delete(&quote).await.expect_error(404, "quote_not_found");

    // Listings and exports: B's quote only.
    let listed = b.get("/api/quotes").await.expect(200);
    assert_eq!(ids(&listed.body["items"]), BTreeSet::from([b_id.clone()]));
    let csv = b.get("/api/quotes/export").await.expect(200);
    let rows: Vec<&str> = csv.text.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{}", csv.text);
    assert!(rows[0].starts_with(&b_id), "{}", csv.text);
    let ndjson = b
        .send(
            b.request(reqwest::Method::GET, "/api/quotes/export")
                .header("accept", "application/x-ndjson"),
        )
        .await
        .expect(200);
    assert!(!ndjson.text.contains(&a_id), "{}", ndjson.text);
    assert_eq!(ndjson.text.lines().count(), 1, "{}", ndjson.text);

    // The dashboard, asked right after A's was computed and cached.
    let dashboard = b.get("/api/dashboard/stats").await.expect(200);
    assert_eq!(
        ids(&dashboard.body["recent_quotes"]),
        BTreeSet::from([b_id.clone()])
    );
    let counted: i64 = dashboard.body["quotes_by_status"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!(counted, 1, "{}", dashboard.text);

    // Calculating with A's plugin, by name or by version.
    for plugin in ["standard", "standard@1"] {
        let mut body = rub_quote("t");
        body.as_object_mut().unwrap().remove("title");
        body["plugin"] = json!(plugin);
        b.post("/api/quotes/calculate", &body)
            .await
            .expect_error(404, "plugin_not_found");
        b.post("/api/quotes", &body)
            .await
            .expect_error(404, "plugin_not_found");
    }

    // Activity: B's entries only, whatever the filter.
    wait_for_activity(&b, &b_id).await;
    for path in [
        "/api/activity-logs?limit=100",
        "/api/activity-logs?action=quote.create&limit=100",
        "/api/activity-logs?entity_type=quote&limit=100",
    ] {
        let page = b.get(path).await.expect(200);
        let entries = page.body["items"].as_array().unwrap();
        assert!(!entries.is_empty(), "{path}: {}", page.text);
        for entry in entries {
            assert_eq!(entry["api_key_id"], b_key.as_str(), "{path}: {entry}");
            assert_ne!(entry["entity_id"], a_id.as_str(), "{path}: {entry}");
        }
    }

    // Plugins: only B's; A's cannot be read, activated or deleted.
    let plugins = b.get("/api/plugins").await.expect(200);
    let names: Vec<&str> = plugins.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plugin| plugin["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mine"], "{}", plugins.text);
    b.get("/api/plugins/standard")
        .await
        .expect_error(404, "plugin_not_found");
    b.post("/api/plugins/standard/activate", &json!({"version": 1}))
        .await
        .expect_error(404, "plugin_version_not_found");
    b.delete("/api/plugins/standard/versions/1")
        .await
        .expect_error(404, "plugin_version_not_found");

    // Keys: only B's; A's cannot be revoked.
    let keys = b.get("/api/api-keys").await.expect(200);
    assert_eq!(ids(&keys.body["items"]), BTreeSet::from([b_key.clone()]));
    b.delete(&format!("/api/api-keys/{a_key}"))
        .await
        .expect_error(404, "api_key_not_found");

    // A's data is as it was, and A's key still works.
    let after = snapshot(&a, &a_id).await;
    assert_eq!(before, after, "B's requests changed A's data");
    let a_log = wait_for_activity(&a, &a_id).await;
    for entry in a_log["items"].as_array().unwrap() {
        assert_eq!(entry["api_key_id"], a_key.as_str(), "{entry}");
    }
}

on_both_databases!(every_tenant_route_hides_the_other_organization);
