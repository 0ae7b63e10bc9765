//! The plugin contract (`wit/quote.wit`) as host-side serde types: what the HTTP API,
//! the CLI harness and storage speak. The runtime converts them to and from the
//! generated WIT bindings at the sandbox boundary.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A decimal number as text ("1234.50"): the contract never carries floats.
pub type DecimalText = String;

/// One position of a quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    /// Stable id of the line; the host numbers lines "1", "2", ... when it is absent.
    #[serde(default)]
    pub id: String,
    pub sku: String,
    #[serde(default)]
    pub name: String,
    pub quantity: DecimalText,
    pub unit_price: DecimalText,
    /// ISO 4217 code of `unit_price`.
    pub currency: String,
    /// Per-item values of the plugin's item-scoped variables.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// 1 unit of `base` costs `rate` units of `quote` on `date`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub base: String,
    pub quote: String,
    pub rate: DecimalText,
    #[serde(deserialize_with = "iso_date::required")]
    pub date: NaiveDate,
}

/// Everything a calculation reads; exactly what the plugin receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub currency: String,
    #[serde(deserialize_with = "iso_date::required")]
    pub date: NaiveDate,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    pub items: Vec<LineItem>,
    #[serde(default)]
    pub rates: Vec<Rate>,
}

/// A calculation as a client writes it (the HTTP body, `plugin run --input`):
/// the date defaults to today, item ids to their position, and `rates` may only be
/// given to the CLI harness (the server supplies its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalculationInput {
    /// ISO 4217 code the quote is priced in.
    pub currency: String,
    /// The quote date; rates are taken as of this day. Default: today (UTC).
    #[serde(default, deserialize_with = "iso_date::optional")]
    pub date: Option<NaiveDate>,
    /// "name" or "name@version"; default: the organization's active plugin.
    #[serde(default)]
    pub plugin: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    pub items: Vec<LineItem>,
    /// Only for the CLI harness; the server rejects it and supplies stored rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<Vec<Rate>>,
}

impl CalculationInput {
    /// The request a plugin receives: ids filled in ("1", "2", ...) and checked unique.
    pub fn into_request(self, today: NaiveDate, rates: Vec<Rate>) -> Result<QuoteRequest, String> {
        let mut items = self.items;
        let mut seen = std::collections::HashSet::new();
        for (index, item) in items.iter_mut().enumerate() {
            if item.id.is_empty() {
                item.id = (index + 1).to_string();
            }
            if !seen.insert(item.id.clone()) {
                return Err(format!(
                    "items[{index}].id '{}' is used by another item",
                    item.id
                ));
            }
        }
        Ok(QuoteRequest {
            currency: self.currency,
            date: self.date.unwrap_or(today),
            variables: self.variables,
            items,
            rates,
        })
    }
}

/// Dates as the contract spells them, `YYYY-MM-DD`: chrono alone also reads a signed or
/// five-digit year ("-026-11-29"), which the plugin would then receive as "-0026-11-29".
mod iso_date {
    use chrono::NaiveDate;
    use serde::de::{Deserialize, Deserializer, Error};

    pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        parse(&String::deserialize(deserializer)?).map_err(D::Error::custom)
    }

    pub fn optional<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        (Option::<String>::deserialize(deserializer)?)
            .map(|text| parse(&text).map_err(D::Error::custom))
            .transpose()
    }

    fn parse(text: &str) -> Result<NaiveDate, String> {
        match super::is_date(text) {
            true => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| e.to_string()),
            false => Err(format!(
                "'{}' is not a date as YYYY-MM-DD",
                super::truncate(text, 40)
            )),
        }
    }
}

/// A priced line; `breakdown` keeps the plugin's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineResult {
    pub id: String,
    pub unit_price: DecimalText,
    pub total: DecimalText,
    #[schema(value_type = Object)]
    pub breakdown: Breakdown,
}

/// A priced quote as the plugin returned it, after the host validated it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuoteResult {
    pub currency: String,
    pub items: Vec<LineResult>,
    pub subtotal: DecimalText,
    pub tax: DecimalText,
    pub total: DecimalText,
    #[schema(value_type = Object)]
    pub breakdown: Breakdown,
    pub warnings: Vec<String>,
}

/// Named values in the order the plugin produced them (a JSON object).
pub type Breakdown = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Decimal,
    Integer,
    Text,
    Boolean,
    Date,
}

