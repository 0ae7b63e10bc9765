//! Builds the bundled guest plugins (the `plugins/` workspace) for `wasm32-wasip2`
//! and tells the host crate where the components are.
//!
//! The same pattern as wasmtime's own test-programs: a nested `cargo build` with a
//! clean environment and its own target directory, so it never contends with the
//! outer build for locks and never inherits host-only flags.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let host_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = host_dir
        .parent()
        .expect("host/ sits in the repository root");
    let plugins = root.join("plugins");
    watch(root, &plugins);
    ensure_target_installed();

    let target_dir = plugins.join("target");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&plugins)
        .args([
            "build",
            "--release",
            "--locked",
            "--workspace",
            "--target",
            TARGET,
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    clean_environment(&mut command);
    let status = command
        .status()
        .expect("run cargo for the plugins workspace");
    assert!(
        status.success(),
        "building the plugins for {TARGET} failed (see the output above)"
    );

    let out = target_dir.join(TARGET).join("release");
    println!("cargo:rustc-env=QUOTE_PLUGIN_DIR={}", out.display());
}

/// Rebuild when a plugin's sources, the plugins workspace, the contract or the migrations change.
/// Directories are listed one by one: `plugins/target` must not be watched.
fn watch(root: &Path, plugins: &Path) {
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    // sqlx::migrate! embeds these; new files must rebuild the host.
    println!(
        "cargo:rerun-if-changed={}",
        root.join("migrations").display()
    );
    for file in ["Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", plugins.join(file).display());
    }
    let entries = std::fs::read_dir(plugins).expect("plugins/ exists");
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && entry.file_name() != "target" {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

/// `rust-toolchain.toml` lists the target, but rustup may be set not to install it
/// on its own; add it here so a fresh machine needs nothing by hand.
fn ensure_target_installed() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    if libdir.is_some_and(|dir| dir.exists()) {
        return;
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", TARGET]);
    if let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") {
        rustup.args(["--toolchain", &toolchain]);
    }
    let status = rustup
        .status()
        .expect("run rustup to add the wasm32-wasip2 target");
    assert!(status.success(), "`rustup target add {TARGET}` failed");
}

/// Drop what the outer build set for the host: flags, wrappers (clippy, sccache),
/// profile overrides and the outer target directory.
fn clean_environment(command: &mut Command) {
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let inherited_build_setting = key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_TARGET_")
            || key.starts_with("CARGO_ENCODED_")
            || key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_FEATURE_")
            || key.starts_with("CARGO_PKG_")
            || key.starts_with("DEP_");
        if inherited_build_setting {
            command.env_remove(key);
        }
    }
    for key in [
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MAKEFLAGS",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_CRATE_NAME",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "NUM_JOBS",
    ] {
        command.env_remove(key);
    }
}
