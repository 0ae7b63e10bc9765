//! bench/load.sh's helper for its `calc-93` run: turns a golden import-calc scenario into
//! a calculate request (its rates stored in the server's database, as the daily fetch
//! would store them), and checks a response against every workbook value.
//!
//! ```text
//! bench-golden prepare SCENARIO.json DATABASE_URL PLUGIN REQUEST_OUT.json
//! bench-golden check SCENARIO.json RESPONSE.json
//! bench-golden plugin-path CRATE        (the bundled plugin's .wasm, as the build made it)
//! ```

#[path = "../../../plugins/import-calc/tests/golden_map.rs"]
mod golden_map;

use quote_host::store::{NewRate, PoolOptionsConfig};
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["prepare", scenario, database_url, plugin, out] => {
            prepare(Path::new(scenario), database_url, plugin, Path::new(out)).await?;
            Ok(ExitCode::SUCCESS)
        }
        ["check", scenario, response] => check(Path::new(scenario), Path::new(response)),
        ["plugin-path", name] => {
            println!("{}", quote_host::bundled::plugin_path(name).display());
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!(
                "usage: bench-golden prepare SCENARIO DATABASE_URL PLUGIN OUT | check SCENARIO RESPONSE | plugin-path CRATE"
            );
            Ok(ExitCode::from(2))
        }
    }
}

/// Stores the scenario's rates and writes its request without them, naming `plugin`.
async fn prepare(
    scenario: &Path,
    database_url: &str,
    plugin: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let mut request = golden_map::load_scenario(scenario).request;
    let rates = request
        .as_object_mut()
        .and_then(|request| request.remove("rates"))
        .unwrap_or_else(|| json!([]));
    let store = quote_host::store::connect(database_url, &PoolOptionsConfig::default()).await?;
    for rate in rates.as_array().into_iter().flatten() {
        let text = |field: &str| rate[field].as_str().unwrap_or_default().to_string();
        let date = chrono::NaiveDate::parse_from_str(&text("date"), "%Y-%m-%d")?;
        let row = NewRate {
            from_currency: text("base"),
            to_currency: text("quote"),
            rate: text("rate").parse()?,
            nominal: 1,
        };
        store
            .store_rates("bench", date, &[row], chrono::Utc::now())
            .await?;
    }
    store.close().await;
    request["plugin"] = json!(plugin);
    std::fs::write(out, serde_json::to_vec(&request)?)?;
    Ok(())
}

/// Every workbook value of the scenario against the response's breakdowns.
fn check(scenario: &Path, response: &Path) -> anyhow::Result<ExitCode> {
    let scenario = golden_map::load_scenario(scenario);
    let response: Value = serde_json::from_slice(&std::fs::read(response)?)?;
    let misses = scenario.misses_in_json(&response["result"]);
    let compared = scenario.all_expectations().count();
    println!(
        "{}: {}/{compared} workbook values matched",
        scenario.name,
        compared - misses.len()
    );
    for miss in misses.iter().take(10) {
        eprintln!("{miss}");
    }
    Ok(if misses.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
