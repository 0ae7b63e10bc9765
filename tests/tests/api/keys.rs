//! API keys: created and shown once, listed by prefix, roles enforced, revoked at once,
//! the last admin key kept even against concurrent revocations, last use recorded.

use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};
use std::time::Duration;

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

/// Rounds of two admin keys, the organization's only ones, revoking each other at once.
const MUTUAL_REVOKE_ROUNDS: usize = 30;

async fn admin_keys_revoking_each_other_leave_one(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut survivor = server.admin();
    let mut survivor_id = own_key_id(&survivor).await;
    let mut refused = 0;
    for round in 0..MUTUAL_REVOKE_ROUNDS {
        let (other, other_id) = new_key(&server, &survivor, "admin").await;
        other.get("/api/me").await.expect(200);
        let (revoke_other, revoke_survivor) = (
            format!("/api/api-keys/{other_id}"),
            format!("/api/api-keys/{survivor_id}"),
        );
        let (by_survivor, by_other) = tokio::join!(
            survivor.delete(&revoke_other),
            other.delete(&revoke_survivor),
        );
        let statuses = (by_survivor.status.as_u16(), by_other.status.as_u16());
        let (loser, winner) = match statuses {
            (204, _) => (by_other, None),
            (_, 204) => (by_survivor, Some((other, other_id))),
            _ => panic!(
                "round {round}: neither revocation succeeded: {} / {}",
                by_survivor.text, by_other.text
            ),
        };
        // The loser is refused by the guard, or (revoked first) by authentication.
        match loser.status.as_u16() {
            409 => {
                loser.expect_error(409, "last_admin_key");
                refused += 1;
            }
            401 => drop(loser.expect_error(401, "invalid_api_key")),
            status => panic!("round {round}: both revocations answered {status}, not 401/409"),
        }
        if let Some((client, id)) = winner {
            (survivor, survivor_id) = (client, id);
        }
        let keys = survivor.get("/api/api-keys").await.expect(200);
        let admins = keys.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|key| key["role"] == "admin")
            .count();
        assert_eq!(admins, 1, "round {round}: {}", keys.text);
    }
    assert!(refused > 0, "no round reached the last-admin guard");
}

async fn own_key_id(client: &Client) -> String {
    let me = client.get("/api/me").await.expect(200);
    me.body["api_key"]["id"].as_str().unwrap().to_string()
}

/// A new key of `role` made by `admin`: a client with it, and its id.
async fn new_key(server: &TestServer, admin: &Client, role: &str) -> (Client, String) {
    let created = admin
        .post("/api/api-keys", &json!({"name": "k", "role": role}))
        .await
        .expect(201);
    let secret = created.body["key_secret"].as_str().unwrap();
    let id = created.body["id"].as_str().unwrap().to_string();
    (server.client(secret), id)
}

/// `last_used_at` of key `id` as the key list shows it.
async fn last_used_at(admin: &Client, id: &str) -> Value {
    let keys = admin.get("/api/api-keys").await.expect(200);
    let items = keys.body["items"].as_array().unwrap();
    let key = items.iter().find(|key| key["id"] == id).unwrap();
    key["last_used_at"].clone()
}

/// Waits (at most 10 s) until the key list shows a `last_used_at` for `id` other
/// than `before`, and returns it.
async fn last_used_at_changed(admin: &Client, id: &str, before: &Value) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = last_used_at(admin, id).await;
        if now != *before {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "last_used_at stayed {before} for 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn last_use_is_recorded_once_per_interval(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    let (member, id) = new_key(&server, &admin, "member").await;
    assert_eq!(last_used_at(&admin, &id).await, Value::Null);

    member.get("/api/me").await.expect(200);
    let first = last_used_at_changed(&admin, &id, &Value::Null).await;
    assert!(first.is_string(), "{first}");

    // Used again within the interval (60 s by default): not written again.
    for _ in 0..5 {
        member.get("/api/plugins").await.expect(200);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(last_used_at(&admin, &id).await, first);
}

async fn last_use_is_written_again_after_the_interval(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.auth.last_used_interval_s = 1;
    })
    .await;
    let admin = server.admin();
    let (member, id) = new_key(&server, &admin, "member").await;
    member.get("/api/me").await.expect(200);
    let first = last_used_at_changed(&admin, &id, &Value::Null).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    member.get("/api/me").await.expect(200);
    let second = last_used_at_changed(&admin, &id, &first).await;
    let parse = |at: &Value| chrono::DateTime::parse_from_rfc3339(at.as_str().unwrap()).unwrap();
    assert!(parse(&second) > parse(&first), "{first} then {second}");
}

on_both_databases!(
    key_lifecycle_and_roles,
    key_requests_are_validated,
    admin_keys_revoking_each_other_leave_one,
    last_use_is_recorded_once_per_interval,
    last_use_is_written_again_after_the_interval,
);
