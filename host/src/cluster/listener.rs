//! The change listener: a `LISTEN` on its own connection. Each notification is applied
//! to this host's caches through [`Changes`]; a lost connection is re-established with
//! backoff and then every cache is cleared, since notifications may have been missed.
//! It stops on the shutdown token and closes its connection itself, before the store.

use super::{Barrier, CLOSE_WAIT, ListenerStatus};
use crate::changes::{Change, Changes};
use crate::store::CHANGES_CHANNEL;
use sqlx::postgres::{PgListener, PgNotification, PgPool};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The first pause before reconnecting; it doubles up to the configured maximum.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Longest a connect-and-listen may take before it counts as failed.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct ChangeListener {
    pool: PgPool,
    listener: Option<PgListener>,
    changes: Arc<Changes>,
    status: Arc<ListenerStatus>,
    barrier: Arc<Barrier>,
    max_backoff: Duration,
}

impl ChangeListener {
    /// Connects and listens; fails when PostgreSQL cannot be reached now.
    pub(super) async fn connect(
        pool: PgPool,
        changes: Arc<Changes>,
        status: Arc<ListenerStatus>,
        barrier: Arc<Barrier>,
        max_backoff: Duration,
    ) -> anyhow::Result<Self> {
        let listener = subscribe(&pool, barrier.channel()).await?;
        status.connected.store(true, Ordering::Relaxed);
        Ok(Self {
            pool,
            listener: Some(listener),
            changes,
            status,
            barrier,
            max_backoff,
        })
    }

    /// Hears changes until `stopping` fires, then drops the connection and closes its pool.
    pub async fn run(mut self, stopping: CancellationToken) {
        let mut listener = self.listener.take();
        loop {
            if listener.is_none() {
                match self.reconnect(&stopping).await {
                    Some(again) => listener = Some(again),
                    None => break,
                }
            }
            let Some(active) = listener.as_mut() else {
                continue;
            };
            let received = tokio::select! {
                () = stopping.cancelled() => break,
                received = active.try_recv() => received,
            };
            match received {
                Ok(Some(notification)) => self.hear(&notification).await,
                Ok(None) | Err(_) => {
                    tracing::warn!("the change listener lost its connection; reconnecting");
                    self.status.connected.store(false, Ordering::Relaxed);
                    listener = None;
                }
            }
        }
        drop(listener);
        self.status.connected.store(false, Ordering::Relaxed);
        if tokio::time::timeout(CLOSE_WAIT, self.pool.close())
            .await
            .is_err()
        {
            tracing::warn!("the change listener's connection did not close in time");
        }
    }

    async fn hear(&self, notification: &PgNotification) {
        if notification.channel() != CHANGES_CHANNEL {
            self.barrier.heard(notification.payload());
            return;
        }
        self.status.notifications.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("change_notifications_total").increment(1);
        // A change this build does not know may concern any cache.
        let change = serde_json::from_str(notification.payload()).unwrap_or(Change::Everything);
        self.changes.apply(&change).await;
    }

    /// Connects again with backoff; then clears every cache, since changes may have been
    /// missed meanwhile. None when `stopping` fired first.
    async fn reconnect(&self, stopping: &CancellationToken) -> Option<PgListener> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            tokio::select! {
                () = stopping.cancelled() => return None,
                () = tokio::time::sleep(backoff) => {}
            }
            let attempt = tokio::select! {
                () = stopping.cancelled() => return None,
                attempt = tokio::time::timeout(
                    SUBSCRIBE_TIMEOUT,
                    subscribe(&self.pool, self.barrier.channel()),
                ) => attempt,
            };
            match attempt {
                Ok(Ok(listener)) => {
                    self.status.connected.store(true, Ordering::Relaxed);
                    self.status.reconnects.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("change_listener_reconnects_total").increment(1);
                    self.changes.apply(&Change::Everything).await;
                    tracing::info!("the change listener reconnected; caches cleared");
                    return Some(listener);
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, backoff_ms = backoff.as_millis() as u64, "the change listener could not reconnect")
                }
                Err(_) => tracing::warn!("the change listener's reconnect timed out"),
            }
            backoff = (backoff * 2).min(self.max_backoff);
        }
    }
}

/// A listener on the changes channel and this host's barrier channel.
async fn subscribe(pool: &PgPool, barrier_channel: &str) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    // This code reconnects itself (and clears caches); the pool is closed only after
    // the listener is dropped.
    listener.eager_reconnect(false);
    listener.ignore_pool_close_event(true);
    listener
        .listen_all([CHANGES_CHANNEL, barrier_channel])
        .await?;
    Ok(listener)
}
