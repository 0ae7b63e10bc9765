//! `[cluster]`: how hosts sharing one PostgreSQL database keep their caches coherent.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// Longest a dashboard call waits to have heard every earlier change before it
    /// recomputes instead, in ms. Default 1000.
    pub barrier_timeout_ms: u64,
    /// Dashboard calls waiting on the barrier at once; past it they recompute. Default 1000.
    pub max_barrier_waiters: usize,
    /// Connections that send barrier notifications. Default 2.
    pub barrier_connections: u32,
    /// Longest pause between the listener's reconnect attempts, in ms. Default 5000.
    pub listener_max_backoff_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            barrier_timeout_ms: 1_000,
            max_barrier_waiters: 1_000,
            barrier_connections: 2,
            listener_max_backoff_ms: 5_000,
        }
    }
}
