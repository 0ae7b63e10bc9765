//! The noisy neighbour: tenant A floods, tenant B prices one quote at a time.

use super::*;
use quote_tests::{Backend, on_both_databases};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::task::JoinHandle;

/// A's concurrent callers.
const FLOOD: usize = 16;
/// B's safety bound: far above what a fair executor gives, far below what one tenant
/// holding every thread gave (p99 90 ms in a release build, more in a debug one).
const B_P99_BOUND: Duration = Duration::from_millis(50);

/// The product's guest priorities (a demoted call's thread lowered to `executor_nice`),
/// which the other tests' servers leave off.
fn default_priorities(config: &mut quote_host::config::Config) {
    config.calculations.executor_nice = quote_host::config::Config::default()
        .calculations
        .executor_nice;
}

/// Held for a whole scenario: the scenarios measure latency, so they take turns instead
/// of loading the machine for each other (both databases' variants run in one binary).
async fn alone() -> tokio::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    ONE_AT_A_TIME.lock().await
}

/// `callers` tasks, each sending `body` again and again until stopped; the answers'
/// status and code, counted.
struct Flood {
    stop: Arc<AtomicBool>,
    callers: Vec<JoinHandle<BTreeMap<String, usize>>>,
}

impl Flood {
    /// Calculations of `body`.
    fn start(client: &Client, body: Value, callers: usize) -> Self {
        let client = client.clone();
        Self::of(callers, move || {
            let (client, body) = (client.clone(), body.clone());
            async move { client.post("/api/quotes/calculate", &body).await }
        })
    }

    /// Uploads of the bundled plugin `crate_name`.
    fn uploads(client: &Client, crate_name: &str, callers: usize) -> Self {
        let (client, wasm) = (client.clone(), plugin_bytes(crate_name));
        Self::of(callers, move || {
            let (client, wasm) = (client.clone(), wasm.clone());
            async move { client.upload("flood", wasm).await }
        })
    }

    /// `callers` tasks, each making the request `ask` makes until stopped.
    fn of<A, F>(callers: usize, ask: A) -> Self
    where
        A: Fn() -> F + Clone + Send + 'static,
        F: std::future::Future<Output = quote_tests::server::Reply> + Send,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let callers = (0..callers)
            .map(|_| {
                let (ask, stop) = (ask.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut answers = BTreeMap::new();
                    while !stop.load(Ordering::Relaxed) {
                        let reply = ask().await;
                        let mut answer = reply.status.as_u16().to_string();
                        if reply.status.as_u16() == 503 {
                            assert!(reply.headers.contains_key("retry-after"), "{}", reply.text);
                        }
                        if reply.status.as_u16() != 200 {
                            answer = format!("{answer} {}", reply.code());
                        }
                        *answers.entry(answer).or_default() += 1;
                    }
                    answers
                })
            })
            .collect();
        Self { stop, callers }
    }

    async fn stop(self) -> BTreeMap<String, usize> {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = BTreeMap::new();
        for caller in self.callers {
            for (answer, count) in caller.await.unwrap() {
                *total.entry(answer).or_default() += count;
            }
        }
        total
    }
}

async fn organization_id(client: &Client) -> String {
    let me = client.get("/api/me").await.expect(200);
    me.body["organization"]["id"].as_str().unwrap().to_string()
}

/// A's line in the executor's queues of detailed health, once it holds `at_least` calls.
async fn until_queued(admin: &Client, organization: &str, at_least: u64) -> Value {
    let what = format!("{at_least} of A's calls in the executor");
    let mut line = Value::Null;
    quote_tests::wait::until(&what, Duration::from_secs(30), async || {
        let health = admin.get("/api/health/detailed").await.expect(200);
        let organizations = health.body["executor"]["organizations"].as_array().unwrap();
        let found = organizations
            .iter()
            .find(|line| line["organization_id"] == organization);
        let alive = |line: &Value| {
            ["queued", "running", "waiting"]
                .iter()
                .map(|field| line[*field].as_u64().unwrap())
                .sum::<u64>()
        };
        match found {
            Some(found) if alive(found) >= at_least => {
                line = found.clone();
                true
            }
            _ => false,
        }
    })
    .await;
    line
}

fn report(scenario: &str, alone: &Latencies, flooded: &Latencies) {
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    eprintln!("{scenario}: B alone: {}", alone.summary());
    eprintln!("{scenario}: B flooded: {}", flooded.summary());
    eprintln!(
        "{scenario}: p50 x{:.1}, p99 x{:.1}, throughput {:.0} % of alone",
        ratio(flooded.percentile(0.5), alone.percentile(0.5)),
        ratio(flooded.percentile(0.99), alone.percentile(0.99)),
        100.0 * flooded.per_second() / alone.per_second()
    );
}

/// B alone, then B while A's `FLOOD` callers send `a_body`; A's answers.
async fn b_beside_a(
    server: &TestServer,
    a: &Client,
    a_body: Value,
    scenario: &str,
) -> (Latencies, BTreeMap<String, usize>, Value) {
    let b = server.admin();
    let b_body = calculation(None, json!({}));
    closed_loop(&b, &b_body, Duration::from_millis(300)).await; // warm
    let alone = closed_loop(&b, &b_body, Duration::from_secs(2)).await;
    let flood = Flood::start(a, a_body, FLOOD);
    let a_line = until_queued(&b, &organization_id(a).await, FLOOD as u64 / 2).await;
    let flooded = closed_loop(&b, &b_body, Duration::from_secs(3)).await;
    let a_answers = flood.stop().await;
    report(scenario, &alone, &flooded);
    eprintln!("{scenario}: A's answers {a_answers:?}");
    (flooded, a_answers, a_line)
}

