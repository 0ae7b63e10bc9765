//! `describe` spins forever on pure compute. The host calls describe to validate an
//! upload, so that call needs limits too: the upload must fail with a timeout
//! (or fuel exhausted), not hang. `calculate` would succeed, if it were ever reached.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use core::hint::black_box;
use quote::pricing::types::LineResult;

struct DescribeLoop;

impl Guest for DescribeLoop {
    fn describe() -> PluginInfo {
        let mut counter: u64 = 0;
        loop {
            counter = black_box(counter.wrapping_add(1));
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
                    unit_price: "0".into(),
                    total: "0".into(),
                    breakdown: Vec::new(),
                })
                .collect(),
            subtotal: "0".into(),
            tax: "0".into(),
            total: "0".into(),
            breakdown: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

export!(DescribeLoop);
