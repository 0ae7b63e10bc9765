//! Sessions, forms and the CSRF check over real HTTP, on both databases.

use super::support::{Console, FormBody, http, post_sign_in, sample_request, sign_in, sign_in_at};
use quote_tests::{Backend, TestServer, on_both_databases};
use reqwest::{Method, StatusCode, header};
use serde_json::json;

on_both_databases!(
    a_key_signs_in_and_the_console_answers_what_the_api_answers,
    sign_in_refusals_are_shown_next_to_the_key_field,
    every_post_needs_the_sessions_csrf_token,
    sign_out_ends_the_session,
    a_revoked_key_ends_its_sessions,
    a_session_expires_after_its_ttl,
    an_organization_keeps_at_most_max_sessions,
    a_member_session_gets_no_admin_controls_and_is_refused_them,
    a_session_is_known_to_every_host_on_the_database,
    console_calls_count_against_the_callers_rate_limit,
);

async fn organization_sessions(server: &TestServer) -> i64 {
    let me = server.admin().get("/api/me").await.expect(200);
    let org = me.body["organization"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let store = quote_host::store::connect(&server.database.url, &quote_tests::db::pool_options())
        .await
        .unwrap();
    let count = store.count_console_sessions(org).await.unwrap();
    store.close().await;
    count
}

async fn a_key_signs_in_and_the_console_answers_what_the_api_answers(backend: Backend) {
    let server = TestServer::start(backend).await;
    let console = sign_in(&server, &server.admin_key).await;
    assert_eq!(organization_sessions(&server).await, 1);

    let (status, html, headers) = console.page("/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("demo"), "the organization is named: {html}");
    assert!(
        html.contains(r#"href="/console/health""#),
        "an admin sees the health page"
    );
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(
        !html.contains(&server.admin_key),
        "the key never appears in a page"
    );

    let me = console.get("/api/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["organization"]["name"], "demo");

    let through_console = console
        .post("/api/quotes/calculate", &sample_request())
        .await;
    let through_api = server
        .admin()
        .post("/api/quotes/calculate", &sample_request())
        .await
        .expect(200);
    assert_eq!(through_console.status, StatusCode::OK);
    assert_eq!(through_console.body["result"], through_api.body["result"]);

    // An API error is the API's, code and field included.
    let mut bad = sample_request();
    bad["items"][1]["quantity"] = json!("-1");
    let from_console = console.post("/api/quotes/calculate", &bad).await;
    let from_api = server.admin().post("/api/quotes/calculate", &bad).await;
    assert_eq!(from_console.status, from_api.status);
    // Everything but the plugin's measured duration, which differs from call to call.
    let without_duration = |mut body: serde_json::Value| {
        body["error"]["details"]
            .as_object_mut()
            .and_then(|details| details.remove("duration_ms"))
            .expect("a plugin error reports its duration");
        body
    };
    assert_eq!(
        without_duration(from_console.body),
        without_duration((*from_api.body).clone())
    );

    // The assets are the embedded ones.
    let script = http()
        .get(format!("{}/console/assets/console.js", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.text().await.unwrap().contains("x-csrf-token"));
}

async fn sign_in_refusals_are_shown_next_to_the_key_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let wrong = post_sign_in(&server.base_url, "qh_not-a-key").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(header::SET_COOKIE).is_none());
    let html = wrong.text().await.unwrap();
    assert!(
        html.contains(r#"aria-invalid="true" aria-describedby="api-key-error""#),
        "{html}"
    );
    assert!(
        html.contains(r#"id="api-key-error" data-code="invalid_api_key""#),
        "{html}"
    );

    let empty = post_sign_in(&server.base_url, "  ").await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert!(
        empty
            .text()
            .await
            .unwrap()
            .contains(r#"data-code="missing_api_key""#)
    );

    for origin in [Some("https://evil.example"), Some("null"), None] {
        let mut request = http()
            .post(format!("{}/console/login", server.base_url))
            .form_body(&[("api_key", server.admin_key.as_str())]);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "origin {origin:?}"
        );
        assert!(response.headers().get(header::SET_COOKIE).is_none());
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains(r#"data-code="cross_origin""#)
        );
    }
    // A Referer of this host is enough when a browser sends no Origin.
    let referred = http()
        .post(format!("{}/console/login", server.base_url))
        .header(
            header::REFERER,
            format!("{}/console/login", server.base_url),
        )
        .form_body(&[("api_key", server.admin_key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(referred.status(), StatusCode::SEE_OTHER);

    // Without a session every page sends the browser to sign in.
    let page = http()
        .get(format!("{}/console/quotes", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()[header::LOCATION], "/console/login");
}

async fn every_post_needs_the_sessions_csrf_token(backend: Backend) {
    let server = TestServer::start(backend).await;
    let console = sign_in(&server, &server.admin_key).await;
    let other = sign_in(&server, &server.admin_key).await;
    let request = sample_request();
    for csrf in [None, Some(""), Some(other.csrf.as_str())] {
        let refused = console
            .call_with_csrf(Method::POST, "/api/quotes", Some(&request), csrf)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "csrf {csrf:?}");
        assert_eq!(refused.code(), "csrf_mismatch");
    }
    let listed = server.admin().get("/api/quotes").await.expect(200);
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        0,
        "nothing was stored"
    );
    let stored = console.post("/api/quotes", &request).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);

    let id = stored.body["id"].as_str().unwrap();
    let patch = console
        .call_with_csrf(
            Method::PATCH,
            &format!("/api/quotes/{id}"),
            Some(&json!({"status": "sent"})),
            None,
        )
        .await;
    assert_eq!(patch.code(), "csrf_mismatch");

    let sign_out = console.sign_out_with(&other.csrf).await;
    assert_eq!(sign_out.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        console.get("/api/me").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

async fn sign_out_ends_the_session(backend: Backend) {
    let server = TestServer::start(backend).await;
    let console = sign_in(&server, &server.admin_key).await;
    let response = console.sign_out_with(&console.csrf).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/console/login");
    let cleared = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("qh_console=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_refused(&console).await;
    assert_eq!(organization_sessions(&server).await, 0);
}

/// The old cookie opens no page and no API call.
async fn assert_refused(console: &Console) {
    let me = console.get("/api/me").await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.body);
    let (status, _, headers) = console.page("/console").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/console/login");
}

async fn a_revoked_key_ends_its_sessions(backend: Backend) {
    let server = TestServer::start(backend).await;
    let created = server
        .admin()
        .post("/api/api-keys", &json!({"name": "laptop", "role": "admin"}))
        .await
        .expect(201);
    let console = sign_in(&server, created.body["key_secret"].as_str().unwrap()).await;
    assert_eq!(console.get("/api/me").await.status, StatusCode::OK);
    let id = created.body["id"].as_str().unwrap();
    server
        .admin()
        .delete(&format!("/api/api-keys/{id}"))
        .await
        .expect(204);
    assert_refused(&console).await;
}

async fn a_session_expires_after_its_ttl(backend: Backend) {
    let server = TestServer::start_with(backend, |config| config.console.session_ttl_s = 1).await;
    let console = sign_in(&server, &server.admin_key).await;
    assert!(console.page("/console").await.1.contains("csrf-token"));
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_refused(&console).await;
}

async fn an_organization_keeps_at_most_max_sessions(backend: Backend) {
    let server =
        TestServer::start_with(backend, |config| config.console.max_sessions_per_org = 3).await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(sign_in(&server, &server.admin_key).await);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(organization_sessions(&server).await, 3);
    for session in &sessions {
        assert_eq!(session.get("/api/me").await.status, StatusCode::OK);
    }
    let fourth = sign_in(&server, &server.admin_key).await;
    assert_eq!(
        organization_sessions(&server).await,
        3,
        "at the limit, not over it"
    );
    assert_refused(&sessions[0]).await;
    for session in [&sessions[1], &sessions[2], &fourth] {
        assert_eq!(session.get("/api/me").await.status, StatusCode::OK);
    }
}

async fn a_member_session_gets_no_admin_controls_and_is_refused_them(backend: Backend) {
    let server = TestServer::start(backend).await;
    let created = server
        .admin()
        .post("/api/api-keys", &json!({"name": "sales", "role": "member"}))
        .await
        .expect(201);
    let member = sign_in(&server, created.body["key_secret"].as_str().unwrap()).await;
    let (status, html, _) = member.page("/console/plugins").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("upload-form"),
        "no upload form for a member: {html}"
    );
    assert!(!html.contains(r#"href="/console/health""#));
    assert!(html.contains(r#"data-admin="false""#));
    let (status, html, _) = member.page("/console/health").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains(r#"data-code="forbidden""#));

    let wasm = quote_tests::server::plugin_bytes("standard-markup");
    // A client of its own: the server refuses before reading the body and closes that
    // connection, which a pooled client would otherwise reuse for the next request.
    let upload = http()
        .post(format!(
            "{}/console/api/plugins?name=markup",
            server.base_url
        ))
        .header(header::COOKIE, &member.cookie)
        .header("x-csrf-token", &member.csrf)
        .header(header::CONTENT_TYPE, "application/wasm")
        .body(wasm)
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::FORBIDDEN);
    for (method, path, body) in [
        (
            Method::POST,
            "/api/plugins/standard/activate",
            Some(json!({"version": 1})),
        ),
        (Method::GET, "/api/health/detailed", None),
        (
            Method::POST,
            "/api/api-keys",
            Some(json!({"name": "x", "role": "admin"})),
        ),
    ] {
        let refused = member.call(method, path, body.as_ref()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(refused.code(), "forbidden");
    }
    // What a member may do, it may do through the console too.
    assert_eq!(
        member
            .post("/api/quotes/calculate", &sample_request())
            .await
            .status,
        StatusCode::OK
    );
}

async fn a_session_is_known_to_every_host_on_the_database(backend: Backend) {
    let first = TestServer::start(backend).await;
    let second = TestServer::launch(
        first.config.clone(),
        first.data_dir.clone(),
        first.database.clone(),
    )
    .await;
    let on_first = sign_in(&first, &first.admin_key).await;
    let on_second = Console {
        base_url: second.base_url.clone(),
        ..on_first.clone()
    };
    assert_eq!(on_second.get("/api/me").await.status, StatusCode::OK);
    assert_eq!(
        on_second
            .post("/api/quotes", &sample_request())
            .await
            .status,
        StatusCode::CREATED
    );
    let response = on_second.sign_out_with(&on_second.csrf).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_refused(&on_first).await;
    // And a fresh sign-in on the second host works on the first.
    let again = sign_in_at(&second.base_url, &first.admin_key).await;
    let on_first_again = Console {
        base_url: first.base_url.clone(),
        ..again
    };
    assert_eq!(on_first_again.get("/api/me").await.status, StatusCode::OK);
}

async fn console_calls_count_against_the_callers_rate_limit(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.rate_limits.enabled = true;
        config.rate_limits.calculate_per_minute = 2;
    })
    .await;
    let console = sign_in(&server, &server.admin_key).await;
    for _ in 0..2 {
        let ok = console
            .post("/api/quotes/calculate", &sample_request())
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    }
    let limited = console
        .post("/api/quotes/calculate", &sample_request())
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "rate_limited");
    // The same key through the API shares the bucket: the console is no way around it.
    server
        .admin()
        .post("/api/quotes/calculate", &sample_request())
        .await
        .expect_error(429, "rate_limited");
}