async fn b_is_served_while_a_loops(backend: Backend) {
    let _alone = alone().await;
    let server = TestServer::start_with(backend, |config| {
        default_priorities(config);
        config.runtime.fuel = 1_000_000_000;
        // All of A's callers in the executor at once, not half of them at the gate.
        config.calculations.max_in_flight_per_org = FLOOD as u32;
    })
    .await;
    let a = other_organization(&server, "noisy");
    upload(&a, "loop", "hostile-loop-pure").await;
    let a_body = calculation(Some("loop@1"), json!({}));
    let (flooded, a_answers, _) = b_beside_a(&server, &a, a_body, "loop-pure").await;
    assert!(
        a_answers.get("422 fuel_exhausted").copied().unwrap_or(0) > 0,
        "A's loops run too, to their fuel limit: {a_answers:?}"
    );
    let p99 = flooded.percentile(0.99);
    assert!(p99 < B_P99_BOUND, "B's p99 {p99:?} while A loops");
}

async fn b_is_served_while_a_sleeps(backend: Backend) {
    let _alone = alone().await;
    let server = TestServer::start_with(backend, |config| {
        default_priorities(config);
        config.runtime.timeout_ms = 1_000;
        config.calculations.max_in_flight_per_org = FLOOD as u32;
    })
    .await;
    let a = other_organization(&server, "sleepy");
    upload(&a, "sleep", "hostile-loop-sleep").await;
    let a_body = calculation(Some("sleep@1"), json!({}));
    let (flooded, a_answers, a_line) = b_beside_a(&server, &a, a_body, "loop-sleep").await;
    assert!(
        a_line["waiting"].as_u64().unwrap() > 0,
        "A's sleeping calls wait without a thread: {a_line}"
    );
    assert!(
        a_answers
            .get("408 calculation_timeout")
            .copied()
            .unwrap_or(0)
            > 0,
        "A's sleeps end at their time limit: {a_answers:?}"
    );
    let p99 = flooded.percentile(0.99);
    assert!(p99 < B_P99_BOUND, "B's p99 {p99:?} while A sleeps");
}

async fn b_is_served_while_a_uploads_spinning_describes(backend: Backend) {
    let _alone = alone().await;
    let server = TestServer::start_with(backend, |config| {
        default_priorities(config);
        config.runtime.fuel = 1_000_000_000;
        config.runtime.describe_timeout_ms = 1_000;
    })
    .await;
    let a = other_organization(&server, "uploader");
    let b = server.admin();
    let b_body = calculation(None, json!({}));
    closed_loop(&b, &b_body, Duration::from_millis(300)).await; // warm
    let alone = closed_loop(&b, &b_body, Duration::from_secs(2)).await;
    let uploads = Flood::uploads(&a, "hostile-describe-loop", FLOOD / 4);
    // An upload's describe runs on the guest executor, in A's share.
    until_queued(&b, &organization_id(&a).await, 1).await;
    let flooded = closed_loop(&b, &b_body, Duration::from_secs(3)).await;
    let a_answers = uploads.stop().await;
    report("describe-loop uploads", &alone, &flooded);
    eprintln!("describe-loop uploads: A's answers {a_answers:?}");
    assert!(
        a_answers.keys().any(|answer| answer.starts_with("422")),
        "A's spinning describes are refused at their limit: {a_answers:?}"
    );
    assert!(
        a_answers.keys().all(|answer| answer.starts_with("422")
            || answer == "503 compile_busy"
            || answer == "503 calculation_capacity"),
        "A's uploads are refused for the plugin or for capacity only: {a_answers:?}"
    );
    let p99 = flooded.percentile(0.99);
    assert!(p99 < B_P99_BOUND, "B's p99 {p99:?} while A uploads");
}

async fn a_at_its_limit_is_throttled_not_starved(backend: Backend) {
    let _alone = alone().await;
    // Default caps: 8 calculations of A in flight, the rest wait at the gate.
    let server = TestServer::start_with(backend, default_priorities).await;
    let a = other_organization(&server, "greedy");
    let b = server.admin();
    upload(&a, "slow", "hostile-slow-ok").await;
    upload(&b, "slow", "hostile-slow-ok").await;
    // About 20 ms of compute per call.
    let body = calculation(Some("slow@1"), json!({"spin_millions": "50"}));
    // A asks with 16 callers, B with 2: with two executor threads each organization's
    // fair share is one thread, so they finish about as many calls. Served per call
    // instead of per organization, A would finish four times as many as B.
    let a_flood = Flood::start(&a, body.clone(), FLOOD);
    let b_flood = Flood::start(&b, body, 2);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (a_answers, b_answers) = (a_flood.stop().await, b_flood.stop().await);
    eprintln!("share: A {a_answers:?}, B {b_answers:?}");
    let served = |answers: &BTreeMap<String, usize>| answers.get("200").copied().unwrap_or(0);
    let (a_served, b_served) = (served(&a_answers), served(&b_answers));
    assert!(
        a_answers
            .keys()
            .all(|answer| answer == "200" || answer == "503 calculation_capacity"),
        "A is refused only for capacity: {a_answers:?}"
    );
    assert_eq!(
        b_answers.keys().collect::<Vec<_>>(),
        ["200"],
        "{b_answers:?}"
    );
    assert!(
        a_served * 5 >= b_served * 2,
        "A is starved: {a_served} served against B's {b_served}"
    );
    assert!(
        a_served * 2 <= b_served * 5,
        "A takes more than its share: {a_served} served against B's {b_served}"
    );
}

on_both_databases!(
    b_is_served_while_a_loops,
    b_is_served_while_a_sleeps,
    b_is_served_while_a_uploads_spinning_describes,
    a_at_its_limit_is_throttled_not_starved,
);
