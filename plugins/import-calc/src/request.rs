//! The plain-Rust request and result of the rule set: the WIT records without WebAssembly.
//!
//! Decimals stay text here, as in the contract; `inputs` parses them so that an error can
//! name the field it came from.

/// A quote as the seller's application sent it (mirror of WIT `quote-request`).
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// ISO 4217 code of the quote: the calculation currency C.
    pub currency: String,
    /// The quote date, YYYY-MM-DD.
    pub date: String,
    pub variables: Vec<(String, String)>,
    pub items: Vec<Item>,
    pub rates: Vec<Rate>,
}

/// One position of the quote (mirror of WIT `line-item`).
#[derive(Clone, Debug, Default)]
pub struct Item {
    pub id: String,
    pub sku: String,
    pub name: String,
    /// Units, a positive whole number.
    pub quantity: String,
    /// The supplier's unit price including the supplier country's VAT (`base_price_vat`).
    pub unit_price: String,
    /// ISO 4217 code of `unit_price` (`currency_of_base_price`).
    pub currency: String,
    pub attributes: Vec<(String, String)>,
}

/// 1 `base` costs `rate` `quote` on `date`.
#[derive(Clone, Debug, Default)]
pub struct Rate {
    pub base: String,
    pub quote: String,
    pub rate: String,
    pub date: String,
}

/// The priced quote (mirror of WIT `quote-result`).
#[derive(Clone, Debug)]
pub struct Priced {
    pub currency: String,
    pub lines: Vec<Line>,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
    pub breakdown: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

/// One priced line (mirror of WIT `line-result`).
#[derive(Clone, Debug)]
pub struct Line {
    pub id: String,
    pub unit_price: String,
    pub total: String,
    pub breakdown: Vec<(String, String)>,
}

impl Line {
    /// The breakdown value under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        lookup(&self.breakdown, key)
    }
}

impl Priced {
    /// The quote-level breakdown value under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        lookup(&self.breakdown, key)
    }
}

fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Why a quote could not be priced (mirror of WIT `calc-error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A variable, attribute or item field is wrong; the text names it.
    InvalidInput(String),
    /// A currency pair the calculation needs is not in `rates`; the text names it.
    MissingRate(String),
    /// The request asks for something this rule set does not do.
    Unsupported(String),
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput(message.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Error::MissingRate(m) => write!(f, "missing rate: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
        }
    }
}

impl std::error::Error for Error {}
