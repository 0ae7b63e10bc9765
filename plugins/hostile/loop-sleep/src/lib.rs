//! `calculate` sleeps forever through WASI (monotonic-clock subscribe + poll), so the
//! guest is blocked in host code, not in wasm, when the time limit hits.
//! The host must still end the call with a timeout (fuel never runs out here).

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use std::time::Duration;

struct LoopSleep;

impl Guest for LoopSleep {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "loop-sleep".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(_request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}

export!(LoopSleep);
