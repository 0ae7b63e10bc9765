//! Job locks: at most one host runs a given scheduled job at a time.
//!
//! PostgreSQL: a session-level `pg_try_advisory_lock(key)` taken on a
//! dedicated connection opened outside the pool. The lock lives exactly as
//! long as that connection: [`JobLockGuard::release`] unlocks and closes it;
//! dropping the guard without `release` (panic, cancelled task) drops the
//! socket, and the server releases the lock when the backend notices (at once
//! for a clean close, after TCP keepalive for a vanished host).
//!
//! SQLite: one host owns the file, so the lock is an in-process
//! `tokio::sync::Mutex` per key, taken with `try_lock`; dropping the guard
//! releases it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::sync::OwnedMutexGuard;

use super::error::Result;

/// Stable lock key for a job name (64-bit FNV-1a of its UTF-8 bytes): every
/// host and every build derives the same key, e.g.
/// `store.try_job_lock(job_lock_key("cbr_rates"))`.
pub fn job_lock_key(job: &str) -> i64 {
    let hash = job.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash as i64
}

/// Proof that this process holds the job lock `key`. Call
/// [`release`](Self::release) when the job is done.
#[derive(Debug)]
pub struct JobLockGuard {
    key: i64,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Postgres(Option<PgConnection>),
    Local(#[allow(dead_code)] OwnedMutexGuard<()>),
}

impl JobLockGuard {
    pub(crate) fn postgres(key: i64, conn: PgConnection) -> Self {
        Self {
            key,
            inner: Inner::Postgres(Some(conn)),
        }
    }

    /// The lock key.
    pub fn key(&self) -> i64 {
        self.key
    }

    /// Releases the lock now (PostgreSQL: `pg_advisory_unlock`, then closes the
    /// dedicated connection). An error still leaves the lock released, since
    /// the connection is gone either way.
    pub async fn release(mut self) -> Result<()> {
        if let Inner::Postgres(conn) = &mut self.inner
            && let Some(mut conn) = conn.take()
        {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut conn)
                .await;
            let closed = conn.close().await;
            unlocked?;
            closed?;
        }
        Ok(())
    }
}

/// In-process lock table of the SQLite backend.
#[derive(Debug, Default)]
pub(crate) struct LocalLocks {
    locks: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

impl LocalLocks {
    /// `try_lock` on the mutex of `key`; `None` if it is held.
    pub(crate) fn try_lock(&self, key: i64) -> Option<JobLockGuard> {
        let mutex = {
            let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key).or_default().clone()
        };
        let guard = mutex.try_lock_owned().ok()?;
        Some(JobLockGuard {
            key,
            inner: Inner::Local(guard),
        })
    }
}
