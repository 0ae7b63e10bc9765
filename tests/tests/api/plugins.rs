//! The plugin registry: upload, idempotent re-upload, versions, activate, rollback,
//! delete; garbage and the wrong world refused with the reason.

use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::json;

async fn upload_versions_activate_rollback_delete(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();

    let first = admin
        .upload("pricing", plugin_bytes("standard"))
        .await
        .expect(201);
    assert_eq!(first.body["version"], 1);
    assert_eq!(first.body["describe"]["name"], "standard");
    assert_eq!(first.body["sha256"].as_str().unwrap().len(), 64);
    // The same bytes again: the same version, nothing new.
    let again = admin
        .upload("pricing", plugin_bytes("standard"))
        .await
        .expect(200);
    assert_eq!(again.body["version"], 1);
    let second = admin
        .upload("pricing", plugin_bytes("hostile-slow-ok"))
        .await
        .expect(201);
    assert_eq!(second.body["version"], 2);

    let detail = admin.get("/api/plugins/pricing").await.expect(200);
    assert_eq!(
        detail.body.get("active_version"),
        Some(&serde_json::Value::Null),
        "an upload does not activate: {}",
        detail.text
    );
    assert_eq!(detail.body["versions"].as_array().unwrap().len(), 2);

    let activated = admin
        .post("/api/plugins/pricing/activate", &json!({"version": 2}))
        .await
        .expect(200);
    assert_eq!(activated.body["version"], 2);
    let detail = admin.get("/api/plugins/pricing").await.expect(200);
    assert_eq!(detail.body["active_version"], 2);
    assert_eq!(detail.body["variables"][0]["name"], "spin_millions");

    // Rollback is activating the older version.
    admin
        .post("/api/plugins/pricing/activate", &json!({"version": 1}))
        .await
        .expect(200);
    let detail = admin.get("/api/plugins/pricing").await.expect(200);
    assert_eq!(detail.body["active_version"], 1);
    assert_eq!(detail.body["variables"][0]["name"], "markup_percent");

    admin
        .delete("/api/plugins/pricing/versions/1")
        .await
        .expect_error(409, "plugin_version_active");
    admin
        .delete("/api/plugins/pricing/versions/2")
        .await
        .expect(204);
    admin
        .delete("/api/plugins/pricing/versions/2")
        .await
        .expect_error(404, "plugin_version_not_found");
    admin
        .post("/api/plugins/pricing/activate", &json!({"version": 2}))
        .await
        .expect_error(404, "plugin_version_not_found");
    admin
        .get("/api/plugins/nope")
        .await
        .expect_error(404, "plugin_not_found");

    let list = admin.get("/api/plugins").await.expect(200);
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"pricing") && names.contains(&"standard"));
}

/// The body of the uploads refused for their name, query or content type, which the server
/// answers before reading the body. A small one is sent whole before the answer comes; a
/// large one may still be sending when the server closes the connection (a broken pipe
/// instead of the answer, under load). `connection: close` keeps the client from reusing
/// such a connection.
const SMALL_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

async fn unusable_uploads_are_refused_with_the_reason(backend: Backend) {
    // The describe loop must hit the 500 ms deadline, whatever the CPU: fuel is set so high
    // that no machine burns it in that time.
    let server = TestServer::start_with(backend, |config| {
        config.runtime.describe_timeout_ms = 500;
        config.runtime.fuel = u64::MAX / 2;
    })
    .await;
    let admin = server.admin();
    let garbage = admin
        .upload("x", b"this is not webassembly".to_vec())
        .await
        .expect_error(422, "not_a_component");
    assert!(
        garbage.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a WebAssembly component")
    );
    admin
        .upload("x", b"\0asm\x01\0\0\0".to_vec())
        .await
        .expect_error(422, "not_a_component");
    let wrong = admin
        .upload("x", plugin_bytes("hostile-wrong-world"))
        .await
        .expect_error(422, "wrong_world");
    assert!(wrong.text.contains("calculate"), "{}", wrong.text);
    admin
        .upload("x", plugin_bytes("hostile-describe-loop"))
        .await
        .expect_error(422, "calculation_timeout");
    admin
        .upload("x", Vec::new())
        .await
        .expect_error(400, "empty_body");
    admin
        .upload("Bad Name", SMALL_COMPONENT.to_vec())
        .await
        .expect_error(400, "invalid_plugin_name");
    let no_name = admin
        .request(reqwest::Method::POST, "/api/plugins")
        .header("connection", "close")
        .header("content-type", "application/wasm")
        .body(SMALL_COMPONENT);
    admin.send(no_name).await.expect_error(400, "invalid_query");
    let json_type = admin
        .request(reqwest::Method::POST, "/api/plugins?name=x")
        .header("connection", "close")
        .header("content-type", "application/json")
        .body(SMALL_COMPONENT);
    admin
        .send(json_type)
        .await
        .expect_error(415, "unsupported_media_type");
    // Nothing of the refused uploads was stored.
    let list = admin.get("/api/plugins").await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    admin
        .get("/api/plugins/x")
        .await
        .expect_error(404, "plugin_not_found");
}

on_both_databases!(
    upload_versions_activate_rollback_delete,
    unusable_uploads_are_refused_with_the_reason
);
