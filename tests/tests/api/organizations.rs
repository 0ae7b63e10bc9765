//! `quote-host org create`: a new organization starts with the standard rule set,
//! active, as the first one does; `--no-plugin` starts it empty.

use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::json;

async fn a_new_organization_starts_with_the_standard_plugin(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = super::organization_from_cli(&server, "acme", &[]);

    let standard = acme.get("/api/plugins/standard").await.expect(200);
    assert_eq!(standard.body["active_version"], 1, "{}", standard.text);
    assert_eq!(standard.body["versions"][0]["describe"]["name"], "standard");
    let body = json!({"currency": "RUB", "variables": {"markup_percent": "10"},
        "items": [{"sku": "A-1", "quantity": "2", "unit_price": "100.00", "currency": "RUB"}]});
    let priced = acme.post("/api/quotes/calculate", &body).await.expect(200);
    assert_eq!(priced.body["plugin"]["name"], "standard", "{}", priced.text);

    let bare = super::organization_from_cli(&server, "bare", &["--no-plugin"]);
    assert_eq!(
        bare.get("/api/plugins").await.expect(200).body["items"],
        json!([])
    );
    bare.post("/api/quotes/calculate", &body)
        .await
        .expect_error(422, "no_active_plugin");
}

on_both_databases!(a_new_organization_starts_with_the_standard_plugin);
