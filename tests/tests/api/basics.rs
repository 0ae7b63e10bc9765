//! What every route shares: the error shape, request ids, the OpenAPI document.

use quote_tests::{Backend, TestServer, on_both_databases};

async fn errors_ids_and_documentation(backend: Backend) {
    let server = TestServer::start(backend).await;
    let anonymous = server.anonymous();
    let health = anonymous.get("/api/health").await.expect(200);
    assert_eq!(health.body["status"], "ok");
    let id = health
        .headers
        .get("x-request-id")
        .expect("a request id")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let echoed = anonymous
        .send(
            anonymous
                .request(reqwest::Method::GET, "/api/health")
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(echoed.headers["x-request-id"], "abc-123");

    anonymous
        .get("/api/nothing-here")
        .await
        .expect_error(404, "route_not_found");
    anonymous
        .send(anonymous.request(reqwest::Method::PUT, "/api/health"))
        .await
        .expect_error(405, "method_not_allowed");

    let openapi = anonymous.get("/api/openapi.json").await.expect(200);
    assert!(
        openapi.body["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        openapi.body["openapi"]
    );
    let paths = openapi.body["paths"].as_object().unwrap();
    for (path, method) in DOCUMENTED {
        let operation = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"))[*method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        if *path != "/api/health" && *path != "/metrics" {
            assert!(
                operation["responses"]["401"].is_object(),
                "{method} {path} does not document 401"
            );
        }
    }
    let docs = anonymous.get("/api/docs").await.expect(200);
    assert!(docs.text.contains("<html"), "an interactive docs page");
}

/// Every route of the API and its method.
const DOCUMENTED: &[(&str, &str)] = &[
    ("/api/health", "get"),
    ("/metrics", "get"),
    ("/api/health/detailed", "get"),
    ("/api/me", "get"),
    ("/api/api-keys", "get"),
    ("/api/api-keys", "post"),
    ("/api/api-keys/{id}", "delete"),
    ("/api/plugins", "get"),
    ("/api/plugins", "post"),
    ("/api/plugins/{name}", "get"),
    ("/api/plugins/{name}/activate", "post"),
    ("/api/plugins/{name}/versions/{version}", "delete"),
    ("/api/quotes/calculate", "post"),
    ("/api/quotes", "post"),
    ("/api/quotes", "get"),
    ("/api/quotes/{id}", "get"),
    ("/api/quotes/{id}", "patch"),
    ("/api/quotes/{id}", "delete"),
    ("/api/quotes/{id}/recalculate", "post"),
    ("/api/quotes/{id}/verify", "post"),
    ("/api/quotes/export", "get"),
    ("/api/dashboard/stats", "get"),
    ("/api/activity-logs", "get"),
    ("/api/exchange-rates", "get"),
    ("/api/exchange-rates/{from}/{to}", "get"),
    ("/api/exchange-rates/refresh", "post"),
];

on_both_databases!(errors_ids_and_documentation);
