//! "Fresh on the next call": a host notifies a channel of its own and waits until its
//! listener hears that notification. PostgreSQL delivers notifications in commit
//! order, so by then every change committed earlier on any host has been applied here.

use sqlx::postgres::PgPool;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;
use uuid::Uuid;

/// A host's own barrier channel and the calls waiting on it.
pub struct Barrier {
    /// Sends the barrier notifications (its own small pool, not the store's).
    pool: PgPool,
    channel: String,
    next: AtomicU64,
    waiting: Mutex<BTreeMap<u64, oneshot::Sender<()>>>,
    max_waiting: usize,
    timeout: Duration,
}

impl Barrier {
    pub fn new(pool: PgPool, max_waiting: usize, timeout: Duration) -> Self {
        Self {
            pool,
            channel: format!("quote_host_barrier_{}", Uuid::new_v4().simple()),
            next: AtomicU64::new(0),
            waiting: Mutex::new(BTreeMap::new()),
            max_waiting,
            timeout,
        }
    }

    /// The channel this host's listener must listen on.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// True once every change committed before this call has been applied here; false
    /// when that could not be shown within the timeout (or too many calls wait), and
    /// the caller should recompute instead of trusting its cache.
    pub async fn wait(&self) -> bool {
        let sequence = self.next.fetch_add(1, Ordering::Relaxed);
        let (heard, hearing) = oneshot::channel();
        {
            let mut waiting = self.lock();
            if waiting.len() >= self.max_waiting {
                metrics::counter!("change_barrier_timeouts_total").increment(1);
                return false;
            }
            waiting.insert(sequence, heard);
        }
        let send = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.channel)
            .bind(sequence.to_string())
            .execute(&self.pool);
        let done = tokio::time::timeout(self.timeout, async {
            send.await.is_ok() && hearing.await.is_ok()
        })
        .await
        .unwrap_or(false);
        if !done {
            self.lock().remove(&sequence);
            metrics::counter!("change_barrier_timeouts_total").increment(1);
            tracing::warn!(
                timeout_ms = self.timeout.as_millis() as u64,
                "the change barrier was not heard in time; recomputing"
            );
        }
        done
    }

    /// The listener heard barrier `payload`: every call waiting on it or an earlier one
    /// may go on.
    pub fn heard(&self, payload: &str) {
        let Ok(sequence) = payload.parse::<u64>() else {
            return;
        };
        let mut waiting = self.lock();
        let later = waiting.split_off(&(sequence + 1));
        let done = std::mem::replace(&mut *waiting, later);
        drop(waiting);
        for (_, heard) in done {
            let _ = heard.send(());
        }
    }

    /// Closes the sending pool, waiting at most `within`.
    pub async fn close(&self, within: Duration) {
        if tokio::time::timeout(within, self.pool.close())
            .await
            .is_err()
        {
            tracing::warn!("the barrier's connection did not close in time");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, oneshot::Sender<()>>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::postgres::PgPoolOptions;

    fn unreachable_barrier(max_waiting: usize) -> Barrier {
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(50))
            .connect_lazy("postgres://127.0.0.1:1/none")
            .unwrap();
        Barrier::new(pool, max_waiting, Duration::from_millis(100))
    }

    #[tokio::test]
    async fn hearing_a_barrier_releases_it_and_every_earlier_one() {
        let barrier = unreachable_barrier(10);
        let mut hearing = Vec::new();
        for sequence in 0..3 {
            let (heard, receiver) = oneshot::channel();
            barrier.lock().insert(sequence, heard);
            hearing.push(receiver);
        }
        barrier.heard("1");
        barrier.heard("not a number");
        assert!(hearing[0].try_recv().is_ok());
        assert!(hearing[1].try_recv().is_ok());
        assert!(hearing[2].try_recv().is_err());
        assert_eq!(barrier.lock().len(), 1);
    }

    #[tokio::test]
    async fn past_the_waiter_limit_or_unheard_a_call_recomputes() {
        assert!(!unreachable_barrier(0).wait().await);
        let barrier = unreachable_barrier(10);
        assert!(!barrier.wait().await);
        assert!(
            barrier.lock().is_empty(),
            "a failed wait leaves nothing behind"
        );
    }
}
