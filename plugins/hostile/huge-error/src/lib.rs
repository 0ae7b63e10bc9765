//! `calculate` fails with `calc-error::internal` whose message is `error_kib` KiB long
//! (quote variable, default 4096: 4 MiB). The host must cut the message it passes on,
//! and refuse one too large to copy out of the sandbox as invalid output.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use quote::pricing::types::{Scope, ValueKind, VariableSpec};

/// The message's first words, so the host's cut copy still says who spoke.
const PREFIX: &str = "hostile: rule table corrupt; ";
const DEFAULT_KIB: usize = 4096;

struct HugeError;

impl Guest for HugeError {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "huge-error".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: vec![VariableSpec {
                name: "error_kib".into(),
                kind: ValueKind::Integer,
                scope: Scope::Quote,
                required: false,
                default: Some(DEFAULT_KIB.to_string()),
                description: "Length of the error message, in KiB.".into(),
            }],
        }
    }

    fn calculate(request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        let kib = request
            .variables
            .iter()
            .find(|variable| variable.key == "error_kib")
            .and_then(|variable| variable.value.parse::<usize>().ok())
            .unwrap_or(DEFAULT_KIB);
        let mut message = String::with_capacity(kib * 1024);
        message.push_str(PREFIX);
        message.push_str(&"x".repeat((kib * 1024).saturating_sub(PREFIX.len())));
        Err(CalcError::Internal(message))
    }
}

export!(HugeError);
