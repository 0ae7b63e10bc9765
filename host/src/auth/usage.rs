//! When each API key was last used. A request only notes its key in memory (never
//! waiting); one background task writes, at most once per key per interval.

use crate::store::{TenantStore, now};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How long the writer may go on after shutdown with uses still queued.
const DRAIN_DEADLINE: Duration = Duration::from_secs(2);

/// The request side: which keys were noted within the interval, and the queue to the
/// writer.
pub struct KeyUsage {
    /// Keys whose use was queued less than an interval ago (bounded; an evicted key
    /// costs one more write, which the store's own condition then skips).
    recent: moka::sync::Cache<Uuid, ()>,
    queue: mpsc::Sender<(Uuid, DateTime<Utc>)>,
}

/// The one task that writes `last_used_at`; see [`KeyUsageWriter::run`].
pub struct KeyUsageWriter {
    queue: mpsc::Receiver<(Uuid, DateTime<Utc>)>,
    store: Arc<dyn TenantStore>,
    interval: Duration,
}

/// How often and how much.
#[derive(Debug, Clone)]
pub struct UsageLimits {
    /// Shortest time between two writes of one key's `last_used_at` (at least 1 s).
    pub interval: Duration,
    /// Keys remembered as recently written.
    pub tracked_keys: u64,
    /// Uses waiting for the writer; when full, a use is not recorded (the next one is).
    pub queue_capacity: usize,
}

impl KeyUsage {
    pub fn new(store: Arc<dyn TenantStore>, limits: &UsageLimits) -> (Self, KeyUsageWriter) {
        let interval = limits.interval.max(Duration::from_secs(1));
        let (sender, receiver) = mpsc::channel(limits.queue_capacity.max(1));
        let recent = moka::sync::Cache::builder()
            .max_capacity(limits.tracked_keys)
            .time_to_live(interval)
            .build();
        let usage = Self {
            recent,
            queue: sender,
        };
        let writer = KeyUsageWriter {
            queue: receiver,
            store,
            interval,
        };
        (usage, writer)
    }

    /// Notes that `key_id` authenticated a request now. Cheap and never waits: the
    /// write happens in the background, and only for the first use in an interval.
    pub fn record(&self, key_id: Uuid) {
        if !self.recent.entry(key_id).or_insert(()).is_fresh() {
            return;
        }
        if self.queue.try_send((key_id, now())).is_err() {
            // Queue full (or the writer stopped): forget the key so a later use retries.
            self.recent.invalidate(&key_id);
            tracing::debug!(%key_id, "last-used queue full; this use is not recorded");
        }
    }
}

impl KeyUsageWriter {
    /// Writes queued uses until `shutdown` fires, then what is still queued (for at
    /// most [`DRAIN_DEADLINE`]). Writing the same use twice is harmless.
    pub async fn run(mut self, shutdown: CancellationToken) {
        loop {
            let next = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                next = self.queue.recv() => next,
            };
            let Some((key_id, at)) = next else { return };
            self.write(key_id, at).await;
        }
        let drain = async {
            while let Ok((key_id, at)) = self.queue.try_recv() {
                self.write(key_id, at).await;
            }
        };
        let _ = tokio::time::timeout(DRAIN_DEADLINE, drain).await;
    }

    async fn write(&self, key_id: Uuid, at: DateTime<Utc>) {
        let written = self
            .store
            .touch_api_key_last_used(key_id, at, self.interval)
            .await;
        if let Err(error) = written {
            tracing::warn!(%key_id, %error, "recording an API key's last use failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::TestKeys;
    use super::*;

    fn limits(queue_capacity: usize) -> UsageLimits {
        UsageLimits {
            interval: Duration::from_secs(60),
            tracked_keys: 100,
            queue_capacity,
        }
    }

    #[tokio::test]
    async fn a_key_used_many_times_within_the_interval_is_written_once() {
        let store = Arc::new(TestKeys::with_key("qh_secret"));
        let (usage, writer) = KeyUsage::new(store.clone(), &limits(16));
        let stop = CancellationToken::new();
        let task = tokio::spawn(writer.run(stop.clone()));
        let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
        for _ in 0..100 {
            usage.record(first);
        }
        usage.record(second);
        store.wait_for_touches(2).await;
        usage.record(first);
        usage.record(second);
        stop.cancel();
        task.await.unwrap();
        assert_eq!(store.touched(), [first, second]);
    }

    #[tokio::test]
    async fn a_use_that_finds_the_queue_full_is_recorded_by_a_later_one() {
        let store = Arc::new(TestKeys::with_key("qh_secret"));
        let (usage, writer) = KeyUsage::new(store.clone(), &limits(1));
        let stop = CancellationToken::new();
        let gate = store.hold_touches();
        let task = tokio::spawn(writer.run(stop.clone()));
        let [held, queued, dropped] = [(); 3].map(|()| Uuid::now_v7());
        usage.record(held);
        gate.wait_reached().await;
        usage.record(queued);
        usage.record(dropped);
        gate.release();
        store.wait_for_touches(2).await;
        usage.record(dropped);
        store.wait_for_touches(3).await;
        stop.cancel();
        task.await.unwrap();
        assert_eq!(store.touched(), [held, queued, dropped]);
    }

    #[tokio::test]
    async fn uses_still_queued_at_shutdown_are_written() {
        let store = Arc::new(TestKeys::with_key("qh_secret"));
        let (usage, writer) = KeyUsage::new(store.clone(), &limits(16));
        let stop = CancellationToken::new();
        stop.cancel();
        let key = Uuid::now_v7();
        usage.record(key);
        writer.run(stop).await;
        assert_eq!(store.touched(), [key]);
    }
}
