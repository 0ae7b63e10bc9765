//! Time as both databases keep it: UTC, whole microseconds, so values read back compare
//! equal to values written.

use chrono::{DateTime, Utc};

/// Current time truncated to microseconds.
pub(crate) fn now() -> DateTime<Utc> {
    truncate_micros(Utc::now())
}

/// Truncates a timestamp to whole microseconds.
pub(crate) fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Waits for a health-check query for at most `timeout` (connection wait included).
pub(crate) async fn ping_within<T>(
    timeout: std::time::Duration,
    query: impl Future<Output = std::result::Result<T, sqlx::Error>>,
) -> super::error::Result<()> {
    match tokio::time::timeout(timeout, query).await {
        Ok(done) => done.map(|_| ()).map_err(Into::into),
        Err(_) => Err(super::error::StoreError::Unavailable(format!(
            "ping exceeded {timeout:?}"
        ))),
    }
}