/// Where a variable may be set; an item attribute overrides the quote variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Quote,
    Item,
    Both,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VariableSpec {
    pub name: String,
    pub kind: ValueKind,
    pub scope: Scope,
    pub required: bool,
    pub default: Option<String>,
    pub description: String,
}

/// What a plugin says about itself (`describe`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub variables: Vec<VariableSpec>,
}

/// The plugin's own refusal to price a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum CalcError {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("missing rate: {0}")]
    MissingRate(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("internal plugin error: {0}")]
    Internal(String),
}

/// Checks that `text` is a value of `kind` as the contract spells it: decimals as
/// `-?digits[.digits]` (no exponent, no separators), integers as `-?digits`,
/// booleans as `true`/`false`, dates as `YYYY-MM-DD`.
pub fn check_value(kind: ValueKind, text: &str) -> Result<(), String> {
    let ok = match kind {
        ValueKind::Text => true,
        ValueKind::Decimal => {
            is_decimal(text) && rust_decimal::Decimal::from_str_exact(text).is_ok()
        }
        ValueKind::Integer => {
            let digits = text.strip_prefix('-').unwrap_or(text);
            !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && text.parse::<i64>().is_ok()
        }
        ValueKind::Boolean => matches!(text, "true" | "false"),
        ValueKind::Date => is_date(text),
    };
    match ok {
        true => Ok(()),
        false => Err(format!(
            "'{}' is not {}",
            truncate(text, 40),
            kind.described()
        )),
    }
}

/// `YYYY-MM-DD` exactly: chrono's `%Y` alone also reads a signed year ("+026-12-01").
fn is_date(text: &str) -> bool {
    let shape = text.len() == 10
        && (text.bytes().enumerate()).all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    shape && NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// `-?digits[.digits]`: the contract's decimal syntax (no exponent, plus sign or separators).
pub(crate) fn is_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

impl ValueKind {
    fn described(self) -> &'static str {
        match self {
            ValueKind::Decimal => "a decimal number like 1234.50 (no exponent or separators)",
            ValueKind::Integer => "a whole number",
            ValueKind::Text => "text",
            ValueKind::Boolean => "true or false",
            ValueKind::Date => "a date as YYYY-MM-DD",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_by_kind() {
        for good in ["0", "-1.5", "1234.50", "0.0000000001"] {
            assert!(check_value(ValueKind::Decimal, good).is_ok(), "{good}");
        }
        for bad in ["", "1e5", "12,50", "NaN", ".5", "5.", "+1", " 1", "1_000"] {
            assert!(check_value(ValueKind::Decimal, bad).is_err(), "{bad}");
        }
        assert!(check_value(ValueKind::Integer, "-42").is_ok());
        assert!(check_value(ValueKind::Integer, "4.2").is_err());
        assert!(check_value(ValueKind::Boolean, "yes").is_err());
        assert!(check_value(ValueKind::Date, "2026-11-29").is_ok());
        assert!(check_value(ValueKind::Date, "29.11.2026").is_err());
    }

    /// Found by the `calculation_input` fuzz target: a signed year has the length of a date.
    #[test]
    fn dates_are_exactly_four_two_two_digits() {
        for bad in [
            "+026-12-01",
            "-026-12-01",
            "2026-02-30",
            "2026-1-011",
            "20261-1-01",
        ] {
            assert!(check_value(ValueKind::Date, bad).is_err(), "{bad}");
        }
        assert!(check_value(ValueKind::Date, "0026-12-01").is_ok());
    }

    /// Found by the `calculation_input` fuzz target: the plugin received "-0026-11-29".
    #[test]
    fn request_dates_are_contract_dates() {
        let input = |date: &str| {
            let body = format!(r#"{{"currency":"RUB","date":"{date}","items":[]}}"#);
            serde_json::from_str::<CalculationInput>(&body)
        };
        for bad in ["-026-11-29", "+2026-11-29", "+10000-01-01", "2026-1-29"] {
            let error = input(bad).unwrap_err().to_string();
            assert!(error.contains("YYYY-MM-DD"), "{bad}: {error}");
        }
        let good = input("2026-11-29").unwrap();
        assert_eq!(good.date, NaiveDate::from_ymd_opt(2026, 11, 29));
        let no_date = r#"{"currency":"RUB","date":null,"items":[]}"#;
        assert_eq!(
            serde_json::from_str::<CalculationInput>(no_date)
                .unwrap()
                .date,
            None
        );
        let rate = r#"{"base":"USD","quote":"RUB","rate":"1","date":"-001-01-01"}"#;
        assert!(serde_json::from_str::<Rate>(rate).is_err());
    }
}
