//! The host code the fuzz targets exercise, compiled from `host/src` itself: each module
//! below includes the host's own file (`#[path]`), so a target tests exactly what the
//! server runs, without building the rest of quote-host (wasmtime, sqlx, axum, TLS:
//! about 470 crates, two hours of instrumented build on a small machine). Only the two
//! things those files lean on that live elsewhere are stood in for: the store's error
//! type and the WIT bindings' plain data types (see `store.rs` and `runtime.rs`).

#[path = "../../host/src/contract.rs"]
pub mod contract;
pub mod fx;
pub mod quoting;
pub mod runtime;
pub mod store;
