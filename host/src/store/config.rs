//! Pool and timeout settings passed by the caller to [`connect`](super::connect).

use std::time::Duration;

/// Connection pool and timeout settings for either backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptionsConfig {
    /// Maximum open connections.
    pub max_connections: u32,
    /// Connections kept open even when idle.
    pub min_connections: u32,
    /// How long a query waits for a free connection before `Unavailable`.
    pub acquire_timeout: Duration,
    /// Idle connections above `min_connections` are closed after this.
    pub idle_timeout: Option<Duration>,
    /// PostgreSQL `statement_timeout` (SQLite has none). A statement running
    /// longer is cancelled and reported as `Unavailable`.
    pub statement_timeout: Option<Duration>,
    /// PostgreSQL `idle_in_transaction_session_timeout`: kills a session whose
    /// transaction was left open (a stuck export consumer, a bug).
    pub idle_in_transaction_timeout: Option<Duration>,
    /// SQLite `busy_timeout`: how long a writer waits for the file lock.
    pub sqlite_busy_timeout: Duration,
}

impl Default for PoolOptionsConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            statement_timeout: Some(Duration::from_secs(30)),
            idle_in_transaction_timeout: Some(Duration::from_secs(300)),
            sqlite_busy_timeout: Duration::from_secs(5),
        }
    }
}
