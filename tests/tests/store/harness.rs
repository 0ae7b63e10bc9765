//! Test harness: runs one scenario on a fresh SQLite file and on a fresh
//! PostgreSQL database (when `QUOTE_TEST_POSTGRES_URL` is set).

use std::sync::Arc;

use crate::store::{Backend, NewQuote, Pricing, Quote, Store};
use quote_tests::db::{Backend as TestBackend, migrated_store};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

/// What a scenario gets.
pub struct Ctx {
    /// The store under test (already migrated).
    pub store: Arc<dyn Store>,
    /// Its URL, to open a second store on the same database.
    pub url: String,
    /// Which backend.
    pub backend: Backend,
}

pub use quote_tests::db::pool_options as options;

/// Keeps the database alive for the test and removes it afterwards.
pub type Cleanup = quote_tests::TestDatabase;

pub async fn sqlite() -> (Ctx, Cleanup) {
    let (store, database) = migrated_store(TestBackend::Sqlite)
        .await
        .expect("SQLite needs no setup");
    let url = database.url.clone();
    (
        Ctx {
            store,
            url,
            backend: Backend::Sqlite,
        },
        database,
    )
}

pub async fn postgres() -> Option<(Ctx, Cleanup)> {
    let (store, database) = migrated_store(TestBackend::Postgres).await?;
    let url = database.url.clone();
    Some((
        Ctx {
            store,
            url,
            backend: Backend::Postgres,
        },
        database,
    ))
}

/// Runs `$scenario(&Ctx)` as two tests, `sqlite` and `postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $scenario:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let (ctx, _cleanup) = $crate::harness::sqlite().await;
                super::$scenario(&ctx).await;
                ctx.store.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some((ctx, _cleanup)) = $crate::harness::postgres().await else {
                    return;
                };
                super::$scenario(&ctx).await;
                ctx.store.close().await;
            }
        }
    };
}

/// A pricing output with the given total (subtotal = total, tax 0).
pub fn pricing(currency: &str, total: &str) -> Pricing {
    let total: Decimal = total.parse().unwrap();
    Pricing {
        currency: currency.into(),
        subtotal: total,
        tax: Decimal::ZERO,
        total,
        request: json!({"items": [{"sku": "A-1", "qty": 2}], "currency": currency}),
        result: json!({"lines": [{"sku": "A-1", "amount": total.to_string()}]}),
        plugin_name: "pricing".into(),
        plugin_version: 1,
        plugin_sha256: "ab".repeat(32),
        rates: json!({"USD/RUB": "81.2345"}),
        fuel_used: 12_345,
    }
}

/// Creates a quote of `org` with `total` in RUB.
pub async fn new_quote(store: &dyn Store, org: Uuid, total: &str) -> Quote {
    store
        .create_quote(NewQuote {
            organization_id: org,
            title: Some("t".into()),
            pricing: pricing("RUB", total),
        })
        .await
        .expect("create quote")
}

/// A fresh organization with a random name.
pub async fn new_org(store: &dyn Store) -> Uuid {
    store
        .create_organization(&format!("org-{}", Uuid::new_v4()))
        .await
        .expect("create org")
        .id
}
