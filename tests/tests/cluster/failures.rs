//! (e) Redis stopped and (f) the listener's connection killed: hosts keep serving and
//! say so in health, and recover.

use super::rate_limits::shared_limits;
use super::{Hosts, PROMISE, calculation, within};
use quote_tests::redis::PrivateRedis;
use std::time::Duration;

/// (e) With their Redis stopped (a private redis-server, never the shared one), hosts
/// still serve (fail open) and detailed health says degraded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quote_tests_without_postgres,
    ignore = "QUOTE_TEST_POSTGRES_URL is unset: this PostgreSQL test did not run"
)]
async fn with_redis_stopped_requests_are_served_and_health_is_degraded() {
    let mut redis = PrivateRedis::start();
    let hosts = Hosts::start(&shared_limits(&redis.url())).await;
    for n in 0..3 {
        let reply = hosts
            .admin(n)
            .post("/api/quotes/calculate", &calculation())
            .await
            .expect(200);
        assert!(reply.headers.contains_key("x-ratelimit-remaining"));
        assert_eq!(hosts.health(n).await["status"], "ok", "host {n}");
    }
    redis.stop();
    for n in 0..3 {
        hosts
            .admin(n)
            .post("/api/quotes/calculate", &calculation())
            .await
            .expect(200);
        let health = hosts.health(n).await;
        assert_eq!(health["status"], "degraded", "host {n}: {health}");
        assert_eq!(health["cluster"]["rate_limits"]["reachable"], false);
        assert!(
            health["cluster"]["rate_limits"]["failures"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
}

/// Failing closed, a host without its Redis answers 503 `rate_limits_unavailable` with
/// `Retry-After`, never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quote_tests_without_postgres,
    ignore = "QUOTE_TEST_POSTGRES_URL is unset: this PostgreSQL test did not run"
)]
async fn failing_closed_without_redis_answers_503() {
    let mut redis = PrivateRedis::start();
    let mut settings = shared_limits(&redis.url());
    settings.push(("QUOTE_RATE_LIMITS__FAIL_OPEN", "false".into()));
    let hosts = Hosts::start(&settings).await;
    hosts.admin(1).get("/api/me").await.expect(200);
    redis.stop();
    let refused = hosts
        .admin(1)
        .get("/api/me")
        .await
        .expect_error(503, "rate_limits_unavailable");
    assert_eq!(refused.headers["retry-after"].to_str().unwrap(), "1");
}

/// (f) Each listener's PostgreSQL backend terminated: every host reconnects, clears its
/// caches (it may have missed changes), and the next change still reaches every host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quote_tests_without_postgres,
    ignore = "QUOTE_TEST_POSTGRES_URL is unset: this PostgreSQL test did not run"
)]
async fn a_listener_that_lost_its_connection_clears_caches_and_hears_again() {
    let hosts = Hosts::start(&[]).await;
    let (id, secret) = hosts.new_member().await;
    for n in 0..3 {
        hosts.admin(n).get("/api/dashboard/stats").await.expect(200);
        assert!(dashboard_cached(&hosts, n).await, "host {n}");
        hosts.client(n, &secret).get("/api/me").await.expect(200);
        let health = hosts.health(n).await;
        assert_eq!(health["cluster"]["listener_connected"], true);
    }
    let terminated = terminate_listeners(&hosts).await;
    assert_eq!(terminated, 3, "one listener per host");
    for n in 0..3 {
        let reconnected = within(Duration::from_secs(10), async || {
            let health = hosts.health(n).await;
            health["cluster"]["reconnects"] == 1 && health["cluster"]["listener_connected"] == true
        })
        .await;
        assert!(reconnected.is_some(), "host {n} did not reconnect");
        assert!(
            !dashboard_cached(&hosts, n).await,
            "host {n} kept its dashboard cache across the reconnect"
        );
    }
    hosts
        .admin(0)
        .delete(&format!("/api/api-keys/{id}"))
        .await
        .expect(204);
    for n in 1..3 {
        let member = hosts.client(n, &secret);
        let refused = within(PROMISE, async || member.get("/api/me").await.status == 401).await;
        assert!(refused.is_some(), "host {n} did not hear the revocation");
    }
}

/// Whether host `n`'s dashboard figures came from its cache.
async fn dashboard_cached(hosts: &Hosts, n: usize) -> bool {
    let stats = hosts.admin(n).get("/api/dashboard/stats").await.expect(200);
    stats.body["cached"].as_bool().unwrap()
}

/// Terminates the listeners' backends on the test database; how many.
async fn terminate_listeners(hosts: &Hosts) -> i64 {
    use sqlx::Connection;
    let mut connection = sqlx::postgres::PgConnection::connect(&hosts.database.url)
        .await
        .unwrap();
    let terminated: (i64,) = sqlx::query_as(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'quote-host-listener') t",
    )
    .fetch_one(&mut connection)
    .await
    .unwrap();
    connection.close().await.unwrap();
    terminated.0
}
