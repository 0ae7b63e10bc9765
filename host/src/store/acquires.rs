//! Counts every connection a pool hands out, so a test (and an operator, through
//! detailed health) can see which requests reach the database at all.

use futures::future::BoxFuture;
use sqlx::pool::{PoolConnectionMetadata, PoolOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Connections handed out by one pool since it opened: reused idle ones and new ones.
#[derive(Debug, Default)]
pub struct Acquires(AtomicU64);

impl Acquires {
    /// The count so far.
    pub fn total(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// `options` with hooks that count into `acquires`. sqlx calls `before_acquire` for an
/// idle connection being handed out and `after_connect` for a new one: together, every
/// acquire. (The pool's own upkeep connections for `min_connections` count too.)
pub(crate) fn counted<DB: sqlx::Database>(
    options: PoolOptions<DB>,
    acquires: &Arc<Acquires>,
) -> PoolOptions<DB> {
    let (reused, opened) = (acquires.clone(), acquires.clone());
    options
        .before_acquire(move |_, _: PoolConnectionMetadata| -> BoxFuture<'_, _> {
            reused.count();
            Box::pin(std::future::ready(Ok(true)))
        })
        .after_connect(move |_, _: PoolConnectionMetadata| -> BoxFuture<'_, _> {
            opened.count();
            Box::pin(std::future::ready(Ok(())))
        })
}
