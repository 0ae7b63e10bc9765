//! Test support: fresh databases (a SQLite file, or a PostgreSQL database per test),
//! the real server started in-process on `127.0.0.1:0`, and an HTTP client.

pub mod bulk;
pub mod db;
pub mod fake_cbr;
pub mod server;

pub use db::{Backend, TestDatabase};
pub use server::{Client, TestServer};

/// Runs an async scenario `fn(Backend)` as two tests, `sqlite` and `postgres`.
/// The PostgreSQL one needs `QUOTE_TEST_POSTGRES_URL` and says loudly when it is unset.
#[macro_export]
macro_rules! on_both_databases {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$scenario($crate::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::db::postgres_url().is_none() {
                        return;
                    }
                    super::$scenario($crate::Backend::Postgres).await;
                }
            }
        )+
    };
}
