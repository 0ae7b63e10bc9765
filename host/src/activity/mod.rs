//! The activity log: handlers enqueue entries without waiting for the database; one
//! writer task batches them into it. The queue is bounded; what does not fit is
//! dropped and counted, never silently lost and never blocking a request. Text in an
//! entry is bounded (`http.max_echoed_text_bytes`): a user's 4 MiB id becomes a short row.

mod writer;

pub use writer::{ActivityWriter, WriterConfig};

use crate::auth::Caller;
use crate::store::NewActivity;
use crate::text::{truncate, truncate_json};
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// The handlers' side of the queue. Cheap to share.
pub struct ActivityLog {
    sender: mpsc::Sender<NewActivity>,
    capacity: usize,
    counters: Arc<ActivityCounters>,
    /// Longest text an entry keeps of any one string (entity id, metadata values).
    max_text_bytes: usize,
}

/// What happened to entries since start.
#[derive(Default)]
pub struct ActivityCounters {
    pub enqueued: AtomicU64,
    pub dropped: AtomicU64,
    pub written: AtomicU64,
    pub write_failures: AtomicU64,
}

impl ActivityLog {
    /// A queue of `capacity` entries and the writer that drains it; strings of an entry
    /// are cut to `max_text_bytes`.
    pub fn new(
        capacity: usize,
        config: WriterConfig,
        store: Arc<dyn crate::store::ActivityStore>,
        max_text_bytes: usize,
    ) -> (Self, ActivityWriter) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let counters = Arc::new(ActivityCounters::default());
        let writer = ActivityWriter::new(receiver, store, config, counters.clone());
        (
            Self {
                sender,
                capacity: capacity.max(1),
                counters,
                max_text_bytes,
            },
            writer,
        )
    }

    /// Enqueues an entry, its text bounded; when the queue is full it is dropped and counted.
    pub fn record(&self, mut entry: NewActivity) {
        if let Some(id) = &mut entry.entity_id
            && let Cow::Owned(short) = truncate(id, self.max_text_bytes)
        {
            *id = short;
        }
        let _ = truncate_json(&mut entry.metadata, self.max_text_bytes, &[]);
        match self.sender.try_send(entry) {
            Ok(()) => {
                self.counters.enqueued.fetch_add(1, Ordering::Relaxed);
                metrics::gauge!("activity_queue_depth").set(self.depth() as f64);
            }
            Err(_) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("activity_entries_dropped_total").increment(1);
            }
        }
    }

    /// Records what `caller` did: `action` (e.g. `quote.create`) on an entity.
    pub fn caller_did(
        &self,
        caller: &Caller,
        action: &str,
        entity_type: &str,
        entity_id: Option<String>,
        metadata: serde_json::Value,
    ) {
        self.record(NewActivity {
            organization_id: Some(caller.organization.id),
            api_key_id: Some(caller.key.id),
            action: action.to_string(),
            entity_type: entity_type.to_string(),
            entity_id,
            metadata,
            created_at: crate::store::now(),
        });
    }

    /// Entries waiting to be written.
    pub fn depth(&self) -> usize {
        self.capacity - self.sender.capacity()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn counters(&self) -> &ActivityCounters {
        &self.counters
    }

    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }
}
