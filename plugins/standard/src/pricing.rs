//! The standard pricing rules, in plain Rust: conversion through the request's rates,
//! quantity-tier discounts, markup, VAT and rounding to the currency's minor unit.
//!
//! To write your own rule set, copy this crate and change this file.

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// A quote as the rules see it: decimals are still text, parsed here so a bad value
/// can be reported with the field it came from.
pub struct Request {
    pub currency: String,
    pub variables: Vec<(String, String)>,
    pub items: Vec<Item>,
    pub rates: Vec<Rate>,
}

pub struct Item {
    pub id: String,
    pub quantity: String,
    pub unit_price: String,
    pub currency: String,
    pub attributes: Vec<(String, String)>,
}

/// 1 `base` costs `rate` `quote`.
pub struct Rate {
    pub base: String,
    pub quote: String,
    pub rate: String,
}

pub struct Priced {
    pub currency: String,
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

#[derive(Debug, PartialEq)]
pub enum Error {
    InvalidInput(String),
    MissingRate(String),
}

pub enum Kind {
    Decimal,
    Text,
}

/// A variable the rules read. `per_item` ones may also be set as an item attribute,
/// which then wins over the quote's value.
pub struct Variable {
    pub name: &'static str,
    pub kind: Kind,
    pub per_item: bool,
    pub default: &'static str,
    pub description: &'static str,
}

pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "markup_percent",
        kind: Kind::Decimal,
        per_item: true,
        default: "0",
        description: "Markup added to the converted, discounted price, in percent.",
    },
    Variable {
        name: "discount_tiers",
        kind: Kind::Text,
        per_item: true,
        default: "",
        description: "Quantity tiers as 'min_quantity:percent' pairs separated by commas, \
                      e.g. '10:5,100:12': from 10 units 5% off, from 100 units 12% off.",
    },
    Variable {
        name: "vat_percent",
        kind: Kind::Decimal,
        per_item: false,
        default: "20",
        description: "VAT charged on the subtotal, in percent.",
    },
];

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// Prices every item and sums the quote.
pub fn price(request: &Request) -> Result<Priced, Error> {
    let minor_unit = minor_unit(&request.currency);
    let vat_percent = decimal_variable(&request.variables, "vat_percent", "variables")?;
    let mut lines = Vec::with_capacity(request.items.len());
    let mut subtotal = Decimal::ZERO;
    for (index, item) in request.items.iter().enumerate() {
        let line = price_item(request, item, index, minor_unit)?;
        subtotal += line.1;
        lines.push(line.0);
    }
    let tax = round(subtotal * vat_percent / HUNDRED, minor_unit);
    Ok(Priced {
        currency: request.currency.clone(),
        lines,
        subtotal: money(subtotal, minor_unit),
        tax: money(tax, minor_unit),
        total: money(subtotal + tax, minor_unit),
        breakdown: vec![("vat_percent".into(), vat_percent.normalize().to_string())],
        warnings: Vec::new(),
    })
}

fn price_item(
    request: &Request,
    item: &Item,
    index: usize,
    minor_unit: u32,
) -> Result<(Line, Decimal), Error> {
    let field = |name: &str| format!("items[{index}].{name}");
    let quantity = parse(&item.quantity, &field("quantity"))?;
    if quantity <= Decimal::ZERO {
        return Err(Error::InvalidInput(format!(
            "{} must be positive",
            field("quantity")
        )));
    }
    let list_price = parse(&item.unit_price, &field("unit_price"))?;
    if list_price < Decimal::ZERO {
        return Err(Error::InvalidInput(format!(
            "{} must not be negative",
            field("unit_price")
        )));
    }
    let scope = format!("items[{index}].attributes");
    let markup_percent = item_decimal(request, item, "markup_percent", &scope)?;
    let tiers = item_text(request, item, "discount_tiers");
    let discount_percent = tier_discount(tiers, quantity, &scope)?;
    let rate = exchange_rate(&request.rates, &item.currency, &request.currency)?;

    let converted = list_price * rate;
    let discounted = converted * (HUNDRED - discount_percent) / HUNDRED;
    let unit_price = round(
        discounted * (HUNDRED + markup_percent) / HUNDRED,
        minor_unit,
    );
    let total = round(unit_price * quantity, minor_unit);
    let line = Line {
        id: item.id.clone(),
        unit_price: money(unit_price, minor_unit),
        total: money(total, minor_unit),
        breakdown: vec![
            ("exchange_rate".into(), rate.normalize().to_string()),
            (
                "converted_unit_price".into(),
                money(round(converted, minor_unit + 2), minor_unit + 2),
            ),
            (
                "discount_percent".into(),
                discount_percent.normalize().to_string(),
            ),
            (
                "markup_percent".into(),
                markup_percent.normalize().to_string(),
            ),
        ],
    };
    Ok((line, total))
}

