//! The real server over real HTTP, every scenario on SQLite and on PostgreSQL.

mod amounts;
mod basics;
mod bootstrap;
mod bounds;
mod cbr_nominal;
mod dashboard_chart;
mod documents;
mod export;
mod golden;
mod hot_path;
mod input_limits;
mod isolation;
mod isolation_matrix;
mod key_cap;
mod keys;
mod limits;
mod member_refusals;
mod openapi;
mod operations;
mod organizations;
mod pagination;
mod plugin_bounds;
mod plugins;
mod quotes;
mod rates;
mod recalculation;
mod rejections;
mod replay;
mod rollback;
mod sandbox;
mod scheduled_activation;
mod shutdown;
mod shutdown_inflight;
mod stalled_exports;
mod verify_rates;

use quote_tests::{Client, TestServer};

/// Creates another organization, empty (`--no-plugin`), and an admin key for it with
/// the `quote-host` CLI, against the server's database, and returns a client with that key.
pub fn other_organization(server: &TestServer, name: &str) -> Client {
    organization_from_cli(server, name, &["--no-plugin"])
}

/// Runs `quote-host org create NAME FLAGS...` and `key create` against the server's
/// database and returns a client with the new admin key.
pub fn organization_from_cli(server: &TestServer, name: &str, flags: &[&str]) -> Client {
    cli(server, &[&["org", "create", name], flags].concat());
    let key = cli(server, &["key", "create", "--org", name, "--role", "admin"]);
    server.client(key.trim())
}

/// Runs the `quote-host` CLI on the server's database and data folder; its stdout.
pub fn cli(server: &TestServer, args: &[&str]) -> String {
    server.run_cli(env!("CARGO_BIN_EXE_quote-host-under-test"), args)
}

quote_tests::environment_tests!();
