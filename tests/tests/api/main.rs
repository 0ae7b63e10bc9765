//! The real server over real HTTP, every scenario on SQLite and on PostgreSQL.

mod basics;
mod bootstrap;
mod bounds;
mod export;
mod golden;
mod input_limits;
mod isolation;
mod keys;
mod limits;
mod openapi;
mod operations;
mod plugin_bounds;
mod plugins;
mod quotes;
mod rates;
mod rejections;
mod sandbox;
mod shutdown;

use quote_tests::{Client, TestServer};
use std::process::Command;

/// Creates another organization and an admin key for it with the `quote-host` CLI,
/// against the server's database, and returns a client with that key.
pub fn other_organization(server: &TestServer, name: &str) -> Client {
    let cli = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_quote-host-under-test"))
            .args(args)
            .env("QUOTE_DATABASE__URL", &server.database.url)
            .env("QUOTE_DATA_DIR", server.data_dir.path())
            .env("QUOTE_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "quote-host {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    cli(&["org", "create", name]);
    let key = cli(&["key", "create", "--org", name, "--role", "admin"]);
    server.client(key.trim())
}
