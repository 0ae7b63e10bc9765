//! Operations a user sees: the activity log (also under a stalled database), the
//! dashboard cache, rate limits per class, and health that follows the database.
//! (Metrics are counted exactly in their own test binary, `tests/tests/metrics`.)

use super::quotes::{bearing_quote, seed_sample_rates};
use quote_tests::{Backend, Client, TestServer, on_both_databases, wait};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn calculation() -> Value {
    let mut body = bearing_quote("t");
    body.as_object_mut().unwrap().remove("title");
    body
}

async fn activity_count(admin: &Client, filter: &str) -> usize {
    let mut count = 0;
    let mut path = format!("/api/activity-logs?limit=100&{filter}");
    loop {
        let page = admin.get(&path).await.expect(200);
        count += page.body["items"].as_array().unwrap().len();
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/activity-logs?limit=100&{filter}&cursor={cursor}"),
            None => return count,
        }
    }
}

async fn activity_is_recorded_and_listed(backend: Backend) {
    let server =
        TestServer::start_with(backend, |config| config.activity.flush_interval_ms = 50).await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    let created = admin
        .post("/api/quotes", &bearing_quote("logged"))
        .await
        .expect(201);
    let id = created.body["id"].as_str().unwrap().to_string();
    admin
        .patch(&format!("/api/quotes/{id}"), &json!({"status": "sent"}))
        .await
        .expect(200);
    admin
        .post("/api/quotes/calculate", &calculation())
        .await
        .expect(200);
    admin
        .post("/api/api-keys", &json!({"name": "x", "role": "member"}))
        .await
        .expect(201);
    wait::until("four entries", Duration::from_secs(10), async || {
        activity_count(&admin, "").await >= 4
    })
    .await;

    let page = admin.get("/api/activity-logs").await.expect(200);
    let actions: Vec<&str> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "api_key.create",
            "quote.calculate",
            "quote.update",
            "quote.create"
        ],
        "newest first"
    );
    let quotes = admin
        .get("/api/activity-logs?entity_type=quote&action=quote.update")
        .await
        .expect(200);
    let only = &quotes.body["items"].as_array().unwrap()[..];
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["entity_id"], id.as_str());
    assert_eq!(only[0]["metadata"]["status"]["to"], "sent");
    let first = admin.get("/api/activity-logs?limit=2").await.expect(200);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = admin
        .get(&format!("/api/activity-logs?limit=2&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(second.body["items"][0]["action"], "quote.update");
}

/// Holds the database's write lock on the activity table until dropped.
enum Stall {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

async fn stall_activity_writes(server: &TestServer) -> Stall {
    match server.database.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&server.database.url)
                .await
                .unwrap();
            let mut connection = pool.acquire().await.unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut *connection)
                .await
                .unwrap();
            Stall::Sqlite(connection)
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&server.database.url).await.unwrap();
            let mut transaction = pool.begin().await.unwrap();
            sqlx::query("LOCK TABLE activity_logs IN ACCESS EXCLUSIVE MODE")
                .execute(&mut *transaction)
                .await
                .unwrap();
            Stall::Postgres(transaction)
        }
    }
}

async fn release(stall: Stall) {
    match stall {
        Stall::Sqlite(mut connection) => {
            sqlx::query("ROLLBACK")
                .execute(&mut *connection)
                .await
                .unwrap();
        }
        Stall::Postgres(transaction) => transaction.rollback().await.unwrap(),
    }
}

