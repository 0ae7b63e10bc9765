//! The OpenAPI document says what the server accepts (its configured limits, patterns,
//! where each parameter goes) and every status a route answers; requests a schema
//! fuzzer found misjudged are answered as the document says.

use quote_tests::{Backend, TestServer, on_both_databases};
use serde_json::{Value, json};

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    &document["components"]["schemas"][name]
}

async fn the_document_states_the_limits_and_every_shared_answer(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.input_limits.max_items = 7;
        config.input_limits.max_sku_chars = 9;
        config.http.max_page_size = 50;
    })
    .await;
    let document = server.openapi().await;
    let input = schema(&document, "CalculationInput");
    assert_eq!(input["properties"]["items"]["maxItems"], 7);
    assert_eq!(input["properties"]["currency"]["pattern"], "^[A-Z]{3}$");
    assert!(
        input["properties"].get("rates").is_none(),
        "the server refuses `rates`: {input}"
    );
    assert_eq!(input["properties"]["variables"]["maxProperties"], 100);
    assert_eq!(
        input["properties"]["variables"]["propertyNames"]["maxLength"],
        128
    );
    let item = schema(&document, "LineItem");
    assert_eq!(item["properties"]["sku"]["maxLength"], 9);
    assert_eq!(item["properties"]["id"]["maxLength"], 128);
    assert_eq!(item["properties"]["name"]["maxLength"], 1024);
    assert_eq!(
        item["properties"]["attributes"]["additionalProperties"]["maxLength"],
        1024
    );
    assert_eq!(
        schema(&document, "NewQuoteBody")["properties"]["items"]["maxItems"],
        7
    );
    assert_eq!(schema(&document, "QuotePatch")["minProperties"], 1);
    let key = &schema(&document, "NewKeyRequest")["properties"];
    assert_eq!(key["name"]["minLength"], 1);
    assert_eq!(key["name"]["maxLength"], 100);

    let list = &document["paths"]["/api/quotes"]["get"];
    for parameter in list["parameters"].as_array().unwrap() {
        assert_eq!(parameter["in"], "query", "{parameter}");
        assert_ne!(parameter["required"], true, "{parameter}");
    }
    let limit = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "limit")
        .unwrap();
    assert_eq!(limit["schema"]["maximum"], 50, "{limit}");

    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let what = format!("{method} {path}");
            let answers = operation["responses"].as_object().unwrap();
            let documents = |status: &str| {
                assert!(
                    answers.contains_key(status),
                    "{what} does not document {status}"
                )
            };
            documents("500");
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if parameters.iter().any(|parameter| parameter["in"] == "path") {
                documents("400");
            }
            if operation["requestBody"]["content"]["application/json"].is_object() {
                for status in ["400", "413", "415"] {
                    documents(status);
                }
            }
            if path != "/api/health" && path != "/metrics" {
                for status in ["401", "503"] {
                    documents(status);
                }
            }
        }
    }
    let upload = &document["paths"]["/api/plugins"]["post"]["requestBody"]["content"];
    assert_eq!(
        upload["application/octet-stream"]["schema"]["format"],
        "binary"
    );
}

async fn requests_the_document_allows_are_accepted(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    // JSON Schema's `integer` includes 2.0.
    admin
        .post("/api/plugins/standard/activate", &json!({"version": 1.0}))
        .await
        .expect(200);
    admin
        .post("/api/plugins/standard/activate", &json!({"version": 1.5}))
        .await
        .expect_error(400, "invalid_body");
    // And what it forbids is refused: a status of null, U+0000 in stored text.
    let created = admin
        .post(
            "/api/quotes",
            &json!({"currency": "RUB", "items": [{"sku": "A", "quantity": "1", "unit_price": "1", "currency": "RUB"}]}),
        )
        .await
        .expect(201);
    let id = created.body["id"].as_str().unwrap();
    admin
        .patch(
            &format!("/api/quotes/{id}"),
            &json!({"status": null, "title": "x"}),
        )
        .await
        .expect_error(400, "invalid_body");
    admin
        .patch(&format!("/api/quotes/{id}"), &json!({"title": "nul\u{0}"}))
        .await
        .expect_error(400, "invalid_title");
    admin
        .post(
            "/api/api-keys",
            &json!({"name": "nul\u{0}", "role": "member"}),
        )
        .await
        .expect_error(400, "invalid_name");
}

on_both_databases!(
    the_document_states_the_limits_and_every_shared_answer,
    requests_the_document_allows_are_accepted
);
