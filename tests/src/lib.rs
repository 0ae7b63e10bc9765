//! Test support: fresh databases (a SQLite file, or a PostgreSQL database per test),
//! the real server started in-process on `127.0.0.1:0` (or as a child process), an HTTP
//! client, and the checks that make a skipped service visible.

pub mod bulk;
pub mod db;
pub mod environment;
pub mod fake_cbr;
pub mod process;
pub mod prometheus;
pub mod redis;
pub mod server;
pub mod stores;
pub mod wait;

pub use db::{Backend, TestDatabase};
pub use server::{Client, TestServer};

/// Runs each async scenario `fn(Backend)` as two tests, `$scenario::sqlite` and
/// `$scenario::postgres`. The PostgreSQL one is `ignored` (and says why) when
/// `QUOTE_TEST_POSTGRES_URL` was unset at build time, and fails if the server is unreachable.
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
                #[cfg_attr(
                    quote_tests_without_postgres,
                    ignore = "QUOTE_TEST_POSTGRES_URL is unset: the PostgreSQL variant did not run"
                )]
                async fn postgres() {
                    super::$scenario($crate::Backend::Postgres).await;
                }
            }
        )+
    };
}
