//! Prometheus metrics counted exactly. The recorder is process-wide, so this binary is
//! the only one whose servers record into it, and its tests take turns (`alone`): every
//! count a test reads moved with its own traffic only.

use quote_tests::prometheus::metric;
use quote_tests::server::Reply;
use quote_tests::{Backend, Client, TestServer, on_both_databases};
use serde_json::{Value, json};

/// Held for a whole test: no other server of this process records meanwhile.
async fn alone() -> tokio::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    ONE_AT_A_TIME.lock().await
}

/// One RUB item, priced by the bundled standard plugin without exchange rates.
fn calculation() -> Value {
    json!({"currency": "RUB", "items": [{"sku": "A", "quantity": "1", "unit_price": "10", "currency": "RUB"}]})
}

async fn scrape(client: &Client) -> Reply {
    client.get("/metrics").await.expect(200)
}

/// How much a sample moved between two scrapes.
fn moved(before: &Reply, after: &Reply, name: &str, labels: &[(&str, &str)]) -> f64 {
    metric(&after.text, name, labels) - metric(&before.text, name, labels)
}

async fn requests_and_calculations_are_counted(backend: Backend) {
    let _alone = alone().await;
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    let anonymous = server.anonymous();
    let before = scrape(&anonymous).await;
    assert!(
        before.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for line in before
        .text
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
    {
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a sample: {line}"));
        assert!(value.parse::<f64>().is_ok(), "not a number: {line}");
        let name_end = series.find('{').unwrap_or(series.len());
        assert!(
            series[..name_end]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{line}"
        );
    }
    for _ in 0..5 {
        admin.get("/api/me").await.expect(200);
    }
    for _ in 0..3 {
        admin
            .post("/api/quotes/calculate", &calculation())
            .await
            .expect(200);
    }
    let after = scrape(&anonymous).await;
    let me = [("route", "/api/me"), ("status", "200")];
    assert_eq!(moved(&before, &after, "http_requests_total", &me), 5.0);
    let me = [("route", "/api/me")];
    assert_eq!(
        moved(&before, &after, "http_request_duration_seconds_count", &me),
        5.0,
        "latency histograms"
    );
    let success = [("outcome", "success")];
    assert_eq!(moved(&before, &after, "calculations_total", &success), 3.0);
    assert_eq!(
        moved(&before, &after, "calculation_fuel_count", &success),
        3.0,
        "fuel histograms"
    );
    for gauge in [
        "activity_queue_depth",
        "plugin_cache_entries",
        "dashboard_cache_entries",
        "calculations_in_flight",
    ] {
        assert!(after.text.contains(gauge), "{gauge} is exported");
    }
}

async fn rate_limit_rejections_are_counted(backend: Backend) {
    let _alone = alone().await;
    let server = TestServer::start_with(backend, |config| {
        config.rate_limits.enabled = true;
        config.rate_limits.default_per_minute = 3;
    })
    .await;
    let admin = server.admin();
    let before = scrape(&server.anonymous()).await;
    let mut refused = 0;
    for _ in 0..5 {
        if admin.get("/api/me").await.status == 429 {
            refused += 1;
        }
    }
    assert_eq!(refused, 2, "3 a minute pass");
    let after = scrape(&server.anonymous()).await;
    let default = [("class", "default")];
    assert_eq!(
        moved(&before, &after, "rate_limit_rejections_total", &default),
        2.0
    );
}

async fn fair_share_is_measured(backend: Backend) {
    let _alone = alone().await;
    let server = TestServer::start(backend).await;
    let admin = server.admin();
    admin
        .upload("slow", quote_tests::server::plugin_bytes("hostile-slow-ok"))
        .await
        .expect(201);
    let me = admin.get("/api/me").await.expect(200);
    let organization = me.body["organization"]["id"].as_str().unwrap().to_string();
    let before = scrape(&server.anonymous()).await;
    for _ in 0..3 {
        let answer = admin
            .post("/api/quotes/calculate", &calculation())
            .await
            .expect(200);
        assert!(answer.body["queue_ms"].as_f64().unwrap() >= 0.0);
        assert!(answer.body["run_ms"].as_f64().unwrap() > 0.0);
    }
    // About 80 ms of compute: past 5 ms and past 50 ms, two demotions.
    let mut slow = calculation();
    slow["plugin"] = json!("slow@1");
    slow["variables"] = json!({"spin_millions": "200"});
    admin.post("/api/quotes/calculate", &slow).await.expect(200);
    let after = scrape(&server.anonymous()).await;
    assert_eq!(
        moved(&before, &after, "calculation_queue_seconds_count", &[]),
        4.0
    );
    assert_eq!(
        moved(&before, &after, "calculation_run_seconds_count", &[]),
        4.0
    );
    for level in ["1", "2"] {
        assert_eq!(
            moved(
                &before,
                &after,
                "guest_calls_demoted_total",
                &[("level", level)]
            ),
            1.0,
            "demoted to level {level}"
        );
    }
    let fuel = [("organization", organization.as_str())];
    let fuel_moved = moved(&before, &after, "organization_fuel_total", &fuel);
    assert!(
        fuel_moved > 1.5e9,
        "the slow call's fuel is the organization's: {fuel_moved}"
    );
    assert!(metric(&after.text, "organization_cpu_seconds_total", &fuel) > 0.05);
    let health = admin.get("/api/health/detailed").await.expect(200);
    let executor = &health.body["executor"];
    assert!(executor["threads"].as_u64().unwrap() >= 1, "{executor}");
    assert!(executor["demotions"].as_u64().unwrap() >= 2, "{executor}");
    assert_eq!(executor["calls"], 0, "{executor}");
}

/// SQLite only: the counter is the activity queue's, whatever the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_activity_is_counted() {
    let _alone = alone().await;
    let server = TestServer::start_with(Backend::Sqlite, |config| {
        config.activity.queue_capacity = 5;
        config.activity.batch_size = 1;
        config.activity.flush_interval_ms = 20;
        config.activity.max_retry_backoff_ms = 200;
    })
    .await;
    let admin = server.admin();
    let before = scrape(&server.anonymous()).await;
    // Hold the database's write lock: the writer blocks and the queue fills.
    let pool = sqlx::SqlitePool::connect(&server.database.url)
        .await
        .unwrap();
    let mut stall = pool.acquire().await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut *stall)
        .await
        .unwrap();
    for _ in 0..20 {
        admin
            .post("/api/quotes/calculate", &calculation())
            .await
            .expect(200);
    }
    let health = admin.get("/api/health/detailed").await.expect(200);
    let dropped = health.body["activity"]["dropped"].as_u64().unwrap();
    assert!(dropped >= 10, "{}", health.body["activity"]);
    let after = scrape(&server.anonymous()).await;
    assert_eq!(
        moved(&before, &after, "activity_entries_dropped_total", &[]),
        dropped as f64,
        "the metric counts the drops the server counted"
    );
    sqlx::query("ROLLBACK").execute(&mut *stall).await.unwrap();
}

on_both_databases!(
    requests_and_calculations_are_counted,
    rate_limit_rejections_are_counted,
    fair_share_is_measured,
);

quote_tests::environment_tests!();
