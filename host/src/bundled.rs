//! The plugins built with the host (see `build.rs`): the standard rule set every new
//! tenant starts with, embedded in the binary, and the folder of all built plugins.

/// The standard rule set's component bytes.
pub const STANDARD_PLUGIN: &[u8] =
    include_bytes!(concat!(env!("QUOTE_PLUGIN_DIR"), "/standard.wasm"));

/// The folder where the build left every plugin of `plugins/` (`<name>.wasm`, with
/// dashes as underscores). Only meaningful on the machine that built this binary:
/// tests and benchmarks use it to find the hostile and reference plugins.
pub const PLUGIN_DIR: &str = env!("QUOTE_PLUGIN_DIR");

/// Path of a built plugin by crate name, e.g. `plugin_path("hostile-loop-pure")`.
pub fn plugin_path(crate_name: &str) -> std::path::PathBuf {
    std::path::Path::new(PLUGIN_DIR).join(format!("{}.wasm", crate_name.replace('-', "_")))
}
