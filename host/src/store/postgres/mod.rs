//! PostgreSQL implementation of [`Store`], for N hosts sharing one database: one file
//! per concern trait, and `values.rs` for how PostgreSQL stores our values.
//!
//! Tenant-scoped methods run in a *tenant transaction* ([`PostgresStore::tenant_tx`]):
//! its first statement switches to the `quote_tenant` role and sets
//! `app.organization_id`, both transaction-local, so the row-level security
//! policies of the tenant tables admit only that organization's rows, whatever
//! the SQL says. Methods that are not tenant-scoped (API-key lookup by hash,
//! organizations, exchange rates, job runs, the activity batch writer,
//! migrations) run as the login role, which bypasses RLS as table owner.

mod activity;
mod branding;
mod exchange_rates;
mod jobs;
pub mod notify;
mod plugins;
mod quotes;
mod sessions;
mod tenants;
mod values;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::query::Query;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::acquires::{Acquires, counted};
use super::clock::ping_within;
use super::config::PoolOptionsConfig;
use super::error::Result;
use super::traits::Store;
use super::types::{Backend, PoolState};
use super::values::Value;

/// Migrations in `migrations/postgres` (same versions and names as SQLite's; the path
/// is relative to `host/`).
static MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

/// `sql` with `values` bound, on PostgreSQL.
fn query(sql: &'static str, values: &[Value<'_>]) -> Query<'static, Postgres, PgArguments> {
    super::values::query(sql, values)
}

/// The NOLOGIN role tenant transactions switch to (created by the migration).
pub const TENANT_ROLE: &str = "quote_tenant";

/// [`Store`] on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    acquires: Arc<Acquires>,
}

impl PostgresStore {
    /// Opens a pool to a `postgres://` / `postgresql://` URL. Session settings
    /// from `options` (statement and idle-in-transaction timeouts) are sent as
    /// connection startup options.
    pub async fn connect(url: &str, options: &PoolOptionsConfig) -> Result<Self> {
        let mut settings: Vec<(&str, String)> = Vec::new();
        if let Some(t) = options.statement_timeout {
            settings.push(("statement_timeout", t.as_millis().to_string()));
        }
        if let Some(t) = options.idle_in_transaction_timeout {
            settings.push((
                "idle_in_transaction_session_timeout",
                t.as_millis().to_string(),
            ));
        }
        let connect = PgConnectOptions::from_str(url)?
            .application_name("quote-host")
            .options(settings);
        let acquires = Arc::new(Acquires::default());
        let pool = counted(PgPoolOptions::new(), &acquires)
            .max_connections(options.max_connections.max(1))
            .min_connections(options.min_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .connect_with(connect)
            .await?;
        Ok(Self { pool, acquires })
    }

    /// The underlying pool (tests, maintenance).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a tenant transaction for `org`: `SET LOCAL ROLE quote_tenant`
    /// and `app.organization_id = org`, both transaction-local (they end with
    /// commit or rollback, so pooled connections come back clean). Every
    /// statement in it is confined to `org`'s rows by RLS.
    ///
    /// One round trip: the settings ride along with `BEGIN` in a single
    /// simple-protocol query. Inlining is safe: a `Uuid` displays as hex
    /// digits and hyphens only, and the role name is a constant.
    pub async fn tenant_tx(&self, org: Uuid) -> Result<Transaction<'static, Postgres>> {
        let begin = format!(
            "BEGIN; SELECT set_config('role', '{TENANT_ROLE}', true), \
             set_config('app.organization_id', '{}', true)",
            org.hyphenated()
        );
        Ok(self.pool.begin_with(sqlx::AssertSqlSafe(begin)).await?)
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self, timeout: Duration) -> Result<()> {
        ping_within(timeout, sqlx::query("SELECT 1").execute(&self.pool)).await
    }

    fn pool_state(&self) -> PoolState {
        let options = self.pool.options();
        PoolState::new(
            self.pool.size(),
            self.pool.num_idle(),
            options.get_max_connections(),
            self.acquires.total(),
        )
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