/// Units of `to` per 1 `from`: direct, inverse, or across one shared currency.
pub fn exchange_rate(rates: &[Rate], from: &str, to: &str) -> Result<Decimal, Error> {
    if from == to {
        return Ok(Decimal::ONE);
    }
    if let Some(rate) = direct_rate(rates, from, to)? {
        return Ok(rate);
    }
    for pivot in rates.iter().flat_map(|rate| [&rate.base, &rate.quote]) {
        if pivot == from || pivot == to {
            continue;
        }
        if let (Some(first), Some(second)) = (
            direct_rate(rates, from, pivot)?,
            direct_rate(rates, pivot, to)?,
        ) {
            return Ok(first * second);
        }
    }
    Err(Error::MissingRate(format!("{from}->{to}")))
}

fn direct_rate(rates: &[Rate], from: &str, to: &str) -> Result<Option<Decimal>, Error> {
    for rate in rates {
        let value = || parse(&rate.rate, &format!("rates[{}->{}]", rate.base, rate.quote));
        if rate.base == from && rate.quote == to {
            return Ok(Some(value()?));
        }
        if rate.base == to && rate.quote == from {
            let value = value()?;
            if value.is_zero() {
                return Err(Error::InvalidInput(format!(
                    "rate {}->{} is zero",
                    rate.base, rate.quote
                )));
            }
            return Ok(Some(Decimal::ONE / value));
        }
    }
    Ok(None)
}

/// The discount of the highest tier whose minimum the quantity reaches.
fn tier_discount(tiers: &str, quantity: Decimal, scope: &str) -> Result<Decimal, Error> {
    let mut best: Option<(Decimal, Decimal)> = None;
    for tier in tiers
        .split(',')
        .map(str::trim)
        .filter(|tier| !tier.is_empty())
    {
        let bad = || {
            Error::InvalidInput(format!(
                "{scope}.discount_tiers: '{tier}' is not 'min_quantity:percent'"
            ))
        };
        let (minimum, percent) = tier.split_once(':').ok_or_else(bad)?;
        let minimum = Decimal::from_str(minimum.trim()).map_err(|_| bad())?;
        let percent = Decimal::from_str(percent.trim()).map_err(|_| bad())?;
        if !(Decimal::ZERO..=HUNDRED).contains(&percent) {
            return Err(bad());
        }
        if quantity >= minimum && best.is_none_or(|(best_minimum, _)| minimum > best_minimum) {
            best = Some((minimum, percent));
        }
    }
    Ok(best.map_or(Decimal::ZERO, |(_, percent)| percent))
}

fn item_text<'a>(request: &'a Request, item: &'a Item, name: &str) -> &'a str {
    lookup(&item.attributes, name)
        .or_else(|| lookup(&request.variables, name))
        .unwrap_or_else(|| default_of(name))
}

fn item_decimal(request: &Request, item: &Item, name: &str, scope: &str) -> Result<Decimal, Error> {
    match lookup(&item.attributes, name) {
        Some(value) => parse(value, &format!("{scope}.{name}")),
        None => decimal_variable(&request.variables, name, "variables"),
    }
}

