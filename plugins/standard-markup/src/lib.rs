//! A variant of the standard rule set, as a tenant's next price list would be: the very
//! same rules (`standard/src/pricing.rs`), but a quote without a `markup_percent` gets
//! 10 % instead of 0. The replay tests re-price stored quotes with it.

// The generated export glue passes quote-request as many flat core parameters.
#![allow(clippy::too_many_arguments)]

#[path = "../../standard/src/pricing.rs"]
pub mod pricing;

/// This variant's default markup, in percent.
const DEFAULT_MARKUP_PERCENT: &str = "10";

wit_bindgen::generate!({ path: "../../wit", world: "calculator" });

use quote::pricing::types::{Field, LineResult, Scope, ValueKind, VariableSpec};

struct StandardMarkup;

impl Guest for StandardMarkup {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "standard-markup".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Converts item prices into the quote currency, applies quantity-tier \
                          discounts, markup and VAT, and rounds to the currency's minor unit."
                .into(),
            variables: pricing::VARIABLES
                .iter()
                .map(|v| VariableSpec {
                    name: v.name.into(),
                    kind: match v.kind {
                        pricing::Kind::Decimal => ValueKind::Decimal,
                        pricing::Kind::Text => ValueKind::Text,
                    },
                    scope: match v.per_item {
                        true => Scope::Both,
                        false => Scope::Quote,
                    },
                    required: false,
                    default: Some(match v.name {
                        "markup_percent" => DEFAULT_MARKUP_PERCENT.into(),
                        _ => v.default.into(),
                    }),
                    description: v.description.into(),
                })
                .collect(),
        }
    }

    fn calculate(request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        let mut variables = pairs(request.variables);
        if !variables.iter().any(|(name, _)| name == "markup_percent") {
            variables.push(("markup_percent".into(), DEFAULT_MARKUP_PERCENT.into()));
        }
        let request = pricing::Request {
            currency: request.currency,
            variables,
            items: request
                .items
                .into_iter()
                .map(|item| pricing::Item {
                    id: item.id,
                    quantity: item.quantity,
                    unit_price: item.unit_price,
                    currency: item.currency,
                    attributes: pairs(item.attributes),
                })
                .collect(),
            rates: request
                .rates
                .into_iter()
                .map(|rate| pricing::Rate {
                    base: rate.base,
                    quote: rate.quote,
                    rate: rate.rate,
                })
                .collect(),
        };
        let priced = pricing::price(&request).map_err(|error| match error {
            pricing::Error::InvalidInput(message) => CalcError::InvalidInput(message),
            pricing::Error::MissingRate(message) => CalcError::MissingRate(message),
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

export!(StandardMarkup);
