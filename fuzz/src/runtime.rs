//! `host/src/runtime/convert.rs`, the checks at the sandbox boundary, with the WIT types
//! it converts. The host generates those with wasmtime's `bindgen!` from `wit/quote.wit`;
//! here they are the same records written out as plain structs (the same names, fields
//! and Rust types `bindgen!` produces), so convert.rs compiles against either, and a
//! change to the contract that convert.rs follows fails to compile here until this
//! copy follows too.

#[path = "../../host/src/runtime/convert.rs"]
#[allow(dead_code)] // `describe` and error conversions: not fuzzed here
mod convert;

pub use bindings::quote::pricing::types as wit;

use crate::contract::{QuoteRequest, QuoteResult};

/// The host's check of a plugin's result against the request it answered.
pub fn quote_result(
    result: wit::QuoteResult,
    request: &QuoteRequest,
    max_bytes: usize,
) -> Result<QuoteResult, String> {
    convert::quote_result(result, request, max_bytes)
}

/// The request as the plugin receives it.
pub fn request(request: &QuoteRequest) -> wit::QuoteRequest {
    convert::request(request)
}

#[allow(dead_code)] // every record of the contract, as bindgen! makes them
mod bindings {
    pub mod quote {
        pub mod pricing {
            pub mod types {
                //! `interface types` of `wit/quote.wit`.

                #[derive(Clone, Debug, PartialEq, Eq)]
                pub struct Field {
                    pub key: String,
                    pub value: String,
                }

                #[derive(Clone, Debug, PartialEq, Eq)]
                pub struct Rate {
                    pub base: String,
                    pub quote: String,
                    pub rate: String,
                    pub date: String,
                }

                #[derive(Clone, Debug, PartialEq, Eq)]
                pub struct LineItem {
                    pub id: String,
                    pub sku: String,
                    pub name: String,
                    pub quantity: String,
                    pub unit_price: String,
                    pub currency: String,
                    pub attributes: Vec<Field>,
                }

                #[derive(Clone, Debug, PartialEq, Eq)]
                pub struct QuoteRequest {
                    pub currency: String,
                    pub date: String,
                    pub variables: Vec<Field>,
                    pub items: Vec<LineItem>,
                    pub rates: Vec<Rate>,
                }

                #[derive(Clone, Debug, PartialEq, Eq)]
                pub struct LineResult {
                    pub id: String,
                    pub unit_price: String,
                    pub total: String,
                    pub breakdown: Vec<Field>,
                }

                #[derive(Clone, Debug, PartialEq, Eq)]
                pub struct QuoteResult {
                    pub currency: String,
                    pub items: Vec<LineResult>,
                    pub subtotal: String,
                    pub tax: String,
                    pub total: String,
                    pub breakdown: Vec<Field>,
                    pub warnings: Vec<String>,
                }

                #[derive(Clone, Copy, Debug, PartialEq, Eq)]
                pub enum ValueKind {
                    Decimal,
                    Integer,
                    Text,
                    Boolean,
                    Date,
                }

                #[derive(Clone, Copy, Debug, PartialEq, Eq)]
                pub enum Scope {
                    Quote,
                    Item,
                    Both,
                }

                #[derive(Clone, Debug, PartialEq, Eq)]
                pub struct VariableSpec {
                    pub name: String,
                    pub kind: ValueKind,
                    pub scope: Scope,
                    pub required: bool,
                    pub default: Option<String>,
                    pub description: String,
                }

                #[derive(Clone, Debug, PartialEq, Eq)]
                pub struct PluginInfo {
                    pub name: String,
                    pub version: String,
                    pub description: String,
                    pub variables: Vec<VariableSpec>,
                }

                #[derive(Clone, Debug, PartialEq, Eq)]
                pub enum CalcError {
                    InvalidInput(String),
                    MissingRate(String),
                    Unsupported(String),
                    Internal(String),
                }
            }
        }
    }
}
