//! quote-host: a multi-tenant B2B quoting platform whose tenants price quotes with
//! their own rule sets, run as sandboxed WebAssembly components.

pub mod bundled;
pub mod cli;
pub mod contract;
pub mod rates;
pub mod runtime;
pub mod store;
