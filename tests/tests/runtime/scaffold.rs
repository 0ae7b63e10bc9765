//! `quote-host plugin new`: the crate it writes builds for wasm32-wasip2 as it is, its
//! unit test passes, and `plugin run` prices its sample request at the worked example's
//! hand-worked total; a bad name or a non-empty folder is refused and nothing is written.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn quote_host(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quote-host-under-test"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Kept between runs so a rerun neither rebuilds the dependencies nor fetches them.
fn scaffold_target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/scaffold-test")
}

/// Cargo as a plugin author runs it in the new crate: without the flags, wrappers,
/// target directory and fake clock the outer `cargo test` set for this process.
fn cargo(crate_dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .args(args)
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", scaffold_target_dir());
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let inherited = [
            "CARGO_PROFILE_",
            "CARGO_BUILD_",
            "CARGO_ENCODED_",
            "CARGO_PKG_",
        ]
        .iter()
        .any(|prefix| key.starts_with(prefix))
            || (key.starts_with("CARGO_TARGET_") && key != "CARGO_TARGET_DIR")
            || [
                "RUSTFLAGS",
                "RUSTDOCFLAGS",
                "RUSTC_WRAPPER",
                "RUSTC_WORKSPACE_WRAPPER",
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_CRATE_NAME",
                "CARGO_MAKEFLAGS",
                // A test run under `faketime` (README): rustc hangs with the fake clock.
                "LD_PRELOAD",
                "FAKETIME",
                "DONT_FAKE_MONOTONIC",
            ]
            .contains(&key);
        if inherited {
            command.env_remove(key);
        }
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "cargo {args:?} failed in the scaffolded crate:\n{}",
        text(&output.stderr)
    );
    output
}

#[test]
fn plugin_new_scaffolds_a_crate_that_builds_tests_and_prices_its_sample() {
    let temp = tempfile::tempdir().unwrap();
    let crate_dir = temp.path().join("my-rules");
    let dir = crate_dir.display().to_string();
    let created = quote_host(&["plugin", "new", "my-rules", "--dir", &dir], temp.path());
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(text(&created.stdout).contains("cargo build --release --target wasm32-wasip2"));
    let repo_wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/quote.wit");
    assert_eq!(
        std::fs::read_to_string(crate_dir.join("wit/quote.wit")).unwrap(),
        std::fs::read_to_string(repo_wit).unwrap(),
        "the crate gets the WIT the host was built with"
    );

    // --locked: the template's Cargo.lock is complete, so cargo resolves nothing new.
    cargo(
        &crate_dir,
        &[
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ],
    );
    let tested = cargo(&crate_dir, &["test", "--locked", "--lib"]);
    let report = text(&tested.stdout);
    assert!(
        report.contains("prices_the_worked_example ... ok") && report.contains("2 passed"),
        "{report}"
    );

    let wasm = scaffold_target_dir().join("wasm32-wasip2/release/my_rules.wasm");
    let wasm = wasm.display().to_string();
    let checked = quote_host(&["plugin", "check", &wasm], &crate_dir);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    let describe: Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(describe["describe"]["name"], "my-rules");
    let variables: Vec<&str> = describe["describe"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variable| variable["name"].as_str().unwrap())
        .collect();
    assert_eq!(variables, ["markup_percent", "discount_percent"]);

    let priced = quote_host(
        &["plugin", "run", &wasm, "--input", "sample-request.json"],
        &crate_dir,
    );
    assert!(priced.status.success(), "{}", text(&priced.stderr));
    let priced: Value = serde_json::from_slice(&priced.stdout).unwrap();
    let result = &priced["result"];
    // 19.99 USD × 92.5 × 1.10 = 2033.9825 -> 2033.98, × 3 = 6101.94;
    // 410.00 RUB × 0.95 × 1.10 = 428.45, × 120 = 51414.00; no tax.
    assert_eq!(result["items"][0]["unit_price"], "2033.98");
    assert_eq!(result["items"][1]["unit_price"], "428.45");
    assert_eq!(result["items"][1]["total"], "51414.00");
    assert_eq!(result["subtotal"], "57515.94");
    assert_eq!(result["tax"], "0.00");
    assert_eq!(result["total"], "57515.94");
}

#[test]
fn plugin_new_refuses_a_bad_name_and_a_non_empty_folder() {
    let temp = tempfile::tempdir().unwrap();
    let too_long = "a".repeat(65);
    for name in [
        "My-Rules",
        "-rules",
        "my rules",
        "règles",
        too_long.as_str(),
    ] {
        let refused = quote_host(&["plugin", "new", name], temp.path());
        assert_eq!(refused.status.code(), Some(3), "{name}");
        let message = text(&refused.stderr);
        assert!(
            message.contains(&format!("plugin name '{name}' is not valid"))
                && message.contains("lower-case letters, digits, '-' or '_'"),
            "{message}"
        );
    }
    assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);

    let taken = temp.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.txt"), "mine").unwrap();
    let dir = taken.display().to_string();
    let refused = quote_host(&["plugin", "new", "my-rules", "--dir", &dir], temp.path());
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        text(&refused.stderr).contains("already exists and is not an empty directory"),
        "{}",
        text(&refused.stderr)
    );
    let left: Vec<_> = std::fs::read_dir(&taken).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "nothing is written beside the user's file");
    assert_eq!(
        std::fs::read_to_string(taken.join("notes.txt")).unwrap(),
        "mine"
    );

    let file = temp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let dir = file.display().to_string();
    let refused = quote_host(&["plugin", "new", "my-rules", "--dir", &dir], temp.path());
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));

    // Without --dir the crate goes to ./NAME.
    let made = quote_host(&["plugin", "new", "7seas"], temp.path());
    assert!(made.status.success(), "{}", text(&made.stderr));
    let manifest = std::fs::read_to_string(temp.path().join("7seas/Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"plugin-7seas\""), "{manifest}");
}
