//! The embedded migrations of both backends (the only `sqlx::migrate!` calls).
//!
//! The paths are relative to the crate's `CARGO_MANIFEST_DIR` (`host/`).
//! Cargo does not notice new migration files on its own: the host's build
//! script should print `cargo:rerun-if-changed=../migrations`.

use sqlx::migrate::Migrator;

/// Migrations in `migrations/sqlite`.
pub(crate) fn sqlite() -> Migrator {
    sqlx::migrate!("../migrations/sqlite")
}

/// Migrations in `migrations/postgres` (same versions and names as SQLite's).
pub(crate) fn postgres() -> Migrator {
    sqlx::migrate!("../migrations/postgres")
}
