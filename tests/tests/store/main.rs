//! One test story, every scenario run on SQLite and on PostgreSQL.
//!
//! PostgreSQL: set `QUOTE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres`;
//! each test then creates (and drops) its own database.

/// The crate under test: the only line to change when moving these tests
/// into the host crate (`pub use quote_host::store;`).
pub use quote_host::store;

mod fixtures;
mod key_cap;
mod monthly;
mod ops;
mod plugins;
mod quotes;
mod row_security;
mod session_cap;
mod tenants;

use std::collections::BTreeSet;

/// The migration folders hold the same versions under the same names.
#[test]
fn migration_lists_match() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let list = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    };
    let sqlite = list("sqlite");
    let postgres = list("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
    for name in &sqlite {
        let (version, rest) = name.split_once('_').expect("NNNN_name.sql");
        assert!(
            version.len() == 4 && version.bytes().all(|b| b.is_ascii_digit()),
            "{name}"
        );
        assert!(rest.ends_with(".sql"), "{name}");
    }
}

quote_tests::environment_tests!();
