//! `quote-host plugin new`: the plugin crate template, built into the binary
//! (`host/templates/plugin/`) together with the WIT contract this host speaks, so a new
//! crate needs no checkout of this repository and no network but crates.io.

use crate::contract::check_plugin_name;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The template's files: (path in the new crate, text with `{{...}}` placeholders).
const TEMPLATE: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../templates/plugin/Cargo.toml.tmpl"),
    ),
    (
        "Cargo.lock",
        include_str!("../../templates/plugin/Cargo.lock.tmpl"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/plugin/gitignore"),
    ),
    (
        "README.md",
        include_str!("../../templates/plugin/README.md"),
    ),
    (
        "sample-request.json",
        include_str!("../../templates/plugin/sample-request.json"),
    ),
    (
        "src/lib.rs",
        include_str!("../../templates/plugin/src/lib.rs"),
    ),
    (
        "src/rules.rs",
        include_str!("../../templates/plugin/src/rules.rs"),
    ),
];

/// The contract, exactly as this binary was built against it (the repository's `wit/`).
const WIT: &[(&str, &str)] = &[("wit/quote.wit", include_str!("../../../wit/quote.wit"))];

/// Why `plugin new` wrote nothing, or stopped part way.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("{0}")]
    InvalidName(String),
    #[error("{} already exists and is not an empty directory; choose another --dir", .0.display())]
    DirNotEmpty(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What was created: the crate's folder and the component its build produces.
#[derive(Debug)]
pub struct Scaffolded {
    pub dir: PathBuf,
    /// Relative to `dir`.
    pub wasm: PathBuf,
}

/// The Cargo package name for a plugin name: the same, unless it starts with a digit,
/// which Cargo refuses.
pub fn package_name(name: &str) -> String {
    match name.starts_with(|c: char| c.is_ascii_digit()) {
        true => format!("plugin-{name}"),
        false => name.to_string(),
    }
}

/// The new crate's files for plugin `name`, every path relative to the crate.
pub fn render(name: &str) -> Result<Vec<(&'static str, String)>, ScaffoldError> {
    check_plugin_name(name).map_err(ScaffoldError::InvalidName)?;
    let package = package_name(name);
    let wasm = package.replace('-', "_");
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{package}}", &package)
            .replace("{{wasm}}", &wasm)
            .replace("{{quote_host_version}}", env!("CARGO_PKG_VERSION"))
    };
    Ok(TEMPLATE
        .iter()
        .map(|(path, text)| match *path {
            "Cargo.lock" => (*path, sort_root_package(&fill(text), &package)),
            _ => (*path, fill(text)),
        })
        .chain(WIT.iter().map(|(path, text)| (*path, text.to_string())))
        .collect())
}

/// Writes the crate for plugin `name` into `dir`, which must not exist or be empty.
/// Files are created, never overwritten.
pub fn scaffold(name: &str, dir: &Path) -> Result<Scaffolded, ScaffoldError> {
    let files = render(name)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io { path, source }
    };
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(ScaffoldError::DirNotEmpty(dir.to_path_buf()));
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(io(dir))?
        }
        Err(_) if dir.exists() => return Err(ScaffoldError::DirNotEmpty(dir.to_path_buf())),
        Err(error) => return Err(io(dir)(error)),
    }
    for (relative, text) in &files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .map_err(io(&path))?;
    }
    let wasm = format!("{}.wasm", package_name(name).replace('-', "_"));
    Ok(Scaffolded {
        dir: dir.to_path_buf(),
        wasm: Path::new("target/wasm32-wasip2/release").join(wasm),
    })
}

/// Cargo keeps a lock file's packages sorted by name and `--locked` compares the text:
/// the template's root package moves to where its name sorts. Every block after the
/// header ends with one newline, so splitting and joining on the separator is exact.
fn sort_root_package(lock: &str, package: &str) -> String {
    const SEPARATOR: &str = "\n[[package]]\n";
    let mut blocks: Vec<&str> = lock.split(SEPARATOR).collect();
    let header = blocks.remove(0);
    let name_of = |block: &str| {
        block
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or_default()
            .to_string()
    };
    let is_root = |block: &&str| name_of(block) == package && !block.contains("\nsource = ");
    let Some(root_at) = blocks.iter().position(is_root) else {
        return lock.to_string();
    };
    let root = blocks.remove(root_at);
    let at = blocks
        .iter()
        .position(|block| name_of(block).as_str() > package)
        .unwrap_or(blocks.len());
    blocks.insert(at, root);
    blocks.insert(0, header);
    blocks.join(SEPARATOR)
}

#[cfg(test)]
mod tests;
