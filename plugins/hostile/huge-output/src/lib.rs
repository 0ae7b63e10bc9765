//! `calculate` returns a well-formed result (one line per item, valid decimals) whose
//! quote breakdown carries about 8 MiB of strings: far over a 1 MiB result cap, well
//! under a 64 MiB memory cap. The host must reject it as invalid output (result too
//! large) and should not copy it all into host memory first.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use quote::pricing::types::{Field, LineResult};

/// 128 fields of 64 KiB each: 8 MiB of values.
const FIELDS: usize = 128;
const FIELD_BYTES: usize = 64 * 1024;

struct HugeOutput;

impl Guest for HugeOutput {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "huge-output".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        let count = request.items.len();
        Ok(QuoteResult {
            currency: request.currency,
            items: request
                .items
                .into_iter()
                .map(|item| LineResult {
                    id: item.id,
                    unit_price: "1.00".into(),
                    total: "1.00".into(),
                    breakdown: Vec::new(),
                })
                .collect(),
            subtotal: format!("{count}.00"),
            tax: "0.00".into(),
            total: format!("{count}.00"),
            breakdown: (0..FIELDS)
                .map(|i| Field {
                    key: format!("padding-{i:03}"),
                    value: "x".repeat(FIELD_BYTES),
                })
                .collect(),
            warnings: Vec::new(),
        })
    }
}

export!(HugeOutput);
