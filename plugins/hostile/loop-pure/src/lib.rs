//! `calculate` spins forever on pure compute, never calling the host.
//! The host must stop it by epoch interruption or fuel and answer with a timeout
//! (or fuel exhausted), and the worker must stay usable for the next call.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use core::hint::black_box;

struct LoopPure;

impl Guest for LoopPure {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "loop-pure".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(_request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        // black_box keeps the counter opaque, so the optimizer cannot drop the loop.
        let mut counter: u64 = 0;
        loop {
            counter = black_box(counter.wrapping_add(1));
        }
    }
}

export!(LoopPure);
