//! Many hosts, one truth: three real `quote-host serve` processes on one PostgreSQL
//! database and one Redis, each on its own port, answer as one host would.

mod caches;
mod failures;
mod rate_limits;

use quote_tests::process::ServerProcess;
use quote_tests::server::Body;
use quote_tests::{Backend, Client, TestDatabase};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The consistency promise the README makes: a change is seen by every host within this.
pub const PROMISE: Duration = Duration::from_secs(1);

/// Three hosts sharing a database, a plugin artifact folder and (optionally) Redis.
pub struct Hosts {
    pub hosts: Vec<ServerProcess>,
    pub admin_key: String,
    pub database: TestDatabase,
    _dirs: Vec<tempfile::TempDir>,
}

impl Hosts {
    /// Three hosts; `settings` go to each (`QUOTE_...` variables).
    pub async fn start(settings: &[(&str, String)]) -> Self {
        let database = TestDatabase::create(Backend::Postgres).await;
        let bin = env!("CARGO_BIN_EXE_quote-host-under-test");
        let artifacts = tempfile::tempdir().unwrap();
        let mut shared = vec![(
            "QUOTE_RUNTIME__ARTIFACT_DIR",
            artifacts.path().display().to_string(),
        )];
        shared.extend(settings.iter().cloned());
        let mut dirs = vec![artifacts];
        let mut hosts = Vec::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            hosts.push(ServerProcess::spawn_with(
                bin,
                &database,
                dir.path(),
                &shared,
            ));
            dirs.push(dir);
        }
        // The first host to start created the organization and wrote its admin key.
        let admin_key = std::fs::read_to_string(dirs[1].path().join("demo-admin-key.txt"))
            .unwrap()
            .trim()
            .to_string();
        Self {
            hosts,
            admin_key,
            database,
            _dirs: dirs,
        }
    }

    /// Host `n` (0, 1 or 2) with `key`.
    pub fn client(&self, n: usize, key: &str) -> Client {
        Client::new(&self.hosts[n].base_url, key)
    }

    pub fn admin(&self, n: usize) -> Client {
        self.client(n, &self.admin_key)
    }

    /// A new member key (created on host 0): its id and secret.
    pub async fn new_member(&self) -> (String, String) {
        let created = self
            .admin(0)
            .post(
                "/api/api-keys",
                &json!({"name": "member", "role": "member"}),
            )
            .await
            .expect(201)
            .body;
        let id = created["id"].as_str().unwrap().to_string();
        let secret = created["key_secret"].as_str().unwrap().to_string();
        (id, secret)
    }

    /// Detailed health of host `n`.
    pub async fn health(&self, n: usize) -> Body {
        self.admin(n)
            .get("/api/health/detailed")
            .await
            .expect(200)
            .body
    }
}

/// Polls `check` every 10 ms until it holds or `bound` passes; how long it took.
pub async fn within(bound: Duration, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if check().await {
            return Some(started.elapsed());
        }
        if started.elapsed() > bound {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One RUB item, priced by the bundled standard plugin without exchange rates.
pub fn calculation() -> Value {
    json!({"currency": "RUB",
           "items": [{"sku": "A", "quantity": "2", "unit_price": "10.00", "currency": "RUB"}]})
}

/// The services this binary needs (see `quote_tests::environment`).
mod environment {
    #[tokio::test]
    async fn postgres_is_configured() {
        quote_tests::environment::postgres_is_configured().await;
    }

    #[test]
    fn redis_is_configured() {
        quote_tests::environment::redis_is_configured();
    }
}
