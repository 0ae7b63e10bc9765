//! What a storage or job scenario gets: a migrated store on a fresh database, and
//! [`on_both_stores!`](crate::on_both_stores) to run one scenario on SQLite and PostgreSQL.

use crate::db::{Backend as TestBackend, TestDatabase, migrated_store};
use quote_host::store::{Backend, Store};
use std::sync::Arc;

pub use crate::db::pool_options as options;

/// What a scenario gets.
pub struct Ctx {
    /// The store under test (already migrated).
    pub store: Arc<dyn Store>,
    /// Its URL, to open a second store on the same database.
    pub url: String,
    /// Which backend.
    pub backend: Backend,
}

/// A migrated store on a fresh SQLite file; the database lives as long as the second value.
pub async fn sqlite() -> (Ctx, TestDatabase) {
    open(TestBackend::Sqlite, Backend::Sqlite).await
}

/// A migrated store on a fresh PostgreSQL database. Panics when `QUOTE_TEST_POSTGRES_URL`
/// is unset or the server is unreachable: callers are PostgreSQL tests, built
/// `#[ignore]`d when the variable is unset.
pub async fn postgres() -> (Ctx, TestDatabase) {
    open(TestBackend::Postgres, Backend::Postgres).await
}

async fn open(test_backend: TestBackend, backend: Backend) -> (Ctx, TestDatabase) {
    let (store, database) = migrated_store(test_backend).await;
    let url = database.url.clone();
    let ctx = Ctx {
        store,
        url,
        backend,
    };
    (ctx, database)
}

/// Runs an async scenario `fn(&Ctx)` as two tests, `$name::sqlite` and `$name::postgres`.
/// The PostgreSQL one is `ignored` (and says why) when `QUOTE_TEST_POSTGRES_URL` was
/// unset at build time.
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident, $scenario:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let (ctx, _database) = $crate::stores::sqlite().await;
                super::$scenario(&ctx).await;
                ctx.store.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            #[cfg_attr(
                quote_tests_without_postgres,
                ignore = "QUOTE_TEST_POSTGRES_URL is unset: the PostgreSQL variant did not run"
            )]
            async fn postgres() {
                let (ctx, _database) = $crate::stores::postgres().await;
                super::$scenario(&ctx).await;
                ctx.store.close().await;
            }
        }
    };
}
