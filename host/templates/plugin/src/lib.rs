//! The WIT glue of {{name}}: turns the contract's types (`wit/quote.wit`) into the plain
//! Rust of `rules.rs` and back. Your pricing lives in `rules.rs`; this file rarely changes.

// The generated export glue passes quote-request as many flat core parameters.
#![allow(clippy::too_many_arguments)]

pub mod rules;

wit_bindgen::generate!({ path: "wit", world: "calculator" });

use quote::pricing::types::{Field, LineResult, Scope, ValueKind, VariableSpec};

struct Plugin;

impl Guest for Plugin {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: rules::NAME.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: rules::DESCRIPTION.into(),
            variables: rules::VARIABLES
                .iter()
                .map(|variable| VariableSpec {
                    name: variable.name.into(),
                    kind: match variable.kind {
                        rules::Kind::Decimal => ValueKind::Decimal,
                        rules::Kind::Integer => ValueKind::Integer,
                        rules::Kind::Text => ValueKind::Text,
                        rules::Kind::Boolean => ValueKind::Boolean,
                        rules::Kind::Date => ValueKind::Date,
                    },
                    scope: match variable.scope {
                        rules::Scope::Quote => Scope::Quote,
                        rules::Scope::Item => Scope::Item,
                        rules::Scope::Both => Scope::Both,
                    },
                    required: variable.default.is_none(),
                    default: variable.default.map(Into::into),
                    description: variable.description.into(),
                })
                .collect(),
        }
    }

    fn calculate(request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        let currency = request.currency.clone();
        let request = rules::Request {
            currency: request.currency,
            date: request.date,
            variables: pairs(request.variables),
            items: request
                .items
                .into_iter()
                .map(|item| rules::Item {
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
                .map(|rate| rules::Rate {
                    base: rate.base,
                    quote: rate.quote,
                    rate: rate.rate,
                    date: rate.date,
                })
                .collect(),
        };
        let priced = rules::price(&request).map_err(|error| match error {
            rules::Error::InvalidInput(message) => CalcError::InvalidInput(message),
            rules::Error::MissingRate(message) => CalcError::MissingRate(message),
            rules::Error::Unsupported(message) => CalcError::Unsupported(message),
            rules::Error::Internal(message) => CalcError::Internal(message),
        })?;
        Ok(QuoteResult {
            currency,
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

export!(Plugin);
