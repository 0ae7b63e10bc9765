//! Fair share over real HTTP, on both databases: while tenant A floods the server with
//! hostile calls, tenant B's calculations keep answering 200 quickly, and A at its limit
//! is throttled, not starved. Latency bounds are generous safety bounds (the machine is
//! shared); the figures are printed for the README (`-- --nocapture`).

mod noisy;

use quote_tests::server::plugin_bytes;
use quote_tests::{Client, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Creates an organization with no plugin and an admin key for it with the CLI, against
/// the server's database, and returns a client with that key.
pub fn other_organization(server: &TestServer, name: &str) -> Client {
    cli(server, &["org", "create", name, "--no-plugin"]);
    let key = cli(server, &["key", "create", "--org", name, "--role", "admin"]);
    server.client(key.trim())
}

fn cli(server: &TestServer, args: &[&str]) -> String {
    server.run_cli(env!("CARGO_BIN_EXE_quote-host-under-test"), args)
}

/// A one-item RUB calculation, with `plugin` ("name@version") when given.
pub fn calculation(plugin: Option<&str>, variables: Value) -> Value {
    let mut body = json!({"currency": "RUB", "variables": variables,
        "items": [{"sku": "A-1", "quantity": "1", "unit_price": "10", "currency": "RUB"}]});
    if let Some(plugin) = plugin {
        body["plugin"] = json!(plugin);
    }
    body
}

/// Uploads a bundled plugin under `name` for the client's organization.
pub async fn upload(client: &Client, name: &str, crate_name: &str) {
    client
        .upload(name, plugin_bytes(crate_name))
        .await
        .expect(201);
}

/// Latencies of calls made one after another for `window`.
pub struct Latencies {
    pub samples: Vec<Duration>,
    pub window: Duration,
}

impl Latencies {
    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index.min(sorted.len() - 1)]
    }

    pub fn per_second(&self) -> f64 {
        self.samples.len() as f64 / self.window.as_secs_f64()
    }

    pub fn summary(&self) -> String {
        format!(
            "{} calls, {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.samples.len(),
            self.per_second(),
            self.percentile(0.5).as_secs_f64() * 1000.0,
            self.percentile(0.99).as_secs_f64() * 1000.0,
            self.percentile(1.0).as_secs_f64() * 1000.0,
        )
    }
}

/// B's closed loop: one calculation at a time for `window`; every answer must be 200.
pub async fn closed_loop(client: &Client, body: &Value, window: Duration) -> Latencies {
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < window {
        let asked = Instant::now();
        let reply = client.post("/api/quotes/calculate", body).await;
        samples.push(asked.elapsed());
        reply.expect(200);
    }
    Latencies {
        samples,
        window: started.elapsed(),
    }
}

quote_tests::environment_tests!();
