//! `host/src/quoting`: the variables check that runs before a plugin.

#[path = "../../host/src/quoting/variables.rs"]
pub mod variables;
