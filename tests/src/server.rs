//! The real server, in process, on `127.0.0.1:0`, and a small HTTP client for it.

use crate::db::{Backend, TestDatabase};
use quote_host::Config;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server with its own data folder and database.
pub struct TestServer {
    pub base_url: String,
    pub config: Config,
    /// The demo organization's first admin key, read from the file the server wrote.
    pub admin_key: String,
    pub data_dir: Arc<tempfile::TempDir>,
    pub database: Arc<TestDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A config for tests: port 0, small sandbox pool, the given data folder and database.
pub fn test_config(data_dir: &std::path::Path, database_url: &str) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_path_buf(),
        ..Config::default()
    };
    config.database.url = database_url.to_string();
    config.runtime.max_concurrent_instances = 32;
    config.runtime.artifact_dir = Some(data_dir.join("plugin-cache"));
    config.exchange_rates.enabled = false;
    config.rate_limits.enabled = false;
    // Test servers share the cores with each other: a demoted call at a lower priority
    // could miss its wall-clock limit there. The fair tests set the default back.
    config.calculations.executor_nice = 0;
    config
}

impl TestServer {
    /// A fresh database and data folder, default test config.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// A fresh database and data folder; `configure` adjusts the config first.
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        let database = Arc::new(TestDatabase::create(backend).await);
        let data_dir = Arc::new(tempfile::tempdir().unwrap());
        let mut config = test_config(data_dir.path(), &database.url);
        configure(&mut config);
        Self::launch(config, data_dir, database).await
    }

    /// Starts a server on an existing data folder and database (a restart).
    pub async fn launch(
        config: Config,
        data_dir: Arc<tempfile::TempDir>,
        database: Arc<TestDatabase>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(quote_host::run(config.clone(), listener, async move {
            let _ = stopped.await;
        }));
        let mut server = Self {
            base_url,
            admin_key: String::new(),
            config,
            data_dir,
            database,
            shutdown: Some(shutdown),
            task: Some(task),
        };
        server.wait_until_ready().await;
        let key_file = server.key_file();
        server.admin_key = std::fs::read_to_string(&key_file)
            .map(|key| key.trim().to_string())
            .unwrap_or_default();
        server
    }

    pub fn key_file(&self) -> PathBuf {
        self.data_dir.path().join(format!(
            "{}-admin-key.txt",
            self.config.bootstrap.organization
        ))
    }

    async fn wait_until_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Ok(response) = client
                .get(format!("{}/api/health", self.base_url))
                .send()
                .await
                && response.status() == StatusCode::OK
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server did not become healthy within 60 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Stops the server the way a shutdown signal does and waits for it to finish.
    pub async fn stop(mut self) -> (Config, Arc<tempfile::TempDir>, Arc<TestDatabase>) {
        self.shutdown_and_wait().await;
        (
            self.config.clone(),
            self.data_dir.clone(),
            self.database.clone(),
        )
    }

    async fn shutdown_and_wait(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("the server task does not panic")
                .expect("the server stops cleanly");
        }
    }

    /// A client authenticated with `key`.
    pub fn client(&self, key: &str) -> Client {
        Client {
            base_url: self.base_url.clone(),
            key: Some(key.to_string()),
            http: reqwest::Client::new(),
        }
    }

    /// A client with the demo organization's admin key.
    pub fn admin(&self) -> Client {
        self.client(&self.admin_key)
    }

    /// A client with a new member key of the bootstrap organization.
    pub async fn new_member(&self) -> Client {
        let created = self
            .admin()
            .post(
                "/api/api-keys",
                &serde_json::json!({"name": "member", "role": "member"}),
            )
            .await
            .expect(201);
        self.client(created.body["key_secret"].as_str().unwrap())
    }

    /// A client with no key.
    pub fn anonymous(&self) -> Client {
        Client {
            base_url: self.base_url.clone(),
            key: None,
            http: reqwest::Client::new(),
        }
    }

    /// The server's OpenAPI document, fetched without a key.
    pub async fn openapi(&self) -> Value {
        (*self
            .anonymous()
            .get("/api/openapi.json")
            .await
            .expect(200)
            .body)
            .clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// A response: status, headers, the body as text and (when it is JSON) as JSON.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Body,
    pub text: String,
}

/// A response body read as JSON. Reading JSON out of a body that is not JSON (`body["x"]`,
/// `body.as_array()`, ...) panics with the text: a check cannot pass by comparing with a
/// `Null` that the server never sent.
pub struct Body {
    json: Option<Value>,
    text: String,
}

