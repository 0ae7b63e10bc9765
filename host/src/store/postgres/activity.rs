//! PostgreSQL: the activity log. The batch writer is not tenant-scoped (entries of many
//! organizations, as the login role); reading an organization's entries uses its
//! tenant transaction.

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::super::cursor::{Page, PageCursor, clamp_limit, make_page};
use super::super::error::Result;
use super::super::traits::ActivityStore;
use super::super::types::{ActivityEntry, ActivityFilter, NewActivity};
use super::super::values::{Columns, SqlText, values};
use super::super::{rows, sql};
use super::PostgresStore;
use super::query;

/// Rows per multi-row insert: 8 values each, under PostgreSQL's limit of 65535 bound
/// parameters.
const ROWS_PER_INSERT: usize = 8000;

#[async_trait]
impl ActivityStore for PostgresStore {
    async fn insert_activity_batch(&self, entries: &[NewActivity]) -> Result<u64> {
        if entries.is_empty() {
            return Ok(0);
        }
        let inserts: Vec<QueryBuilder<Postgres>> = sql::activity_inserts(entries, ROWS_PER_INSERT);
        let mut tx = self.pool.begin().await?;
        let mut inserted = 0;
        for mut insert in inserts {
            inserted += insert.build().execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn list_activity(
        &self,
        org: Uuid,
        filter: ActivityFilter,
        limit: u32,
        cursor: Option<PageCursor>,
    ) -> Result<Page<ActivityEntry>> {
        let limit = clamp_limit(limit);
        let mut page = QueryBuilder::<Postgres>::start();
        sql::activity_page(&mut page, org, &filter, limit, cursor);
        let mut tx = self.tenant_tx(org).await?;
        let found = page.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let entries = rows::all(&found, rows::activity)?;
        Ok(make_page(entries, limit, |e| {
            PageCursor::new(e.created_at, e.id)
        }))
    }

    async fn count_activity(&self, org: Uuid) -> Result<i64> {
        let mut tx = self.tenant_tx(org).await?;
        let row = query(sql::COUNT_ACTIVITY, &values![org])
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        row.big("n")
    }
}
