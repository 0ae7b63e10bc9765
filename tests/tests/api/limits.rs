//! Every size limit at its boundary: the 5 MiB upload, the 10 MiB body, list `limit`.

use quote_tests::{Backend, TestServer, on_both_databases};

const MIB: usize = 1024 * 1024;

/// A JSON body of exactly `size` bytes that parses (a long key name).
fn json_body_of(size: usize) -> String {
    let frame = r#"{"name":"","role":"member"}"#;
    format!(
        r#"{{"name":"{}","role":"member"}}"#,
        "k".repeat(size - frame.len())
    )
}

async fn upload_limit_is_five_mib(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    // Exactly 5 MiB is read and judged on its content.
    admin
        .upload("big", vec![0u8; 5 * MIB])
        .await
        .expect_error(422, "not_a_component");
    // One byte more is refused from the declared length alone: the server answers
    // before a single byte of the body has been sent.
    let head = format!(
        "POST /api/plugins?name=big HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {}\r\n\
         content-type: application/wasm\r\ncontent-length: {}\r\n\r\n",
        server.admin_key,
        5 * MIB + 1
    );
    let answer = raw_exchange(&server.base_url, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    // Without a declared length (chunked), the limit holds while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(vec![0u8; 3 * MIB]), Ok(vec![0u8; 2 * MIB + 1])];
    let chunked = admin
        .request(reqwest::Method::POST, "/api/plugins?name=big")
        .header("content-type", "application/wasm")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)));
    admin
        .send(chunked)
        .await
        .expect_error(413, "payload_too_large");
}

async fn body_limit_is_ten_mib(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    let at_limit = admin
        .request(reqwest::Method::POST, "/api/api-keys")
        .header("content-type", "application/json")
        .body(json_body_of(10 * MIB));
    // Read in full, then refused for what it says (a 10 MiB key name), not for its size.
    admin.send(at_limit).await.expect_error(400, "invalid_name");
    let over = admin
        .request(reqwest::Method::POST, "/api/api-keys")
        .header("content-type", "application/json")
        .body(json_body_of(10 * MIB + 1));
    admin
        .send(over)
        .await
        .expect_error(413, "payload_too_large");
}

async fn list_limit_is_one_to_one_hundred(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    for path in ["/api/quotes", "/api/activity-logs"] {
        admin.get(&format!("{path}?limit=100")).await.expect(200);
        admin.get(&format!("{path}?limit=1")).await.expect(200);
        for bad in ["101", "0", "-1", "ten"] {
            let reply = admin
                .get(&format!("{path}?limit={bad}"))
                .await
                .expect_error(400, "invalid_limit");
            assert!(reply.text.contains("from 1 to 100"), "{}", reply.text);
        }
        admin
            .get(&format!("{path}?cursor=garbage"))
            .await
            .expect_error(400, "invalid_cursor");
    }
}

/// Sends raw bytes and reads the answer until the server closes or 10 s pass.
async fn raw_exchange(base_url: &str, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("the server answers without waiting for the body")
        .unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

on_both_databases!(
    upload_limit_is_five_mib,
    body_limit_is_ten_mib,
    list_limit_is_one_to_one_hundred
);
