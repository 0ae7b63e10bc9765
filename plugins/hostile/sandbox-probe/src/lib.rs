//! `calculate` tries every way out of the sandbox and reports what it saw in the
//! quote-level breakdown (one line per item, all decimals "0"). The host must answer
//! with success, and its tests check the observations: file, directory and socket
//! access all "err:…", an empty environment and argument list, the wall clock at the
//! quote date 00:00 UTC, and the same random bytes on every call.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use core::hint::black_box;
use quote::pricing::types::{Field, LineResult};
use std::fmt::Write as _;
use std::hash::BuildHasher;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

struct SandboxProbe;

impl Guest for SandboxProbe {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "sandbox-probe".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        let mut seen: Vec<(&str, String)> = Vec::new();

        seen.push((
            "file_read",
            outcome(std::fs::read_to_string("/etc/passwd").map(|s| s.len())),
        ));
        let cwd = outcome(std::fs::read_dir(".").map(Iterator::count));
        let root = outcome(std::fs::read_dir("/").map(Iterator::count));
        let dir_list = if cwd.starts_with("ok:") || root.starts_with("err:") {
            &cwd
        } else {
            &root
        };
        seen.push(("dir_list", dir_list.clone()));
        seen.push(("dir_list_cwd", cwd));
        seen.push(("dir_list_root", root));

        seen.push(("env_count", std::env::vars_os().count().to_string()));
        seen.push((
            "env_home",
            match std::env::var("HOME") {
                Ok(home) => format!("ok:{home}"),
                Err(std::env::VarError::NotPresent) => "err:NotPresent".into(),
                Err(std::env::VarError::NotUnicode(_)) => "err:NotUnicode".into(),
            },
        ));
        seen.push(("args_count", std::env::args_os().count().to_string()));
        seen.push((
            "tcp_connect",
            outcome(std::net::TcpStream::connect("127.0.0.1:5432").map(|_| "connected")),
        ));

        seen.push((
            "wall_clock_unix_secs",
            match SystemTime::now().duration_since(UNIX_EPOCH) {
                Ok(since) => since.as_secs().to_string(),
                Err(before) => format!("-{}", before.duration().as_secs()),
            },
        ));
        let start = Instant::now();
        let mut acc: u64 = 0;
        for i in 0..1_000_000u64 {
            acc = black_box(acc.wrapping_add(i));
        }
        seen.push((
            "monotonic_elapsed_nanos",
            start.elapsed().as_nanos().to_string(),
        ));

        seen.push((
            "random_hex",
            hex(&wasip2::random::random::get_random_bytes(32)),
        ));
        seen.push((
            "insecure_random_hex",
            hex(&wasip2::random::insecure::get_insecure_random_bytes(32)),
        ));
        let (seed_hi, seed_lo) = wasip2::random::insecure_seed::insecure_seed();
        seen.push(("insecure_seed_hex", format!("{seed_hi:016x}{seed_lo:016x}")));
        // std's own randomness (HashMap keys), to see whether it is deterministic too.
        let state = std::collections::hash_map::RandomState::new();
        let mut random_state = Vec::new();
        for value in 0..4u64 {
            random_state.extend_from_slice(&state.hash_one(value).to_be_bytes());
        }
        seen.push(("random_state_hex", hex(&random_state)));

        Ok(QuoteResult {
            currency: request.currency,
            items: request
                .items
                .into_iter()
                .map(|item| LineResult {
                    id: item.id,
                    unit_price: "0".into(),
                    total: "0".into(),
                    breakdown: Vec::new(),
                })
                .collect(),
            subtotal: "0".into(),
            tax: "0".into(),
            total: "0".into(),
            breakdown: seen
                .into_iter()
                .map(|(key, value)| Field {
                    key: key.into(),
                    value,
                })
                .collect(),
            warnings: Vec::new(),
        })
    }
}

/// "ok:<value>" or "err:<io::ErrorKind>".
fn outcome<T: std::fmt::Display>(result: std::io::Result<T>) -> String {
    match result {
        Ok(value) => format!("ok:{value}"),
        Err(error) => format!("err:{:?}", error.kind()),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

export!(SandboxProbe);
