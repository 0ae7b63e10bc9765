//! Rollback: after an older version is activated again, the very next calculation,
//! stored quote and recalculation are priced by it, not by the newer one.

use quote_tests::server::plugin_bytes;
use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};

/// 2 × 10.00 RUB. The standard rules (version 1) add 20 % VAT: 20.00 + 4.00 = 24.00.
/// `slow-ok` (version 2) charges no VAT: 20.
fn two_tens() -> Value {
    json!({"currency": "RUB",
           "items": [{"sku": "A", "quantity": "2", "unit_price": "10.00", "currency": "RUB"}]})
}

async fn calculate(client: &Client, body: &Value) -> Value {
    client
        .post("/api/quotes/calculate", body)
        .await
        .expect(200)
        .body
}

async fn activate(admin: &Client, version: i32) {
    let activated = admin
        .post(
            "/api/plugins/standard/activate",
            &json!({"version": version}),
        )
        .await
        .expect(200);
    assert_eq!(activated.body["version"], version);
}

async fn the_next_calculation_after_a_rollback_uses_the_older_version(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    let first = calculate(&admin, &two_tens()).await;
    assert_eq!(first["plugin"]["version"], 1);
    assert_eq!(
        (
            first["result"]["tax"].as_str(),
            first["result"]["total"].as_str()
        ),
        (Some("4.00"), Some("24.00"))
    );

    admin
        .upload("standard", plugin_bytes("hostile-slow-ok"))
        .await
        .expect(201);
    activate(&admin, 2).await;
    let newer = calculate(&admin, &two_tens()).await;
    assert_eq!(newer["plugin"]["version"], 2);
    assert_ne!(newer["plugin"]["sha256"], first["plugin"]["sha256"]);
    assert_ne!(
        newer["result"]["total"], "24.00",
        "the versions price differently"
    );
    let mut stored = two_tens();
    stored["title"] = json!("priced by version 2");
    let quote = admin.post("/api/quotes", &stored).await.expect(201).body;
    assert_eq!(quote["plugin"]["version"], 2);
    let id = quote["id"].as_str().unwrap();

    // Roll back; nothing in between.
    activate(&admin, 1).await;
    let rolled_back = calculate(&admin, &two_tens()).await;
    assert_eq!(rolled_back["plugin"], first["plugin"]);
    assert_eq!(rolled_back["result"], first["result"]);
    let mut by_name = two_tens();
    by_name["plugin"] = json!("standard");
    assert_eq!(calculate(&admin, &by_name).await["plugin"]["version"], 1);
    let created = admin.post("/api/quotes", &stored).await.expect(201).body;
    assert_eq!(created["plugin"]["version"], 1);
    assert_eq!(created["total"], "24.00");
    let recalculated = admin
        .post(&format!("/api/quotes/{id}/recalculate"), &json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(recalculated["plugin"]["version"], 1);
    assert_eq!(recalculated["total"], "24.00");
    assert_eq!(recalculated["revision"], 2);

    // And forward again.
    activate(&admin, 2).await;
    assert_eq!(
        calculate(&admin, &two_tens()).await["result"],
        newer["result"]
    );
}

on_both_databases!(the_next_calculation_after_a_rollback_uses_the_older_version);
