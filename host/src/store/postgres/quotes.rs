//! PostgreSQL: quotes, revisions, export and dashboard figures (tenant transactions).

use chrono::Datelike;
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::super::cursor::{Page, PageCursor, clamp_limit, make_page};
use super::super::error::{Result, StoreError};
use super::super::quote::{
    NewQuote, Pricing, Quote, QuoteFilter, QuoteRevision, QuoteStatus, QuoteUpdate,
};
use super::super::{now, quote_number};
use super::PostgresStore;
use super::rows;

impl PostgresStore {
    pub(super) async fn create_quote_impl(&self, new: NewQuote) -> Result<Quote> {
        let at = now();
        let mut tx = self.tenant_tx(new.organization_id).await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO quote_counters (organization_id, year, last) VALUES ($1, $2, 1)
             ON CONFLICT (organization_id, year) DO UPDATE SET last = quote_counters.last + 1
             RETURNING last",
        )
        .bind(new.organization_id)
        .bind(at.year())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if StoreError::is_foreign_key_violation(&e) {
                StoreError::NotFound
            } else {
                e.into()
            }
        })?;
        let p = new.pricing;
        let quote = Quote {
            id: Uuid::now_v7(),
            organization_id: new.organization_id,
            number: quote_number(at.year(), seq),
            title: new.title,
            status: QuoteStatus::Draft,
            currency: p.currency,
            subtotal: p.subtotal,
            tax: p.tax,
            total: p.total,
            request: p.request,
            result: p.result,
            plugin_name: p.plugin_name,
            plugin_version: p.plugin_version,
            plugin_sha256: p.plugin_sha256,
            rates: p.rates,
            fuel_used: p.fuel_used,
            revision: 1,
            priced_at: at,
            created_at: at,
            updated_at: at,
        };
        sqlx::query(concat!(
            "INSERT INTO quotes (",
            quote_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::json, $11::json, $12, $13, $14, $15::json, $16, $17,
                       $18, $18, $18)"
        ))
        .bind(quote.id)
        .bind(quote.organization_id)
        .bind(&quote.number)
        .bind(&quote.title)
        .bind(quote.status.as_str())
        .bind(&quote.currency)
        .bind(quote.subtotal)
        .bind(quote.tax)
        .bind(quote.total)
        .bind(rows::json_text(&quote.request))
        .bind(rows::json_text(&quote.result))
        .bind(&quote.plugin_name)
        .bind(quote.plugin_version)
        .bind(&quote.plugin_sha256)
        .bind(rows::json_text(&quote.rates))
        .bind(quote.fuel_used)
        .bind(quote.revision)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(quote)
    }

    pub(super) async fn quote_impl(&self, org: Uuid, id: Uuid) -> Result<Option<Quote>> {
        let mut tx = self.tenant_tx(org).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            quote_cols!(),
            " FROM quotes WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(rows::quote).transpose()
    }

    pub(super) async fn list_quotes_impl(
        &self,
        org: Uuid,
        filter: QuoteFilter,
        limit: u32,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Quote>> {
        let limit = clamp_limit(limit);
        let mut qb = select_quote_summaries(org, filter);
        if let Some(c) = cursor {
            qb.push(" AND (created_at, id) < (")
                .push_bind(c.created_at)
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let mut tx = self.tenant_tx(org).await?;
        let found = qb.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let quotes = found.iter().map(rows::quote).collect::<Result<Vec<_>>>()?;
        Ok(make_page(quotes, limit, |q| {
            PageCursor::new(q.created_at, q.id)
        }))
    }

    pub(super) async fn update_quote_impl(
        &self,
        org: Uuid,
        id: Uuid,
        update: QuoteUpdate,
    ) -> Result<Quote> {
        let mut tx = self.tenant_tx(org).await?;
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("UPDATE quotes SET updated_at = ");
        qb.push_bind(now());
        if let Some(title) = &update.title {
            qb.push(", title = ").push_bind(title.clone());
        }
        if let Some(change) = update.status {
            qb.push(", status = ").push_bind(change.to.as_str());
        }
        qb.push(" WHERE organization_id = ")
            .push_bind(org)
            .push(" AND id = ")
            .push_bind(id);
        if let Some(change) = update.status {
            qb.push(" AND status = ").push_bind(change.from.as_str());
        }
        qb.push(concat!(" RETURNING ", quote_cols!()));
        let row = qb.build().fetch_optional(&mut *tx).await?;
        let Some(row) = row else {
            let current = current_status(&mut tx, org, id).await?;
            return Err(match (current, update.status) {
                (Some(cur), Some(change)) => StoreError::Conflict(format!(
                    "quote status is {cur}, not {} any more",
                    change.from
                )),
                _ => StoreError::NotFound,
            });
        };
        let quote = rows::quote(&row)?;
        tx.commit().await?;
        Ok(quote)
    }

    pub(super) async fn delete_quote_impl(&self, org: Uuid, id: Uuid) -> Result<()> {
        let mut tx = self.tenant_tx(org).await?;
        let done = sqlx::query("DELETE FROM quotes WHERE organization_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn save_quote_revision_impl(
        &self,
        org: Uuid,
        id: Uuid,
        expected_revision: i32,
        p: Pricing,
    ) -> Result<Quote> {
        let at = now();
        let mut tx = self.tenant_tx(org).await?;
        // Lock the quote first: a concurrent recalculation waits here and then
        // sees the new revision (instead of colliding on the archive's key).
        let current: Option<i32> = sqlx::query_scalar(
            "SELECT revision FROM quotes WHERE organization_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(org)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        match current {
            None => return Err(StoreError::NotFound),
            Some(r) if r != expected_revision => {
                return Err(StoreError::Conflict(format!(
                    "quote is at revision {r}, not {expected_revision}"
                )));
            }
            Some(_) => {}
        }
        let archived = sqlx::query(
            "INSERT INTO quote_revisions (quote_id, organization_id, revision, currency, subtotal, tax,
                 total, request, result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used,
                 created_at, archived_at)
             SELECT id, organization_id, revision, currency, subtotal, tax, total, request, result,
                 plugin_name, plugin_version, plugin_sha256, rates, fuel_used, priced_at, $4
             FROM quotes WHERE organization_id = $1 AND id = $2 AND revision = $3",
        )
        .bind(org)
        .bind(id)
        .bind(expected_revision)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if archived.rows_affected() == 0 {
            let exists = current_status(&mut tx, org, id).await?.is_some();
            return Err(if exists {
                StoreError::Conflict(format!(
                    "quote is no longer at revision {expected_revision}"
                ))
            } else {
                StoreError::NotFound
            });
        }
        let row = sqlx::query(concat!(
            "UPDATE quotes SET currency = $4, subtotal = $5, tax = $6, total = $7, request = $8::json,
                 result = $9::json, plugin_name = $10, plugin_version = $11, plugin_sha256 = $12,
                 rates = $13::json, fuel_used = $14, revision = revision + 1, priced_at = $15,
                 updated_at = $15
             WHERE organization_id = $1 AND id = $2 AND revision = $3 RETURNING ",
            quote_cols!()
        ))
        .bind(org)
        .bind(id)
        .bind(expected_revision)
        .bind(&p.currency)
        .bind(p.subtotal)
        .bind(p.tax)
        .bind(p.total)
        .bind(rows::json_text(&p.request))
        .bind(rows::json_text(&p.result))
        .bind(&p.plugin_name)
        .bind(p.plugin_version)
        .bind(&p.plugin_sha256)
        .bind(rows::json_text(&p.rates))
        .bind(p.fuel_used)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let quote = rows::quote(&row)?;
        tx.commit().await?;
        Ok(quote)
    }

    pub(super) async fn quote_revisions_impl(
        &self,
        org: Uuid,
        id: Uuid,
    ) -> Result<Vec<QuoteRevision>> {
        let mut tx = self.tenant_tx(org).await?;
        if current_status(&mut tx, org, id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let revisions = sqlx::query(
            "SELECT quote_id, organization_id, revision, currency, subtotal, tax, total, request,
                 result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, created_at,
                 archived_at
             FROM quote_revisions WHERE organization_id = $1 AND quote_id = $2 ORDER BY revision",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(rows::quote_revision)
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(revisions)
    }
}

/// `SELECT <cols> FROM quotes WHERE organization_id = ? [AND status = ?]`.
pub(super) fn select_quotes(org: Uuid, filter: QuoteFilter) -> QueryBuilder<Postgres> {
    filtered(
        QueryBuilder::new(concat!(
            "SELECT ",
            quote_cols!(),
            " FROM quotes WHERE organization_id = "
        )),
        org,
        filter,
    )
}

/// The same without the documents (see [`quote_summary_cols`]).
fn select_quote_summaries(org: Uuid, filter: QuoteFilter) -> QueryBuilder<Postgres> {
    let columns = concat!(
        "SELECT ",
        quote_summary_cols!(),
        " FROM quotes WHERE organization_id = "
    );
    filtered(QueryBuilder::new(columns), org, filter)
}

fn filtered(
    mut qb: QueryBuilder<Postgres>,
    org: Uuid,
    filter: QuoteFilter,
) -> QueryBuilder<Postgres> {
    qb.push_bind(org);
    if let Some(status) = filter.status {
        qb.push(" AND status = ").push_bind(status.as_str());
    }
    qb
}

/// Current status of a quote, `None` if it does not exist in `org`.
async fn current_status(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
) -> Result<Option<QuoteStatus>> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM quotes WHERE organization_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    status.map(|s| s.parse()).transpose()
}