fn decimal_variable(
    variables: &[(String, String)],
    name: &str,
    scope: &str,
) -> Result<Decimal, Error> {
    parse(
        lookup(variables, name).unwrap_or_else(|| default_of(name)),
        &format!("{scope}.{name}"),
    )
}

fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn default_of(name: &str) -> &'static str {
    VARIABLES
        .iter()
        .find(|variable| variable.name == name)
        .map_or("", |variable| variable.default)
}

fn parse(text: &str, field: &str) -> Result<Decimal, Error> {
    Decimal::from_str(text.trim())
        .map_err(|_| Error::InvalidInput(format!("{field}: '{text}' is not a decimal number")))
}

/// Digits after the point in the currency's minor unit (ISO 4217).
pub fn minor_unit(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

fn round(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

/// Fixed-point text with exactly `places` digits after the point ("12.50", not "12.5").
fn money(value: Decimal, places: u32) -> String {
    let mut value = round(value, places);
    value.rescale(places);
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(quantity: &str, unit_price: &str, currency: &str) -> Item {
        Item {
            id: "1".into(),
            quantity: quantity.into(),
            unit_price: unit_price.into(),
            currency: currency.into(),
            attributes: Vec::new(),
        }
    }

    fn rate(base: &str, quote: &str, rate: &str) -> Rate {
        Rate {
            base: base.into(),
            quote: quote.into(),
            rate: rate.into(),
        }
    }

    fn request(items: Vec<Item>, variables: &[(&str, &str)]) -> Request {
        Request {
            currency: "RUB".into(),
            variables: variables
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            items,
            rates: vec![rate("USD", "RUB", "92.5"), rate("EUR", "RUB", "100")],
        }
    }

    #[test]
    fn converts_discounts_marks_up_and_taxes() {
        let variables = [("markup_percent", "10"), ("discount_tiers", "5:2,10:5")];
        let priced = price(&request(vec![item("10", "19.99", "USD")], &variables)).unwrap();
        // 19.99 * 92.5 = 1849.075; -5% = 1756.62125; +10% = 1932.283375 -> 1932.28
        assert_eq!(priced.lines[0].unit_price, "1932.28");
        assert_eq!(priced.subtotal, "19322.80");
        assert_eq!(priced.tax, "3864.56");
        assert_eq!(priced.total, "23187.36");
    }

    #[test]
    fn cross_rate_goes_through_a_shared_currency() {
        let rates = [rate("USD", "RUB", "90"), rate("EUR", "RUB", "100")];
        assert_eq!(
            exchange_rate(&rates, "EUR", "USD")
                .unwrap()
                .round_dp(6)
                .to_string(),
            "1.111111"
        );
        assert_eq!(
            exchange_rate(&rates, "USD", "CNY"),
            Err(Error::MissingRate("USD->CNY".into()))
        );
    }

    #[test]
    fn item_attribute_overrides_quote_variable() {
        let mut special = item("1", "100", "RUB");
        special
            .attributes
            .push(("markup_percent".into(), "50".into()));
        let priced = price(&request(
            vec![item("1", "100", "RUB"), special],
            &[("markup_percent", "10")],
        ))
        .unwrap();
        assert_eq!(priced.lines[0].unit_price, "110.00");
        assert_eq!(priced.lines[1].unit_price, "150.00");
    }

    #[test]
    fn bad_input_names_the_field() {
        let error = price(&request(vec![item("0", "1", "RUB")], &[]))
            .err()
            .unwrap();
        assert_eq!(
            error,
            Error::InvalidInput("items[0].quantity must be positive".into())
        );
        let error = price(&request(vec![item("1", "abc", "RUB")], &[]))
            .err()
            .unwrap();
        assert_eq!(
            error,
            Error::InvalidInput("items[0].unit_price: 'abc' is not a decimal number".into())
        );
    }
}
