//! `calculate` fails on its own account with `calc-error::internal`.
//! The host must pass the plugin's error through as a typed calc-error, not a trap.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

struct CalcErrorPlugin;

impl Guest for CalcErrorPlugin {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "calc-error".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(_request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        Err(CalcError::Internal("hostile: rule table corrupt".into()))
    }
}

export!(CalcErrorPlugin);
