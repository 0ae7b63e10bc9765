//! `calculate` panics; with `panic = "abort"` the message goes to stderr and the guest traps.
//! The host must answer with a trap error (with backtrace) and keep the panic message
//! from the captured stderr.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

struct Panic;

impl Guest for Panic {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "panic".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(_request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        panic!("hostile panic: pricing table missing")
    }
}

export!(Panic);