async fn a_full_queue_drops_and_counts_without_blocking(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.activity.queue_capacity = 20;
        config.activity.batch_size = 5;
        config.activity.flush_interval_ms = 20;
        config.activity.max_retry_backoff_ms = 200;
    })
    .await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    admin
        .post("/api/quotes/calculate", &calculation())
        .await
        .expect(200);
    let stall = stall_activity_writes(&server).await;
    for _ in 0..100 {
        let started = Instant::now();
        admin
            .post("/api/quotes/calculate", &calculation())
            .await
            .expect(200);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a request waited for the stalled log"
        );
    }
    let health = admin.get("/api/health/detailed").await.expect(200);
    let activity = &health.body["activity"];
    assert!(activity["dropped"].as_u64().unwrap() >= 70, "{activity}");
    assert_eq!(activity["queue_capacity"], 20);
    release(stall).await;
    // Nothing that was queued is lost: the writer catches up once the database returns.
    let dropped = activity["dropped"].as_u64().unwrap() as usize;
    wait::until(
        "the backlog is written",
        Duration::from_secs(10),
        async || activity_count(&admin, "action=quote.calculate").await == 101 - dropped,
    )
    .await;
}

async fn dashboard_cache_hits_expires_and_is_invalidated(backend: Backend) {
    let server = TestServer::start_with(backend, |config| config.dashboard.cache_ttl_s = 1).await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    let first = admin.get("/api/dashboard/stats").await.expect(200);
    assert_eq!(first.body["cached"], false);
    assert_eq!(first.body["quotes_by_status"]["draft"], 0);
    let second = admin.get("/api/dashboard/stats").await.expect(200);
    assert_eq!(second.body["cached"], true);
    assert_eq!(second.body["computed_at"], first.body["computed_at"]);

    // A quote change drops the organization's entry at once.
    let quote = admin
        .post("/api/quotes", &bearing_quote("d"))
        .await
        .expect(201);
    let id = quote.body["id"].as_str().unwrap();
    admin
        .patch(&format!("/api/quotes/{id}"), &json!({"status": "sent"}))
        .await
        .expect(200);
    admin
        .patch(&format!("/api/quotes/{id}"), &json!({"status": "accepted"}))
        .await
        .expect(200);
    let third = admin.get("/api/dashboard/stats").await.expect(200);
    assert_eq!(third.body["cached"], false);
    assert_eq!(third.body["quotes_by_status"]["accepted"], 1);
    let rub = &third.body["accepted"][0];
    assert_eq!(rub["currency"], "RUB");
    assert_eq!(rub["this_month"]["total"], "72395.93");
    assert_eq!(rub["this_month"]["count"], 1);
    assert_eq!(
        rub.get("trend_percent"),
        Some(&Value::Null),
        "no accepted quotes last month: {rub}"
    );
    assert_eq!(third.body["recent_quotes"][0]["id"], id);

    // And expires after its TTL.
    assert_eq!(
        admin.get("/api/dashboard/stats").await.expect(200).body["cached"],
        true
    );
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let expired = admin.get("/api/dashboard/stats").await.expect(200);
    assert_eq!(expired.body["cached"], false);
    assert_ne!(expired.body["computed_at"], third.body["computed_at"]);
}

/// Sends requests until one is refused; returns how many passed and the refusal.
async fn until_limited(
    send: impl AsyncFn() -> quote_tests::server::Reply,
    most: usize,
) -> (usize, quote_tests::server::Reply) {
    for passed in 0..most {
        let reply = send().await;
        if reply.status == 429 {
            return (passed, reply);
        }
        assert!(reply.status.is_success(), "{}", reply.text);
        assert!(
            reply.headers.contains_key("x-ratelimit-remaining"),
            "rate-limit headers on every answer"
        );
    }
    panic!("no 429 after {most} requests");
}

