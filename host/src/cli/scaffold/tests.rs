//! The template stays in step with the repository: the same dependencies and release
//! profile as `plugins/`, locked to the same crates, and every WIT file written out.

use super::*;
use std::collections::BTreeMap;

fn repo_file(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn rendered(name: &str, path: &str) -> String {
    render(name)
        .unwrap()
        .into_iter()
        .find(|(file, _)| *file == path)
        .unwrap_or_else(|| panic!("no {path} in the template"))
        .1
}

fn toml(text: &str) -> toml::Table {
    text.parse().expect("valid TOML")
}

#[test]
fn every_placeholder_is_filled_and_no_path_leaves_the_crate() {
    for (path, text) in render("my-rules").unwrap() {
        assert!(!text.contains("{{"), "{path} keeps a placeholder");
        assert!(!text.contains("../"), "{path} points outside the crate");
        assert!(!path.starts_with('/') && !path.contains(".."), "{path}");
    }
    let manifest = toml(&rendered("my-rules", "Cargo.toml"));
    assert_eq!(manifest["package"]["name"].as_str(), Some("my-rules"));
    assert!(rendered("my-rules", "src/rules.rs").contains("pub const NAME: &str = \"my-rules\";"));
    let manifest = toml(&rendered("7seas", "Cargo.toml"));
    assert_eq!(manifest["package"]["name"].as_str(), Some("plugin-7seas"));
}

#[test]
fn dependencies_and_release_profile_are_those_of_the_plugins_workspace() {
    let workspace = toml(&repo_file("plugins/Cargo.toml"));
    let template = toml(&rendered("my-rules", "Cargo.toml"));
    assert_eq!(
        template["dependencies"],
        workspace["workspace"]["dependencies"]
    );
    assert_eq!(
        template["profile"]["release"],
        workspace["profile"]["release"]
    );
}

#[test]
fn the_lock_pins_the_crates_the_plugins_workspace_is_built_from() {
    let locked = |text: &str| -> BTreeMap<(String, String), Option<String>> {
        toml(text)["package"]
            .as_array()
            .unwrap()
            .iter()
            .map(|package| {
                let field = |key: &str| package.get(key).and_then(|v| v.as_str()).map(String::from);
                (
                    (field("name").unwrap(), field("version").unwrap()),
                    field("checksum"),
                )
            })
            .collect()
    };
    let workspace = locked(&repo_file("plugins/Cargo.lock"));
    let template = locked(&rendered("my-rules", "Cargo.lock"));
    for (package, checksum) in &template {
        if package.0 == "my-rules" {
            continue;
        }
        assert_eq!(
            workspace.get(package),
            Some(checksum),
            "{package:?} is not locked the same in plugins/Cargo.lock"
        );
    }
    assert!(template.contains_key(&("wit-bindgen".into(), "0.63.0".into())));
}

#[test]
fn the_root_package_sorts_by_name_as_cargo_writes_it() {
    for name in ["a", "my-rules", "zzz", "wit-bindgen-x"] {
        let lock = rendered(name, "Cargo.lock");
        let names: Vec<&str> = lock
            .lines()
            .filter_map(|line| line.strip_prefix("name = \""))
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "{name}");
        assert!(lock.ends_with("]\n") || lock.ends_with("\"\n"));
        assert!(!lock.contains("\n\n\n"));
    }
}

#[test]
fn every_file_of_the_contract_is_written_out() {
    let wit_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    for entry in fs::read_dir(&wit_dir).unwrap().flatten() {
        let file = format!("wit/{}", entry.file_name().to_string_lossy());
        let embedded = WIT.iter().find(|(path, _)| *path == file);
        assert_eq!(
            embedded.map(|(_, text)| text.to_string()),
            Some(fs::read_to_string(entry.path()).unwrap()),
            "{file} is not embedded as it is"
        );
    }
}

#[test]
fn refuses_a_bad_name_and_a_non_empty_dir_and_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let error = scaffold("My Rules", &temp.path().join("a")).unwrap_err();
    assert!(matches!(error, ScaffoldError::InvalidName(_)), "{error}");
    assert!(!temp.path().join("a").exists());

    fs::write(temp.path().join("keep.txt"), "mine").unwrap();
    let error = scaffold("my-rules", temp.path()).unwrap_err();
    assert!(matches!(error, ScaffoldError::DirNotEmpty(_)), "{error}");
    assert_eq!(fs::read_dir(temp.path()).unwrap().count(), 1);

    let empty = temp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let made = scaffold("my-rules", &empty).unwrap();
    assert!(empty.join("wit/quote.wit").is_file());
    assert_eq!(
        made.wasm,
        Path::new("target/wasm32-wasip2/release/my_rules.wasm")
    );
}
