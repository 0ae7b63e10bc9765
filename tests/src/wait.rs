//! Waiting for a condition, with a bound, instead of sleeping and hoping.

use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};

/// Polls `check` every 20 ms until it holds; panics naming `what` after `bound`.
pub async fn until(what: &str, bound: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + bound;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Returns once the wall clock reads later than `instant` at microsecond precision (what
/// both databases store), so the next timestamp taken sorts strictly after it.
pub async fn clock_passes(instant: DateTime<Utc>) {
    let what = format!("the clock moving past {instant}");
    until(&what, Duration::from_secs(5), async || {
        Utc::now().timestamp_micros() > instant.timestamp_micros()
    })
    .await;
}
