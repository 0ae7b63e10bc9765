//! Test harness: runs one scenario on a fresh SQLite file and on a fresh
//! PostgreSQL database (when `QUOTE_TEST_POSTGRES_URL` is set).

use std::sync::Arc;

use crate::store::Store;
use quote_tests::db::{Backend as TestBackend, migrated_store};

/// What a scenario gets.
pub struct Ctx {
    /// The store under test (already migrated).
    pub store: Arc<dyn Store>,
    /// Its URL, to open a second store on the same database.
    pub url: String,
}

pub use quote_tests::db::pool_options as options;

/// Keeps the database alive for the test and removes it afterwards.
pub type Cleanup = quote_tests::TestDatabase;

pub async fn sqlite() -> (Ctx, Cleanup) {
    let (store, database) = migrated_store(TestBackend::Sqlite)
        .await
        .expect("SQLite needs no setup");
    let url = database.url.clone();
    (Ctx { store, url }, database)
}

pub async fn postgres() -> Option<(Ctx, Cleanup)> {
    let (store, database) = migrated_store(TestBackend::Postgres).await?;
    let url = database.url.clone();
    Some((Ctx { store, url }, database))
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
