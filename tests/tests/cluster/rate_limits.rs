//! (d) One key's limit holds across hosts: the counter lives on Redis.

use super::{Hosts, calculation};
use quote_tests::environment::redis_or_skip;
use quote_tests::redis::test_prefix;

/// Settings for hosts that share rate limits on `redis_url`, 10 calculations a minute.
pub fn shared_limits(redis_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("QUOTE_RATE_LIMITS__ENABLED", "true".into()),
        ("QUOTE_RATE_LIMITS__BACKEND", "redis".into()),
        ("QUOTE_RATE_LIMITS__REDIS_URL", redis_url.into()),
        ("QUOTE_RATE_LIMITS__REDIS_PREFIX", test_prefix()),
        ("QUOTE_RATE_LIMITS__CALCULATE_PER_MINUTE", "10".into()),
    ]
}

/// With 10 calculations a minute per key, sent round-robin to three hosts, the 11th is
/// refused (429 with `Retry-After`), whichever host it lands on; each answer carries the
/// shared count in `x-ratelimit-remaining`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quote_tests_without_postgres,
    ignore = "QUOTE_TEST_POSTGRES_URL is unset: this PostgreSQL test did not run"
)]
async fn the_eleventh_calculation_is_refused_on_whichever_host() {
    let Some(redis_url) = redis_or_skip("the_eleventh_calculation_is_refused_on_whichever_host")
    else {
        return;
    };
    let hosts = Hosts::start(&shared_limits(&redis_url)).await;
    let (_, member) = hosts.new_member().await;
    for sent in 0..10 {
        let host = sent % 3;
        let reply = hosts
            .client(host, &member)
            .post("/api/quotes/calculate", &calculation())
            .await
            .expect(200);
        assert_eq!(
            reply.headers["x-ratelimit-remaining"].to_str().unwrap(),
            (9 - sent).to_string(),
            "calculation {} on host {host}",
            sent + 1
        );
    }
    for host in 0..3 {
        let refused = hosts
            .client(host, &member)
            .post("/api/quotes/calculate", &calculation())
            .await
            .expect_error(429, "rate_limited");
        let retry_after: u64 = refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (1..=7).contains(&retry_after),
            "retry after {retry_after} s"
        );
    }
    // Another key has its own count.
    let (_, other) = hosts.new_member().await;
    hosts
        .client(2, &other)
        .post("/api/quotes/calculate", &calculation())
        .await
        .expect(200);
}