async fn each_rate_class_limits_per_key(backend: Backend) {
    let server = TestServer::start_with(backend, |config| {
        config.rate_limits.enabled = true;
        config.rate_limits.default_per_minute = 60;
        config.rate_limits.calculate_per_minute = 30;
        config.rate_limits.upload_per_minute = 3;
        config.rate_limits.export_per_minute = 4;
    })
    .await;
    seed_sample_rates(&server).await;
    let admin = server.admin();
    let member_key = admin
        .post("/api/api-keys", &json!({"name": "m", "role": "member"}))
        .await
        .expect(201);
    let member = server.client(member_key.body["key_secret"].as_str().unwrap());

    let (passed, refused) = until_limited(async || admin.get("/api/me").await, 100).await;
    assert_eq!(
        passed, 59,
        "60 a minute, one already used creating the member key"
    );
    let refused = refused.expect_error(429, "rate_limited");
    let retry_after: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=2).contains(&retry_after),
        "one request a second comes back: {retry_after}"
    );
    assert_eq!(refused.headers["x-ratelimit-limit"], "60");
    // Another key is counted on its own.
    member.get("/api/me").await.expect(200);
    // Retry-After is honest: waiting that long is enough.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    admin.get("/api/me").await.expect(200);

    let (passed, refused) = until_limited(
        async || admin.post("/api/quotes/calculate", &calculation()).await,
        100,
    )
    .await;
    assert_eq!(passed, 30);
    let retry_after: u64 = refused.expect_error(429, "rate_limited").headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&retry_after), "{retry_after}");

    let standard = quote_tests::server::plugin_bytes("standard");
    let (passed, refused) =
        until_limited(async || admin.upload("again", standard.clone()).await, 10).await;
    assert_eq!(passed, 3);
    let retry_after: u64 = refused.expect_error(429, "rate_limited").headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=21).contains(&retry_after), "{retry_after}");

    let (passed, refused) = until_limited(async || admin.get("/api/quotes/export").await, 10).await;
    assert_eq!(passed, 4);
    refused.expect_error(429, "rate_limited");
    member.get("/api/quotes/export").await.expect(200);

    // Without a key, the client's address is counted.
    let anonymous = server.anonymous();
    let (passed, _) = until_limited(
        async || {
            let reply = anonymous.get("/api/me").await;
            match reply.status.as_u16() {
                401 => quote_tests::server::Reply {
                    status: reqwest::StatusCode::OK,
                    ..reply
                },
                _ => reply,
            }
        },
        100,
    )
    .await;
    assert_eq!(passed, 60);
}

on_both_databases!(
    activity_is_recorded_and_listed,
    a_full_queue_drops_and_counts_without_blocking,
    dashboard_cache_hits_expires_and_is_invalidated,
    each_rate_class_limits_per_key,
);

/// Health follows the database: 503 soon after it refuses connections, 200 once it is back,
/// without a restart. PostgreSQL only: a SQLite file the process holds open cannot
/// become unreachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quote_tests_without_postgres,
    ignore = "QUOTE_TEST_POSTGRES_URL is unset: this PostgreSQL test did not run"
)]
async fn health_follows_the_database() {
    let server = TestServer::start_with(Backend::Postgres, |config| {
        config.database.acquire_timeout_ms = 500;
        config.database.min_connections = 0;
    })
    .await;
    let anonymous = server.anonymous();
    anonymous.get("/api/health").await.expect(200);
    let database = server.database.url.rsplit('/').next().unwrap().to_string();
    let admin_url = quote_tests::db::require_postgres_url();
    let admin_pool = sqlx::PgPool::connect(&admin_url).await.unwrap();
    let run = async |sql: String| {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&admin_pool)
            .await
            .unwrap();
    };
    run(format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false"
    ))
    .await;
    run(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
    ))
    .await;
    // Health answers from a check at most `http.health_check_max_age_ms` (1 s) old, and
    // a check gives up after the acquire timeout (0.5 s); the bound is generous for a
    // loaded machine.
    let gone = Instant::now();
    wait::until("health turning 503", Duration::from_secs(4), async || {
        anonymous.get("/api/health").await.status == 503
    })
    .await;
    eprintln!(
        "health turned 503 {:?} after the database went away",
        gone.elapsed()
    );
    let down = anonymous
        .get("/api/health")
        .await
        .expect_error(503, "database_unavailable");
    assert!(down.headers.contains_key("retry-after"));
    run(format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true"
    ))
    .await;
    wait::until("health is back", Duration::from_secs(10), async || {
        anonymous.get("/api/health").await.status == 200
    })
    .await;
    server.admin().get("/api/me").await.expect(200);
}
