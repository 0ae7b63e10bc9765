//! `calculate` executes the wasm `unreachable` instruction.
//! The host must answer with a trap error carrying the wasm backtrace.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

struct Trap;

impl Guest for Trap {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "trap".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(_request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        core::arch::wasm32::unreachable()
    }
}

export!(Trap);
