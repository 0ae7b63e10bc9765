//! The reference import-pricing rule set (kvota, variant E): the WIT glue. The rules live in
//! the plain-Rust modules below, which know nothing of WebAssembly, so they are read and
//! tested natively (`cargo test -p import-calc`).

#[cfg(target_arch = "wasm32")]
mod bump;
pub mod engine;
pub mod financing;
pub mod inputs;
pub mod logistics;
pub mod lookup;
pub mod output;
pub mod purchase;
pub mod rates;
pub mod request;
pub mod sale;
pub mod tables;
pub mod values;
pub mod variables;

pub use output::price;
pub use request::{Error, Item, Line, Priced, Rate, Request};

/// Every allocation of a call comes from a bump allocator: see `bump`.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: bump::Bump = bump::Bump::new();

/// What `describe` says the rule set is.
pub const DESCRIPTION: &str = "Import pricing of a Russian B2B importer (kvota reference \
    rules): removes the supplier country's VAT, applies the supplier discount, converts into \
    the quote currency, spreads logistics, brokerage and insurance, adds customs duty, excise, \
    the cost of financing advances, the financial agent's fee, a currency-risk reserve and the \
    markup, then Russian VAT. Amounts are rounded to 4 decimals, half away from zero.";

/// The generated WIT bindings, kept apart so their lint exceptions stay local.
mod bindings {
    // The lifted `calculate` export takes the flattened request record as many arguments.
    #![allow(clippy::too_many_arguments)]
    wit_bindgen::generate!({ path: "../../wit", world: "calculator" });
}

use bindings::quote::pricing::types::{Field, LineResult, Scope, ValueKind, VariableSpec};
use bindings::{CalcError, Guest, PluginInfo, QuoteRequest, QuoteResult};

struct ImportCalc;

impl Guest for ImportCalc {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "import-calc".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: DESCRIPTION.into(),
            variables: variables::VARIABLES
                .iter()
                .map(|v| VariableSpec {
                    name: v.name.into(),
                    kind: match v.kind {
                        variables::Kind::Decimal => ValueKind::Decimal,
                        variables::Kind::Integer => ValueKind::Integer,
                        variables::Kind::Text => ValueKind::Text,
                        variables::Kind::Date => ValueKind::Date,
                    },
                    scope: match v.scope {
                        variables::Scope::Quote => Scope::Quote,
                        variables::Scope::Item => Scope::Item,
                        variables::Scope::Both => Scope::Both,
                    },
                    required: v.required,
                    default: v.default.map(Into::into),
                    description: format!("{} Unit: {}.", v.description, v.unit),
                })
                .collect(),
        }
    }

    fn calculate(request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        let request = Request {
            currency: request.currency,
            date: request.date,
            variables: pairs(request.variables),
            items: request
                .items
                .into_iter()
                .map(|item| Item {
                    id: item.id,
                    sku: item.sku,
                    name: item.name,
                    quantity: item.quantity,
                    unit_price: item.unit_price,
                    currency: item.currency,
                    attributes: pairs(item.attributes),
                })
                .collect(),
            rates: request
                .rates
                .into_iter()
                .map(|r| Rate {
                    base: r.base,
                    quote: r.quote,
                    rate: r.rate,
                    date: r.date,
                })
                .collect(),
        };
        let priced = price(&request).map_err(|error| match error {
            Error::InvalidInput(message) => CalcError::InvalidInput(message),
            Error::MissingRate(message) => CalcError::MissingRate(message),
            Error::Unsupported(message) => CalcError::Unsupported(message),
        })?;
        Ok(QuoteResult {
            currency: priced.currency,
            items: priced
                .lines
                .into_iter()
                .map(|line| LineResult {
                    id: line.id,
                    unit_price: line.unit_price,
                    total: line.total,
                    breakdown: fields(line.breakdown),
                })
                .collect(),
            subtotal: priced.subtotal,
            tax: priced.tax,
            total: priced.total,
            breakdown: fields(priced.breakdown),
            warnings: priced.warnings,
        })
    }
}

fn pairs(fields: Vec<Field>) -> Vec<(String, String)> {
    fields
        .into_iter()
        .map(|field| (field.key, field.value))
        .collect()
}

fn fields(pairs: Vec<(String, String)>) -> Vec<Field> {
    pairs
        .into_iter()
        .map(|(key, value)| Field { key, value })
        .collect()
}

bindings::export!(ImportCalc with_types_in bindings);
