//! API keys: created and shown once, listed by prefix, roles enforced, revoked at once.

use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::json;

async fn key_lifecycle_and_roles(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();

    let created = admin
        .post(
            "/api/api-keys",
            &json!({"name": "sales app", "role": "member"}),
        )
        .await
        .expect(201);
    let secret = created.body["key_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with(created.body["prefix"].as_str().unwrap()));
    let member_id = created.body["id"].as_str().unwrap().to_string();

    let listed = admin.get("/api/api-keys").await.expect(200);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        !listed.text.contains(&secret),
        "a listing must never show a secret"
    );
    assert!(items.iter().all(|key| key.get("key_secret").is_none()));

    let member = server.client(&secret);
    assert_eq!(
        member.get("/api/me").await.expect(200).body["api_key"]["role"],
        "member"
    );
    member.get("/api/plugins").await.expect(200);
    member
        .get("/api/api-keys")
        .await
        .expect_error(403, "forbidden");
    member
        .post("/api/api-keys", &json!({"name": "x", "role": "admin"}))
        .await
        .expect_error(403, "forbidden");
    member
        .upload("mine", quote_tests::server::plugin_bytes("standard"))
        .await
        .expect_error(403, "forbidden");

    server
        .anonymous()
        .get("/api/me")
        .await
        .expect_error(401, "missing_api_key");
    server
        .client("qh_not-a-real-key")
        .get("/api/me")
        .await
        .expect_error(401, "invalid_api_key");
    let basic = server
        .anonymous()
        .request(reqwest::Method::GET, "/api/me")
        .basic_auth("user", Some("pw"));
    server
        .anonymous()
        .send(basic)
        .await
        .expect_error(401, "invalid_api_key");

    admin
        .delete(&format!("/api/api-keys/{member_id}"))
        .await
        .expect(204);
    member
        .get("/api/me")
        .await
        .expect_error(401, "invalid_api_key");
    admin
        .delete(&format!("/api/api-keys/{member_id}"))
        .await
        .expect_error(404, "api_key_not_found");

    // The only admin key cannot lock the organization out.
    let me = admin.get("/api/me").await.expect(200);
    let own_id = me.body["api_key"]["id"].as_str().unwrap();
    admin
        .delete(&format!("/api/api-keys/{own_id}"))
        .await
        .expect_error(409, "last_admin_key");
}

async fn key_requests_are_validated(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    let reply = admin
        .post("/api/api-keys", &json!({"name": "x", "role": "owner"}))
        .await
        .expect_error(400, "invalid_body");
    assert!(reply.text.contains("owner"), "{}", reply.text);
    let reply = admin
        .post(
            "/api/api-keys",
            &json!({"name": "x", "role": "member", "colour": "red"}),
        )
        .await
        .expect_error(400, "invalid_body");
    assert!(
        reply.text.contains("unknown field `colour`"),
        "{}",
        reply.text
    );
    admin
        .post("/api/api-keys", &json!({"name": "  ", "role": "member"}))
        .await
        .expect_error(400, "invalid_name");
    let no_type = admin
        .request(reqwest::Method::POST, "/api/api-keys")
        .body(r#"{"name":"x","role":"member"}"#);
    admin
        .send(no_type)
        .await
        .expect_error(415, "unsupported_media_type");
    let broken = admin
        .request(reqwest::Method::POST, "/api/api-keys")
        .header("content-type", "application/json")
        .body("{");
    admin.send(broken).await.expect_error(400, "invalid_json");
}

on_both_databases!(key_lifecycle_and_roles, key_requests_are_validated);
