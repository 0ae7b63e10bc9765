//! First start creates the demo organization, its admin key (owner-only file) and the
//! active standard plugin; a restart keeps everything and reuses compiled plugins.

use quote_tests::{Backend, TestServer, on_both_databases};

async fn first_start_creates_the_demo_tenant(backend: Backend) {
    let server = TestServer::start(backend).await;
    assert!(
        server.admin_key.starts_with("qh_") && server.admin_key.len() == 67,
        "{}",
        server.admin_key
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(server.key_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the key file must be readable only by its owner"
        );
    }
    let admin = server.admin();
    let me = admin.get("/api/me").await.expect(200);
    assert_eq!(me.body["organization"]["name"], "demo");
    assert_eq!(me.body["api_key"]["role"], "admin");
    assert!(me.body["api_key"].get("key_secret").is_none());
    let standard = admin.get("/api/plugins/standard").await.expect(200);
    assert_eq!(standard.body["active_version"], 1);
    let variables: Vec<&str> = standard.body["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        variables,
        ["markup_percent", "discount_tiers", "vat_percent"]
    );
}

async fn a_restart_keeps_everything(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    let member = admin
        .post(
            "/api/api-keys",
            &serde_json::json!({"name": "sales app", "role": "member"}),
        )
        .await;
    let member_key = member.expect(201).body["key_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let first_key = server.admin_key.clone();
    let (config, data_dir, database) = server.stop().await;
    let key_file_before =
        std::fs::read_to_string(data_dir.path().join("demo-admin-key.txt")).unwrap();

    let restarted = TestServer::launch(config, data_dir, database).await;
    // No second bootstrap: same key file, same keys.
    assert_eq!(restarted.admin_key, first_key);
    assert_eq!(
        std::fs::read_to_string(restarted.key_file()).unwrap(),
        key_file_before
    );
    restarted
        .client(&member_key)
        .get("/api/me")
        .await
        .expect(200);
    let plugins = restarted.admin().get("/api/plugins").await.expect(200);
    assert_eq!(plugins.body["items"].as_array().unwrap().len(), 1);
    // Pricing after the restart loads the standard plugin from the compiled-artifact
    // cache: nothing is compiled again.
    let body = serde_json::json!({"currency": "RUB", "items": [{"sku": "A", "quantity": "1", "unit_price": "10", "currency": "RUB"}]});
    restarted
        .client(&member_key)
        .post("/api/quotes/calculate", &body)
        .await
        .expect(200);
    let health = restarted
        .admin()
        .get("/api/health/detailed")
        .await
        .expect(200);
    let cache = &health.body["plugin_cache"];
    assert_eq!(cache["compiles"], 0, "{cache}");
    assert_eq!(cache["disk_hits"], 1, "{cache}");
}

on_both_databases!(
    first_start_creates_the_demo_tenant,
    a_restart_keeps_everything
);
