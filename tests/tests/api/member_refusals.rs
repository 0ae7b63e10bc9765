//! A member key is refused (403 `forbidden`) on every administrative route, and the
//! refused request changes nothing; the same request with the admin key then works,
//! so the refusal is the role check, not a broken route.

use quote_tests::fake_cbr::{FIXTURE, FakeCbr, Reply};
use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::json;

async fn active_version(admin: &Client) -> serde_json::Value {
    admin.get("/api/plugins/standard").await.expect(200).body["active_version"].clone()
}

async fn key_ids(admin: &Client) -> Vec<String> {
    let keys = admin.get("/api/api-keys").await.expect(200).body;
    let mut ids: Vec<String> = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

async fn a_member_key_is_refused_on_admin_routes(backend: Backend) {
    let cbr = FakeCbr::start(Reply::Body(FIXTURE)).await;
    let server = TestServer::start_with(backend, |config| {
        config.exchange_rates.enabled = true;
        config.exchange_rates.fetch_on_start = false;
        config.exchange_rates.source_url = cbr.url.clone();
        config.exchange_rates.retries = 0;
    })
    .await;
    let admin = server.admin();
    let new_member = |name: &'static str| {
        let admin = admin.clone();
        async move {
            let created = admin
                .post("/api/api-keys", &json!({"name": name, "role": "member"}))
                .await
                .expect(201);
            (
                created.body["id"].as_str().unwrap().to_string(),
                created.body["key_secret"].as_str().unwrap().to_string(),
            )
        }
    };
    let (_, secret) = new_member("member").await;
    let (colleague_id, colleague_secret) = new_member("colleague").await;
    let member = server.client(&secret);
    let admin_id = admin.get("/api/me").await.expect(200).body["api_key"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin
        .upload("standard", plugin_bytes("hostile-slow-ok"))
        .await
        .expect(201);
    assert_eq!(active_version(&admin).await, 1);

    // Activate (a rollback or roll-forward is an admin decision).
    member
        .post("/api/plugins/standard/activate", &json!({"version": 2}))
        .await
        .expect_error(403, "forbidden");
    assert_eq!(active_version(&admin).await, 1, "the refusal activated");

    // Delete a version.
    member
        .delete("/api/plugins/standard/versions/2")
        .await
        .expect_error(403, "forbidden");
    let versions = admin.get("/api/plugins/standard").await.expect(200).body["versions"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(versions, 2, "the refusal deleted a version");

    // Upload.
    member
        .upload("mine", plugin_bytes("standard"))
        .await
        .expect_error(403, "forbidden");
    admin
        .get("/api/plugins/mine")
        .await
        .expect_error(404, "plugin_not_found");

    // Create a key: neither role may be minted by a member.
    let keys = key_ids(&admin).await;
    for role in ["admin", "member"] {
        member
            .post("/api/api-keys", &json!({"name": "x", "role": role}))
            .await
            .expect_error(403, "forbidden");
    }
    assert_eq!(key_ids(&admin).await, keys, "the refusal created a key");

    // Revoke a key: a colleague's, the admin's, or its own.
    for id in [&colleague_id, &admin_id] {
        member
            .delete(&format!("/api/api-keys/{id}"))
            .await
            .expect_error(403, "forbidden");
    }
    let own_id = member.get("/api/me").await.expect(200).body["api_key"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    member
        .delete(&format!("/api/api-keys/{own_id}"))
        .await
        .expect_error(403, "forbidden");
    assert_eq!(key_ids(&admin).await, keys, "the refusal revoked a key");
    server
        .client(&colleague_secret)
        .get("/api/me")
        .await
        .expect(200);

    // Detailed health and a rate refresh.
    member
        .get("/api/health/detailed")
        .await
        .expect_error(403, "forbidden");
    member
        .post("/api/exchange-rates/refresh", &json!({}))
        .await
        .expect_error(403, "forbidden");
    assert_eq!(
        cbr.hits(),
        0,
        "the refused refresh reached the central bank"
    );

    // What members may do still works for them.
    member.get("/api/plugins").await.expect(200);
    member.get("/api/me").await.expect(200);

    // The admin key does each of these.
    admin.get("/api/health/detailed").await.expect(200);
    admin
        .post("/api/exchange-rates/refresh", &json!({}))
        .await
        .expect(200);
    assert_eq!(cbr.hits(), 1);
    admin
        .post("/api/plugins/standard/activate", &json!({"version": 2}))
        .await
        .expect(200);
    admin
        .post("/api/plugins/standard/activate", &json!({"version": 1}))
        .await
        .expect(200);
    admin
        .delete("/api/plugins/standard/versions/2")
        .await
        .expect(204);
    admin
        .post("/api/api-keys", &json!({"name": "x", "role": "member"}))
        .await
        .expect(201);
    admin
        .delete(&format!("/api/api-keys/{colleague_id}"))
        .await
        .expect(204);
    server
        .client(&colleague_secret)
        .get("/api/me")
        .await
        .expect_error(401, "invalid_api_key");
}

on_both_databases!(a_member_key_is_refused_on_admin_routes);