impl Body {
    fn parse(text: &str) -> Self {
        Self {
            json: serde_json::from_str(text).ok(),
            text: text.chars().take(2_000).collect(),
        }
    }

    /// Whether the body is JSON at all.
    pub fn is_json(&self) -> bool {
        self.json.is_some()
    }
}

impl std::ops::Deref for Body {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.json
            .as_ref()
            .unwrap_or_else(|| panic!("the body is not JSON: {:?}", self.text))
    }
}

impl serde::Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl PartialEq<Value> for Body {
    fn eq(&self, other: &Value) -> bool {
        **self == *other
    }
}

impl std::fmt::Display for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.json {
            Some(json) => json.fmt(f),
            None => write!(f, "(not JSON) {}", self.text),
        }
    }
}

impl Reply {
    /// The error code of an error response.
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.text))
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an error status and code.
    pub fn expect_error(self, status: u16, code: &str) -> Self {
        let reply = self.expect(status);
        assert_eq!(reply.code(), code, "body: {}", reply.text);
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "no message: {}",
            reply.text
        );
        reply
    }
}

#[derive(Clone)]
pub struct Client {
    pub base_url: String,
    key: Option<String>,
    pub http: reqwest::Client,
}

impl Client {
    /// A client of the server at `base_url` (`http://host:port`), authenticated with `key`.
    pub fn new(base_url: &str, key: &str) -> Self {
        Self {
            base_url: base_url.to_string(),
            key: Some(key.to_string()),
            http: reqwest::Client::new(),
        }
    }

    /// The same client speaking through another `reqwest::Client` (e.g. another local address).
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        match &self.key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = Body::parse(&text);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.request(Method::DELETE, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.json(Method::POST, path, body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(self.json(Method::PATCH, path, body)).await
    }

    /// Moves the quote `id` from draft through sent to accepted.
    pub async fn accept_quote(&self, id: &str) {
        for status in ["sent", "accepted"] {
            self.patch(
                &format!("/api/quotes/{id}"),
                &serde_json::json!({"status": status}),
            )
            .await
            .expect(200);
        }
    }

    fn json(&self, method: Method, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.request(method, path)
            .header("content-type", "application/json")
            .body(body.to_string())
    }

    /// Uploads a component under `name`.
    pub async fn upload(&self, name: &str, wasm: Vec<u8>) -> Reply {
        let request = self
            .request(Method::POST, &format!("/api/plugins?name={name}"))
            .header("content-type", "application/wasm")
            .body(wasm);
        self.send(request).await
    }
}

/// The bytes of a plugin built with the host (`standard`, `hostile-trap`, ...).
pub fn plugin_bytes(crate_name: &str) -> Vec<u8> {
    let path = quote_host::bundled::plugin_path(crate_name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

impl TestServer {
    /// Runs the `quote-host` CLI `binary` (a test binary's
    /// `env!("CARGO_BIN_EXE_quote-host-under-test")`) on this server's database and data
    /// folder, and returns its stdout; a failed command fails the test with its stderr.
    pub fn run_cli(&self, binary: &str, args: &[&str]) -> String {
        let output = std::process::Command::new(binary)
            .args(args)
            .env("QUOTE_DATABASE__URL", &self.database.url)
            .env("QUOTE_DATA_DIR", self.data_dir.path())
            .env("QUOTE_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "quote-host {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

impl TestServer {
    /// Stores exchange rates directly in the server's database (as the daily fetch
    /// would), for `date`: `(from, to, rate)` triples.
    pub async fn seed_rates(&self, date: &str, rates: &[(&str, &str, &str)]) {
        self.database.seed_rates(date, rates).await;
    }
}

#[cfg(test)]
mod tests {
    use super::Body;
    use serde_json::Value;

    #[test]
    #[should_panic(expected = "the body is not JSON: \"<html>busy</html>\"")]
    fn json_fields_of_a_non_json_body_panic_with_its_text() {
        let body = Body::parse("<html>busy</html>");
        let _ = &body["error"]["code"];
    }

    #[test]
    fn a_json_null_is_told_from_an_absent_field() {
        let body = Body::parse(r#"{"active_version": null}"#);
        assert!(body.is_json());
        assert_eq!(body.get("active_version"), Some(&Value::Null));
        assert_eq!(body.get("trend_percent"), None);
    }
}
