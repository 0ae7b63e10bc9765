//! `quote-host plugin replay FILE --server URL --key KEY`: what a local, not yet uploaded
//! build would do to the organization's recent quotes. The server runs the candidate
//! (`POST /api/plugins/{name}/replay`), so the replay uses the server's stored
//! requests and rate snapshots, sandbox limits and calculation slots, the same code as
//! replaying a stored version, and no stored quote leaves the server.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The candidate component (.wasm), e.g. target/wasm32-wasip2/release/NAME.wasm.
    file: PathBuf,
    /// The server, e.g. https://quotes.example.com.
    #[arg(long)]
    server: String,
    /// An admin API key of the organization whose quotes are replayed.
    #[arg(long, env = "QUOTE_API_KEY", hide_env_values = true)]
    key: String,
    /// How many of the most recent quotes (default 100; the server caps it, default 1000).
    #[arg(long)]
    last: Option<u32>,
    /// Only quotes in this status (draft, sent, accepted, ...).
    #[arg(long)]
    status: Option<String>,
    /// The plugin name the candidate is for. Default: the file name, `_` read as `-`.
    #[arg(long)]
    name: Option<String>,
    /// How long to wait for the server's answer, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout_s: u64,
}

/// Exit code when the server refused the replay (its error is printed).
const EXIT_REFUSED: u8 = 4;

pub async fn replay(args: ReplayArgs, bad_input: ExitCode) -> ExitCode {
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", args.file.display());
            return bad_input;
        }
    };
    let name = args.name.clone().unwrap_or_else(|| {
        let stem = args.file.file_stem().unwrap_or_default();
        stem.to_string_lossy().replace('_', "-")
    });
    let mut query = Vec::new();
    if let Some(last) = args.last {
        query.push(format!("last={last}"));
    }
    if let Some(status) = &args.status {
        if !status.chars().all(|c| c.is_ascii_lowercase()) {
            eprintln!(
                "error: --status is one of draft, sent, accepted, rejected, expired, cancelled"
            );
            return bad_input;
        }
        query.push(format!("status={status}"));
    }
    let url = format!(
        "{}/api/plugins/{name}/replay?{}",
        args.server.trim_end_matches('/'),
        query.join("&")
    );
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_s))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: cannot start the HTTP client: {error}");
            return ExitCode::FAILURE;
        }
    };
    let sent = client
        .post(&url)
        .bearer_auth(&args.key)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            eprintln!("error: {url}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        eprintln!("error: the server refused the replay ({status}): {text}");
        return ExitCode::from(EXIT_REFUSED);
    }
    let report: serde_json::Value = match serde_json::from_str(&text) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: the server's answer is not JSON ({error}): {text}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("JSON values serialize")
    );
    eprintln!(
        "replayed {} quotes: {} identical, {} changed, {} failed",
        report["replayed"], report["identical"], report["changed"], report["failed"]
    );
    ExitCode::SUCCESS
}
