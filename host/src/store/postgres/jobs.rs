//! PostgreSQL: job runs (global, as the login role), and job locks: a session-level
//! advisory lock on a dedicated connection (see [`JobLockGuard`]).

use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::super::clock::now;
use super::super::error::{Result, StoreError};
use super::super::lock::JobLockGuard;
use super::super::traits::JobStore;
use super::super::types::{JobOutcome, JobRun};
use super::super::values::{SqlText, values};
use super::super::{rows, sql};
use super::PostgresStore;
use super::query;

#[async_trait]
impl JobStore for PostgresStore {
    async fn start_job_run(&self, job: &str) -> Result<Uuid> {
        self.insert_job_run(job, JobOutcome::Running, "").await
    }

    async fn finish_job_run(
        &self,
        id: Uuid,
        outcome: JobOutcome,
        detail: &str,
        items: i64,
    ) -> Result<()> {
        let finished = values![id, now(), outcome.as_str(), detail, items];
        let done = query(sql::FINISH_JOB_RUN, &finished)
            .execute(&self.pool)
            .await?;
        match done.rows_affected() {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn record_skipped(&self, job: &str, detail: &str) -> Result<Uuid> {
        self.insert_job_run(job, JobOutcome::Skipped, detail).await
    }

    async fn list_job_runs(&self, job: Option<&str>, limit: u32) -> Result<Vec<JobRun>> {
        let mut runs = QueryBuilder::<Postgres>::start();
        sql::job_runs(&mut runs, job, limit);
        let found = runs.build().fetch_all(&self.pool).await?;
        rows::all(&found, rows::job_run)
    }

    /// Opens a dedicated connection (not from the pool) and tries
    /// `pg_try_advisory_lock(key)` on it; the guard owns the connection.
    async fn try_job_lock(&self, key: i64) -> Result<Option<JobLockGuard>> {
        let options = self.pool.connect_options();
        let mut conn = PgConnection::connect_with(&options).await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await?;
        if locked {
            Ok(Some(JobLockGuard::postgres(key, conn)))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }
}

impl PostgresStore {
    async fn insert_job_run(&self, job: &str, outcome: JobOutcome, detail: &str) -> Result<Uuid> {
        let (id, run) = sql::job_run_values(job, outcome, detail);
        query(sql::INSERT_JOB_RUN, &run).execute(&self.pool).await?;
        Ok(id)
    }
}
