//! `calculate` returns valid decimals but one line result fewer than there are items
//! (none at all for a one-item quote). The host must check "one result per item, same
//! order" and answer with an invalid-output error.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use quote::pricing::types::LineResult;

struct WrongCount;

impl Guest for WrongCount {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "wrong-count".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        let keep = request.items.len().saturating_sub(1);
        Ok(QuoteResult {
            currency: request.currency,
            items: request
                .items
                .into_iter()
                .take(keep)
                .map(|item| LineResult {
                    id: item.id,
                    unit_price: "1.00".into(),
                    total: "1.00".into(),
                    breakdown: Vec::new(),
                })
                .collect(),
            subtotal: format!("{keep}.00"),
            tax: "0.00".into(),
            total: format!("{keep}.00"),
            breakdown: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

export!(WrongCount);
