//! SQLite: exchange rates, activity log and job runs (the operational tables).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use super::super::cursor::{Page, PageCursor, clamp_limit, make_page};
use super::super::error::{Result, StoreError};
use super::super::now;
use super::super::types::{
    ActivityEntry, ActivityFilter, JobOutcome, JobRun, NewActivity, NewRate, StoredRate,
};
use super::SqliteStore;
use super::codec::{self, dec, ts};

/// Rows per multi-row insert: 8 columns each, under SQLite's default limit of
/// 32766 bound variables.
const ROWS_PER_INSERT: usize = 4000;

const RATE_COLS: &str =
    "id, from_currency, to_currency, rate, nominal, rate_date, source, fetched_at";
const ACTIVITY_COLS: &str =
    "id, organization_id, api_key_id, action, entity_type, entity_id, metadata, created_at";
const JOB_COLS: &str = "id, job, started_at, finished_at, outcome, detail, items";

impl SqliteStore {
    pub(super) async fn store_rates_impl(
        &self,
        source: &str,
        rate_date: NaiveDate,
        rows: &[NewRate],
        fetched_at: DateTime<Utc>,
    ) -> Result<u64> {
        let fetched_at = ts(super::super::truncate_micros(fetched_at));
        let mut tx = self.write_tx().await?;
        let mut inserted = 0;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut qb: QueryBuilder<Sqlite> =
                QueryBuilder::new(format!("INSERT INTO exchange_rates ({RATE_COLS}) "));
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(Uuid::now_v7())
                    .push_bind(r.from_currency.clone())
                    .push_bind(r.to_currency.clone())
                    .push_bind(dec(r.rate))
                    .push_bind(r.nominal)
                    .push_bind(rate_date)
                    .push_bind(source.to_owned())
                    .push_bind(fetched_at.clone());
            });
            qb.push(" ON CONFLICT (source, from_currency, to_currency, rate_date) DO NOTHING");
            inserted += qb.build().execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    }

    pub(super) async fn latest_rates_impl(
        &self,
        on_or_before: Option<NaiveDate>,
    ) -> Result<Vec<StoredRate>> {
        sqlx::query(
            "SELECT id, from_currency, to_currency, rate, nominal, rate_date, source, fetched_at
             FROM (SELECT *, row_number() OVER (
                       PARTITION BY from_currency, to_currency
                       ORDER BY rate_date DESC, fetched_at DESC) AS rn
                   FROM exchange_rates WHERE ?1 IS NULL OR rate_date <= ?1)
             WHERE rn = 1 ORDER BY from_currency, to_currency",
        )
        .bind(on_or_before)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(codec::stored_rate)
        .collect()
    }

    pub(super) async fn rate_impl(
        &self,
        from: &str,
        to: &str,
        on_or_before: Option<NaiveDate>,
    ) -> Result<Option<StoredRate>> {
        sqlx::query(
            "SELECT id, from_currency, to_currency, rate, nominal, rate_date, source, fetched_at
             FROM exchange_rates
             WHERE from_currency = ?1 AND to_currency = ?2 AND (?3 IS NULL OR rate_date <= ?3)
             ORDER BY rate_date DESC, fetched_at DESC LIMIT 1",
        )
        .bind(from)
        .bind(to)
        .bind(on_or_before)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(codec::stored_rate)
        .transpose()
    }

    pub(super) async fn newest_rate_fetch_impl(&self) -> Result<Option<DateTime<Utc>>> {
        let newest: Option<String> =
            sqlx::query_scalar("SELECT max(fetched_at) FROM exchange_rates")
                .fetch_one(&self.pool)
                .await?;
        newest.as_deref().map(codec::parse_ts).transpose()
    }

    pub(super) async fn insert_activity_batch_impl(&self, entries: &[NewActivity]) -> Result<u64> {
        if entries.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write_tx().await?;
        let mut inserted = 0;
        for chunk in entries.chunks(ROWS_PER_INSERT) {
            let mut qb: QueryBuilder<Sqlite> =
                QueryBuilder::new(format!("INSERT INTO activity_logs ({ACTIVITY_COLS}) "));
            qb.push_values(chunk, |mut b, e| {
                b.push_bind(Uuid::now_v7())
                    .push_bind(e.organization_id)
                    .push_bind(e.api_key_id)
                    .push_bind(e.action.clone())
                    .push_bind(e.entity_type.clone())
                    .push_bind(e.entity_id.clone())
                    .push_bind(Json(e.metadata.clone()))
                    .push_bind(ts(super::super::truncate_micros(e.created_at)));
            });
            inserted += qb.build().execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    }

    pub(super) async fn list_activity_impl(
        &self,
        org: Uuid,
        filter: ActivityFilter,
        limit: u32,
        cursor: Option<PageCursor>,
    ) -> Result<Page<ActivityEntry>> {
        let limit = clamp_limit(limit);
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {ACTIVITY_COLS} FROM activity_logs WHERE organization_id = "
        ));
        qb.push_bind(org);
        if let Some(action) = filter.action {
            qb.push(" AND action = ").push_bind(action);
        }
        if let Some(entity_type) = filter.entity_type {
            qb.push(" AND entity_type = ").push_bind(entity_type);
        }
        if let Some(c) = cursor {
            qb.push(" AND (created_at, id) < (")
                .push_bind(ts(c.created_at))
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let rows = qb.build().fetch_all(&self.pool).await?;
        let entries = rows
            .iter()
            .map(codec::activity)
            .collect::<Result<Vec<_>>>()?;
        Ok(make_page(entries, limit, |e| {
            PageCursor::new(e.created_at, e.id)
        }))
    }

    pub(super) async fn count_activity_impl(&self, org: Uuid) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM activity_logs WHERE organization_id = ?1")
                .bind(org)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub(super) async fn start_job_run_impl(&self, job: &str) -> Result<Uuid> {
        self.insert_job_run(job, JobOutcome::Running, "").await
    }

    pub(super) async fn record_skipped_impl(&self, job: &str, detail: &str) -> Result<Uuid> {
        self.insert_job_run(job, JobOutcome::Skipped, detail).await
    }

    async fn insert_job_run(&self, job: &str, outcome: JobOutcome, detail: &str) -> Result<Uuid> {
        let id = Uuid::now_v7();
        let at = ts(now());
        let finished = (outcome != JobOutcome::Running).then(|| at.clone());
        sqlx::query(
            "INSERT INTO job_runs (id, job, started_at, finished_at, outcome, detail, items)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
        )
        .bind(id)
        .bind(job)
        .bind(&at)
        .bind(finished)
        .bind(outcome.as_str())
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    pub(super) async fn finish_job_run_impl(
        &self,
        id: Uuid,
        outcome: JobOutcome,
        detail: &str,
        items: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE job_runs SET finished_at = ?2, outcome = ?3, detail = ?4, items = ?5 WHERE id = ?1",
        )
        .bind(id)
        .bind(ts(now()))
        .bind(outcome.as_str())
        .bind(detail)
        .bind(items)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub(super) async fn last_job_run_impl(&self, job: &str) -> Result<Option<JobRun>> {
        Ok(self.list_job_runs_impl(Some(job), 1).await?.pop())
    }

    pub(super) async fn list_job_runs_impl(
        &self,
        job: Option<&str>,
        limit: u32,
    ) -> Result<Vec<JobRun>> {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("SELECT {JOB_COLS} FROM job_runs"));
        if let Some(job) = job {
            qb.push(" WHERE job = ").push_bind(job.to_owned());
        }
        qb.push(" ORDER BY started_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(clamp_limit(limit)));
        qb.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(codec::job_run)
            .collect()
    }
}
