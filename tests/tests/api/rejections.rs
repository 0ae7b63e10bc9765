//! Requests the extractors refuse (a path segment, a query string or a body that does not
//! parse, the wrong content type) answer in the one JSON error shape, with a stable code.

use quote_tests::{Backend, TestServer, on_both_databases};
use reqwest::Method;

/// A request and the status and code it must answer with.
struct Refused {
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: &'static str,
    status: u16,
    code: &'static str,
}

const fn refused(
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: &'static str,
    status: u16,
    code: &'static str,
) -> Refused {
    Refused {
        method,
        path,
        content_type,
        body,
        status,
        code,
    }
}

const JSON: Option<&str> = Some("application/json");

#[rustfmt::skip]
const TABLE: &[Refused] = &[
    // Path segments that do not parse.
    refused(Method::GET, "/api/quotes/not-a-uuid", None, "", 400, "invalid_path"),
    refused(Method::PATCH, "/api/quotes/not-a-uuid", JSON, r#"{"title":"x"}"#, 400, "invalid_path"),
    refused(Method::DELETE, "/api/quotes/1234", None, "", 400, "invalid_path"),
    refused(Method::POST, "/api/quotes/not-a-uuid/recalculate", None, "", 400, "invalid_path"),
    refused(Method::POST, "/api/quotes/not-a-uuid/verify", None, "", 400, "invalid_path"),
    refused(Method::GET, "/api/quotes/null,null/document", None, "", 400, "invalid_path"),
    refused(Method::DELETE, "/api/api-keys/abc", None, "", 400, "invalid_path"),
    refused(Method::DELETE, "/api/plugins/standard/versions/abc", None, "", 400, "invalid_path"),
    refused(Method::DELETE, "/api/plugins/standard/versions/1.5", None, "", 400, "invalid_path"),
    refused(Method::DELETE, "/api/plugins/standard/versions/99999999999", None, "", 400, "invalid_path"),
    refused(Method::GET, "/api/plugins/%FF", None, "", 400, "invalid_path"),
    refused(Method::GET, "/api/exchange-rates/%FF/RUB", None, "", 400, "invalid_path"),
    // Query strings.
    refused(Method::GET, "/api/quotes?colour=red", None, "", 400, "invalid_query"),
    refused(Method::GET, "/api/exchange-rates?date=yesterday", None, "", 400, "invalid_query"),
    refused(Method::GET, "/api/quotes?limit=ten", None, "", 400, "invalid_limit"),
    refused(Method::GET, "/api/quotes?cursor=garbage", None, "", 400, "invalid_cursor"),
    // Bodies.
    refused(Method::POST, "/api/quotes/calculate", JSON, "{not json", 400, "invalid_json"),
    refused(Method::POST, "/api/quotes/calculate", JSON, "", 400, "invalid_json"),
    refused(Method::POST, "/api/quotes/calculate", JSON, r#"{"currency": 5, "items": []}"#, 400, "invalid_body"),
    refused(Method::POST, "/api/quotes/calculate", JSON, r#"{"currency": "RUB", "items": [], "colour": 1}"#, 400, "invalid_body"),
    refused(Method::POST, "/api/quotes/calculate", Some("text/plain"), "{}", 415, "unsupported_media_type"),
    refused(Method::POST, "/api/quotes/calculate", None, "{}", 415, "unsupported_media_type"),
    refused(Method::POST, "/api/plugins/standard/activate", JSON, r#"{"version": "one"}"#, 400, "invalid_body"),
    refused(Method::PATCH, "/api/quotes/00000000-0000-0000-0000-000000000000", JSON, r#"{"status": "won"}"#, 400, "invalid_body"),
    refused(Method::POST, "/api/plugins?name=x", Some("text/plain"), "wasm", 415, "unsupported_media_type"),
    refused(Method::PUT, "/api/organization/branding", JSON, "[null, null]", 400, "invalid_body"),
    // Routes and methods.
    refused(Method::GET, "/api/nothing-here", None, "", 404, "route_not_found"),
    refused(Method::PUT, "/api/quotes", None, "", 405, "method_not_allowed"),
];

async fn every_refused_request_answers_json_with_a_code(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    for case in TABLE {
        let mut request = admin.request(case.method.clone(), case.path);
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        if !case.body.is_empty() || case.content_type.is_some() {
            request = request.body(case.body);
        }
        let reply = admin.send(request).await;
        let what = format!("{} {}", case.method, case.path);
        assert_eq!(
            reply
                .headers
                .get("content-type")
                .map(|v| v.to_str().unwrap()),
            Some("application/json"),
            "{what}: {} {}",
            reply.status,
            reply.text
        );
        assert_eq!(reply.status.as_u16(), case.status, "{what}: {}", reply.text);
        assert_eq!(reply.code(), case.code, "{what}: {}", reply.text);
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(!message.is_empty(), "{what}: {}", reply.text);
    }
    // A path segment is repeated in the message only up to the echo bound.
    let long = format!("/api/plugins/standard/versions/{}", "z".repeat(8 * 1024));
    let reply = admin.delete(&long).await.expect_error(400, "invalid_path");
    assert!(reply.text.len() < 1024, "{}", reply.text);
}

on_both_databases!(every_refused_request_answers_json_with_a_code);
