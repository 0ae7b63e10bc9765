//! `calculate` writes about 10 MiB to stderr (first line "stderr-flood: start"), then
//! returns a valid result. The host must keep only the first 16 KiB of stderr and
//! silently drop the rest (a failed write would make `eprintln!` panic): the call succeeds.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use quote::pricing::types::LineResult;

/// 10 240 lines of 1 KiB (1023 characters and a newline): 10 MiB.
const LINES: usize = 10 * 1024;

struct StderrFlood;

impl Guest for StderrFlood {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "stderr-flood".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        eprintln!("stderr-flood: start");
        let filler = "#".repeat(1023 - 13);
        for line in 0..LINES {
            eprintln!("flood {line:06} {filler}");
        }
        eprintln!("stderr-flood: end");
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
            breakdown: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

export!(StderrFlood);
