//! `auth.max_keys_per_organization`: per-key limits cannot be multiplied without bound.

use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::json;

async fn keys_per_organization_are_capped(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.auth.max_keys_per_organization = 3;
    })
    .await;
    let admin = server.admin();
    let new_key = json!({"name": "app", "role": "member"});
    // The first admin key is one of the three.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let created = admin.post("/api/api-keys", &new_key).await.expect(201);
        ids.push(created.body["id"].as_str().unwrap().to_string());
    }
    let refused = admin
        .post("/api/api-keys", &new_key)
        .await
        .expect_error(409, "api_key_limit_reached");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoke")
    );
    admin
        .delete(&format!("/api/api-keys/{}", ids[0]))
        .await
        .expect(204);
    admin.post("/api/api-keys", &new_key).await.expect(201);
    admin
        .post("/api/api-keys", &new_key)
        .await
        .expect_error(409, "api_key_limit_reached");
}

on_both_databases!(keys_per_organization_are_capped);
