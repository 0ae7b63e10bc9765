//! The one task that writes the activity log: a batch when enough entries wait or
//! when the oldest has waited long enough, retries with backoff when the database
//! fails (keeping the batch), and on shutdown drains the queue before it stops.

use super::ActivityCounters;
use crate::store::{ActivityStore, NewActivity};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Entries per insert.
    pub batch_size: usize,
    /// Longest an entry waits before its batch is written.
    pub flush_interval: Duration,
    /// Longest pause between retries of a failed write.
    pub max_backoff: Duration,
    /// After shutdown, how long a failing database is retried before the rest is given up.
    pub shutdown_deadline: Duration,
}

/// First pause after a failed write; doubled up to `max_backoff`.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

pub struct ActivityWriter {
    receiver: mpsc::Receiver<NewActivity>,
    store: Arc<dyn ActivityStore>,
    config: WriterConfig,
    counters: Arc<ActivityCounters>,
}

impl ActivityWriter {
    pub(super) fn new(
        receiver: mpsc::Receiver<NewActivity>,
        store: Arc<dyn ActivityStore>,
        config: WriterConfig,
        counters: Arc<ActivityCounters>,
    ) -> Self {
        let config = WriterConfig {
            batch_size: config.batch_size.max(1),
            ..config
        };
        Self {
            receiver,
            store,
            config,
            counters,
        }
    }

    /// Runs until `shutdown` fires (or every sender is gone), then drains and returns.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut batch = Vec::with_capacity(self.config.batch_size);
        while self.next_batch(&mut batch, &shutdown).await {
            self.write(&mut batch, &shutdown, None).await;
        }
        self.drain(batch).await;
    }

    /// Waits for the first entry, then collects until the batch is full or the flush
    /// interval since that entry has passed. False once shutdown fires or the queue closes.
    async fn next_batch(
        &mut self,
        batch: &mut Vec<NewActivity>,
        shutdown: &CancellationToken,
    ) -> bool {
        let first = tokio::select! {
            biased;
            () = shutdown.cancelled() => return false,
            entry = self.receiver.recv() => entry,
        };
        let Some(first) = first else { return false };
        batch.push(first);
        let deadline = Instant::now() + self.config.flush_interval;
        while batch.len() < self.config.batch_size {
            let room = self.config.batch_size - batch.len();
            tokio::select! {
                received = self.receiver.recv_many(batch, room) => if received == 0 { break },
                () = tokio::time::sleep_until(deadline) => break,
                () = shutdown.cancelled() => break,
            }
        }
        true
    }

    /// Writes the batch, retrying with backoff; with a `give_up_at`, stops retrying then.
    async fn write(
        &self,
        batch: &mut Vec<NewActivity>,
        shutdown: &CancellationToken,
        give_up_at: Option<Instant>,
    ) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.store.insert_activity_batch(batch).await {
                Ok(_) => {
                    self.counters
                        .written
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    metrics::counter!("activity_entries_written_total")
                        .increment(batch.len() as u64);
                    batch.clear();
                    return;
                }
                Err(error) => {
                    self.counters.write_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%error, entries = batch.len(), retry_in_ms = backoff.as_millis() as u64, "activity log write failed; keeping the batch");
                }
            }
            if give_up_at.is_some_and(|deadline| Instant::now() + backoff > deadline) {
                self.counters
                    .dropped
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                metrics::counter!("activity_entries_dropped_total").increment(batch.len() as u64);
                tracing::error!(
                    entries = batch.len(),
                    "activity log entries lost: the database stayed unavailable through shutdown"
                );
                batch.clear();
                return;
            }
            // While running, a shutdown ends the retries here: the drain retries the kept
            // batch on its own clock.
            if give_up_at.is_none() && shutdown.is_cancelled() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = shutdown.cancelled(), if give_up_at.is_none() => return,
            }
            backoff = (backoff * 2).min(self.config.max_backoff);
        }
    }

    /// Closes the queue and writes everything still in it.
    async fn drain(mut self, mut batch: Vec<NewActivity>) {
        self.receiver.close();
        let give_up_at = Some(Instant::now() + self.config.shutdown_deadline);
        let never = CancellationToken::new();
        loop {
            while batch.len() < self.config.batch_size {
                match self.receiver.try_recv() {
                    Ok(entry) => batch.push(entry),
                    Err(_) => break,
                }
            }
            if batch.is_empty() {
                break;
            }
            self.write(&mut batch, &never, give_up_at).await;
        }
        tracing::info!(
            written = self.counters.written.load(Ordering::Relaxed),
            "activity log drained"
        );
    }
}
