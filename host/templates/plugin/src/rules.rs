//! The pricing rules of {{name}}, in plain Rust: nothing here knows about WebAssembly,
//! so `cargo test` runs them natively. This is the file to change.
//!
//! The worked example prices each line as
//!
//! ```text
//! unit price = list price × exchange rate × (100 − discount_percent) / 100
//!                                         × (100 + markup_percent) / 100, rounded to cents
//! line total = unit price × quantity;  subtotal = Σ line totals;  no tax;  total = subtotal
//! ```
//!
//! where `markup_percent` is a quote variable and `discount_percent` an item attribute.
//! Rates may be given either way round (USD->RUB or RUB->USD); a missing one is an error.

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// The plugin's name, as `describe` reports it.
pub const NAME: &str = "{{name}}";
pub const DESCRIPTION: &str = "Converts item prices into the quote currency, takes off the \
                               item's discount and adds the quote's markup.";

/// Every variable the rules read; the server refuses a request that sets any other.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "markup_percent",
        kind: Kind::Decimal,
        scope: Scope::Quote,
        default: Some("0"),
        description: "Markup on every line, in percent.",
    },
    Variable {
        name: "discount_percent",
        kind: Kind::Decimal,
        scope: Scope::Item,
        default: Some("0"),
        description: "Discount off this item's list price, in percent (an item attribute).",
    },
];

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// Prices every item and sums the quote.
pub fn price(request: &Request) -> Result<Priced, Error> {
    let markup_percent = decimal(
        variable(&request.variables, "markup_percent"),
        "variables.markup_percent",
    )?;
    let mut lines = Vec::with_capacity(request.items.len());
    let mut subtotal = Decimal::ZERO;
    for (index, item) in request.items.iter().enumerate() {
        let field = |name: &str| format!("items[{index}].{name}");
        let quantity = decimal(&item.quantity, &field("quantity"))?;
        if quantity <= Decimal::ZERO {
            return Err(Error::InvalidInput(format!(
                "{} must be positive",
                field("quantity")
            )));
        }
        let list_price = decimal(&item.unit_price, &field("unit_price"))?;
        let discount_percent = decimal(
            variable(&item.attributes, "discount_percent"),
            &field("attributes.discount_percent"),
        )?;
        if !(Decimal::ZERO..=HUNDRED).contains(&discount_percent) {
            return Err(Error::InvalidInput(format!(
                "{} must be between 0 and 100",
                field("attributes.discount_percent")
            )));
        }
        let rate = exchange_rate(&request.rates, &item.currency, &request.currency)?;

        let discounted = list_price * rate * (HUNDRED - discount_percent) / HUNDRED;
        let unit_price = cents(discounted * (HUNDRED + markup_percent) / HUNDRED);
        let total = cents(unit_price * quantity);
        subtotal += total;
        lines.push(Line {
            id: item.id.clone(),
            unit_price: money(unit_price),
            total: money(total),
            breakdown: vec![
                ("exchange_rate".into(), rate.normalize().to_string()),
                (
                    "discount_percent".into(),
                    discount_percent.normalize().to_string(),
                ),
            ],
        });
    }
    Ok(Priced {
        lines,
        subtotal: money(subtotal),
        tax: money(Decimal::ZERO),
        total: money(subtotal),
        breakdown: vec![(
            "markup_percent".into(),
            markup_percent.normalize().to_string(),
        )],
        warnings: Vec::new(),
    })
}

/// Units of `to` per 1 `from`, from a direct or an inverse rate.
fn exchange_rate(rates: &[Rate], from: &str, to: &str) -> Result<Decimal, Error> {
    if from == to {
        return Ok(Decimal::ONE);
    }
    for rate in rates {
        let value = || decimal(&rate.rate, &format!("rates[{}->{}]", rate.base, rate.quote));
        if rate.base == from && rate.quote == to {
            return value();
        }
        if rate.base == to && rate.quote == from {
            let value = value()?;
            if value.is_zero() {
                return Err(Error::InvalidInput(format!(
                    "rate {}->{} is zero",
                    rate.base, rate.quote
                )));
            }
            return Ok(Decimal::ONE / value);
        }
    }
    Err(Error::MissingRate(format!("{from}->{to}")))
}

/// The value set in `pairs` (the quote's variables or an item's attributes), else the
/// variable's default.
fn variable<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .or_else(|| {
            VARIABLES
                .iter()
                .find(|variable| variable.name == name)
                .and_then(|variable| variable.default)
        })
        .unwrap_or("")
}

