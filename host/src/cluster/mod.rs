//! Many hosts, one truth: on PostgreSQL every host hears the others' changes (the
//! listener), can wait until it has heard everything committed so far (the barrier),
//! and reports both in health. On SQLite (one host) changes are applied locally only.

mod barrier;
mod config;
mod listener;
mod rate_limits;

pub use barrier::Barrier;
pub use config::ClusterConfig;
pub use listener::ChangeListener;
pub use rate_limits::{RateLimitHealth, SharedLimits, Verdict};

use crate::changes::Changes;
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// How long a connection of the listener or the barrier may take to close at shutdown.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// What the listener has done so far, for health.
#[derive(Default)]
pub struct ListenerStatus {
    connected: AtomicBool,
    notifications: AtomicU64,
    reconnects: AtomicU64,
}

/// The `cluster` section of detailed health.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClusterHealth {
    /// `postgres_notify` (changes reach every host) or `local` (SQLite, one host).
    pub transport: &'static str,
    /// Whether the listener holds its connection (always false for `local`).
    pub listener_connected: bool,
    /// Change notifications heard since start.
    pub notifications_received: u64,
    /// Times the listener reconnected (each cleared every cache).
    pub reconnects: u64,
}

/// This host's part in the cluster.
pub struct Cluster {
    status: Arc<ListenerStatus>,
    barrier: Option<Arc<Barrier>>,
}

impl Cluster {
    /// One host on its own (SQLite): changes are applied where they are made.
    pub fn local() -> Self {
        Self {
            status: Arc::default(),
            barrier: None,
        }
    }

    /// Connects the listener to `url` (before the host serves, so no change is missed)
    /// and returns the cluster with the listener to run.
    pub async fn connect(
        url: &str,
        config: &ClusterConfig,
        changes: Arc<Changes>,
    ) -> anyhow::Result<(Self, ChangeListener)> {
        let options = PgConnectOptions::from_str(url)?;
        let barrier_pool = PgPoolOptions::new()
            .max_connections(config.barrier_connections.max(1))
            .acquire_timeout(Duration::from_millis(config.barrier_timeout_ms))
            .connect_lazy_with(options.clone().application_name("quote-host-barrier"));
        let barrier = Arc::new(Barrier::new(
            barrier_pool,
            config.max_barrier_waiters,
            Duration::from_millis(config.barrier_timeout_ms),
        ));
        let status = Arc::new(ListenerStatus::default());
        let listener = ChangeListener::connect(
            listener_pool(options),
            changes,
            status.clone(),
            barrier.clone(),
            Duration::from_millis(config.listener_max_backoff_ms.max(100)),
        )
        .await?;
        let cluster = Self {
            status,
            barrier: Some(barrier),
        };
        Ok((cluster, listener))
    }

    /// True once every change committed anywhere before this call has been applied on
    /// this host (at once on SQLite); false when that could not be shown in time.
    pub async fn caught_up(&self) -> bool {
        match &self.barrier {
            Some(barrier) => barrier.wait().await,
            None => true,
        }
    }

    /// Closes the barrier's connection (the listener closes its own when it stops).
    pub async fn close(&self) {
        if let Some(barrier) = &self.barrier {
            barrier.close(CLOSE_WAIT).await;
        }
    }

    pub fn health(&self) -> ClusterHealth {
        ClusterHealth {
            transport: match self.barrier {
                Some(_) => "postgres_notify",
                None => "local",
            },
            listener_connected: self.status.connected.load(Ordering::Relaxed),
            notifications_received: self.status.notifications.load(Ordering::Relaxed),
            reconnects: self.status.reconnects.load(Ordering::Relaxed),
        }
    }
}

/// The listener's own pool of one connection, never idle-closed: a LISTEN lives as long
/// as its session.
fn listener_pool(options: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options.application_name("quote-host-listener"))
}
