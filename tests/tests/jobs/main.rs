//! The exchange-rate job and its scheduler, against a local fake of the CBR service,
//! on SQLite and on PostgreSQL.
//!
//! PostgreSQL: set `QUOTE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres`;
//! each test then creates (and drops) its own database.

/// The crate under test: the only line to change when moving these tests into the
/// host's test crate (`pub use quote_host::{fx, jobs, store};`).
pub use quote_host::{fx, jobs, store};

mod locking;
mod run;
mod schedule;
mod server;
mod stale;

quote_tests::environment_tests!();