fn decimal(text: &str, field: &str) -> Result<Decimal, Error> {
    Decimal::from_str(text.trim())
        .map_err(|_| Error::InvalidInput(format!("{field}: '{text}' is not a decimal number")))
}

/// Rounds half away from zero to 2 places. Currencies without cents (JPY) or with three
/// places (KWD) need their own minor unit here.
fn cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Fixed-point text with exactly 2 places ("12.50", not "12.5").
fn money(value: Decimal) -> String {
    let mut value = cents(value);
    value.rescale(2);
    value.to_string()
}

/// A quote as the rules see it: decimals are still text, parsed here so a bad value is
/// reported with the field it came from.
pub struct Request {
    /// ISO 4217 code the quote is priced in.
    pub currency: String,
    /// The quote date, YYYY-MM-DD.
    pub date: String,
    pub variables: Vec<(String, String)>,
    pub items: Vec<Item>,
    pub rates: Vec<Rate>,
}

pub struct Item {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub quantity: String,
    pub unit_price: String,
    /// ISO 4217 code of `unit_price`.
    pub currency: String,
    pub attributes: Vec<(String, String)>,
}

/// 1 `base` costs `rate` `quote` on `date`.
pub struct Rate {
    pub base: String,
    pub quote: String,
    pub rate: String,
    pub date: String,
}

/// The priced quote, in the request's currency; one line per item, in the same order.
pub struct Priced {
    pub lines: Vec<Line>,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
    pub breakdown: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

pub struct Line {
    pub id: String,
    pub unit_price: String,
    pub total: String,
    pub breakdown: Vec<(String, String)>,
}

/// Why a quote cannot be priced; the text names the field or the currency pair.
#[derive(Debug, PartialEq)]
pub enum Error {
    InvalidInput(String),
    MissingRate(String),
    Unsupported(String),
    Internal(String),
}

/// A variable the rules read. Without a default it is required.
pub struct Variable {
    pub name: &'static str,
    pub kind: Kind,
    pub scope: Scope,
    pub default: Option<&'static str>,
    pub description: &'static str,
}

pub enum Kind {
    Decimal,
    Integer,
    Text,
    Boolean,
    Date,
}

/// Where a variable is set: on the quote, on an item's attributes, or both (the item's
/// value then wins).
pub enum Scope {
    Quote,
    Item,
    Both,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    fn item(id: &str, quantity: &str, unit_price: &str, currency: &str) -> Item {
        Item {
            id: id.into(),
            sku: format!("SKU-{id}"),
            name: format!("Item {id}"),
            quantity: quantity.into(),
            unit_price: unit_price.into(),
            currency: currency.into(),
            attributes: Vec::new(),
        }
    }

    /// The request of `sample-request.json`.
    fn sample_request() -> Request {
        let mut seal_kit = item("2", "120", "410.00", "RUB");
        seal_kit.attributes = pairs(&[("discount_percent", "5")]);
        Request {
            currency: "RUB".into(),
            date: "2026-11-29".into(),
            variables: pairs(&[("markup_percent", "10")]),
            items: vec![item("1", "3", "19.99", "USD"), seal_kit],
            rates: vec![Rate {
                base: "USD".into(),
                quote: "RUB".into(),
                rate: "92.5".into(),
                date: "2026-11-28".into(),
            }],
        }
    }

    #[test]
    fn prices_the_worked_example() {
        let priced = price(&sample_request()).unwrap();
        // 19.99 USD × 92.5 = 1849.075 RUB; no discount; +10% = 2033.9825 -> 2033.98; × 3
        assert_eq!(priced.lines[0].unit_price, "2033.98");
        assert_eq!(priced.lines[0].total, "6101.94");
        // 410.00 RUB −5% = 389.50; +10% = 428.45; × 120
        assert_eq!(priced.lines[1].unit_price, "428.45");
        assert_eq!(priced.lines[1].total, "51414.00");
        assert_eq!(priced.subtotal, "57515.94");
        assert_eq!(priced.tax, "0.00");
        assert_eq!(priced.total, "57515.94");
    }

    #[test]
    fn a_missing_rate_and_a_bad_attribute_are_named() {
        let mut request = sample_request();
        request.rates.clear();
        assert_eq!(
            price(&request).err(),
            Some(Error::MissingRate("USD->RUB".into()))
        );
        let mut request = sample_request();
        request.items[1].attributes = pairs(&[("discount_percent", "lots")]);
        assert_eq!(
            price(&request).err(),
            Some(Error::InvalidInput(
                "items[1].attributes.discount_percent: 'lots' is not a decimal number".into()
            ))
        );
    }
}
