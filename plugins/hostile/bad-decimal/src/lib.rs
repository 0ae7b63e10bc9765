//! `calculate` returns one line per item, but with malformed decimals: unit-price
//! "12,50" (comma), line total "1e5" (exponent), subtotal "NaN".
//! The host must validate every decimal and answer with an invalid-output error.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use quote::pricing::types::LineResult;

struct BadDecimal;

impl Guest for BadDecimal {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "bad-decimal".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        Ok(QuoteResult {
            currency: request.currency,
            items: request
                .items
                .into_iter()
                .map(|item| LineResult {
                    id: item.id,
                    unit_price: "12,50".into(),
                    total: "1e5".into(),
                    breakdown: Vec::new(),
                })
                .collect(),
            subtotal: "NaN".into(),
            tax: "0.00".into(),
            total: "0.00".into(),
            breakdown: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

export!(BadDecimal);
