//! The document model: what a quote document shows, built from a stored quote, its
//! organization and that organization's branding. The PDF and XLSX writers read only
//! this, never the stored JSON.

use crate::config::DocumentConfig;
use crate::contract::{QuoteRequest, QuoteResult};
use crate::store::{Branding, Quote, QuoteStatus};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

/// Everything a quote document shows.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteDocument {
    /// The selling organization.
    pub organization: String,
    /// `Q-2026-000123`.
    pub number: String,
    /// The quote's title, if it has one.
    pub title: Option<String>,
    /// The quote date (its rates are of this day).
    pub date: NaiveDate,
    pub status: QuoteStatus,
    /// ISO code of every amount.
    pub currency: String,
    /// In the order of the request.
    pub lines: Vec<DocumentLine>,
    /// The breakdown fields of the lines, in order of first appearance.
    pub breakdown_columns: Vec<String>,
    pub subtotal: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
    /// The plugin's warnings.
    pub warnings: Vec<String>,
    /// The organization's footer text.
    pub footer_text: Option<String>,
    /// The organization's logo, a checked PNG.
    pub logo_png: Option<Vec<u8>>,
}

/// One line of a quote document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentLine {
    /// The line id of the request ("1", "2", ... unless the client chose its own).
    pub id: String,
    pub sku: String,
    pub name: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub total: Decimal,
    /// One value per [`QuoteDocument::breakdown_columns`] entry; `None` where this line
    /// has no such field.
    pub breakdown: Vec<Option<String>>,
}

/// Why a quote gets no document.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    #[error("the quote has {lines} lines; documents are made for at most {max}")]
    TooManyLines { lines: usize, max: usize },
    #[error(
        "the quote's lines have {columns} distinct breakdown fields; documents show at most {max}"
    )]
    TooManyBreakdownColumns { columns: usize, max: usize },
    /// The stored request or result does not read back (a bug or a damaged row).
    #[error("the stored quote cannot be read: {0}")]
    Unreadable(String),
}

/// Refuses, before any work, a quote with more lines than documents are made for.
pub fn check_line_count(quote: &Quote, limits: &DocumentConfig) -> Result<(), ModelError> {
    let lines = quote.result["items"].as_array().map_or(0, Vec::len);
    match lines > limits.max_lines {
        true => Err(ModelError::TooManyLines {
            lines,
            max: limits.max_lines,
        }),
        false => Ok(()),
    }
}

impl QuoteDocument {
    /// The document of `quote`, sold by `organization`, with its `branding`.
    pub fn build(
        quote: &Quote,
        organization: &str,
        branding: Option<Branding>,
        limits: &DocumentConfig,
    ) -> Result<Self, ModelError> {
        check_line_count(quote, limits)?;
        let request: QuoteRequest = serde_json::from_value(quote.request.clone())
            .map_err(|error| ModelError::Unreadable(format!("request: {error}")))?;
        let result: QuoteResult = serde_json::from_value(quote.result.clone())
            .map_err(|error| ModelError::Unreadable(format!("result: {error}")))?;
        let breakdown_columns = breakdown_columns(&result, limits.max_breakdown_columns)?;
        let column_of: HashMap<&str, usize> = breakdown_columns
            .iter()
            .enumerate()
            .map(|(index, name)| (name.as_str(), index))
            .collect();
        let items: HashMap<&str, _> = request
            .items
            .iter()
            .map(|item| (item.id.as_str(), item))
            .collect();
        let mut lines = Vec::with_capacity(result.items.len());
        for priced in &result.items {
            let item = items.get(priced.id.as_str()).ok_or_else(|| {
                ModelError::Unreadable(format!("result line {} has no request item", priced.id))
            })?;
            let mut breakdown = vec![None; breakdown_columns.len()];
            for (key, value) in &priced.breakdown {
                breakdown[column_of[key.as_str()]] = Some(field_text(value));
            }
            lines.push(DocumentLine {
                id: priced.id.clone(),
                sku: item.sku.clone(),
                name: item.name.clone(),
                quantity: decimal(&item.quantity, "quantity")?,
                unit_price: decimal(&priced.unit_price, "unit_price")?,
                total: decimal(&priced.total, "total")?,
                breakdown,
            });
        }
        let (footer_text, logo_png) = branding.map_or((None, None), |branding| {
            (branding.footer_text, branding.logo_png)
        });
        Ok(Self {
            organization: organization.to_owned(),
            number: quote.number.clone(),
            title: quote.title.clone(),
            date: request.date,
            status: quote.status,
            currency: quote.currency.clone(),
            lines,
            breakdown_columns,
            subtotal: quote.subtotal,
            tax: quote.tax,
            total: quote.total,
            warnings: result.warnings,
            footer_text,
            logo_png,
        })
    }
}

/// Every breakdown field name of the lines, in order of first appearance.
fn breakdown_columns(result: &QuoteResult, max: usize) -> Result<Vec<String>, ModelError> {
    let mut columns: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in &result.items {
        for key in line.breakdown.keys() {
            if seen.insert(key.as_str()) {
                columns.push(key.clone());
            }
        }
    }
    match columns.len() > max {
        true => Err(ModelError::TooManyBreakdownColumns {
            columns: columns.len(),
            max,
        }),
        false => Ok(columns),
    }
}

fn decimal(text: &str, field: &str) -> Result<Decimal, ModelError> {
    Decimal::from_str(text)
        .map_err(|error| ModelError::Unreadable(format!("{field} '{text}': {error}")))
}

/// A breakdown value as text: strings as they are, anything else as JSON.
fn field_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `12345678.50` as `12 345 678.50`: digits grouped by three with a space, the scale
/// kept. Used where a document shows an amount as text.
pub fn grouped(amount: &Decimal) -> String {
    let text = amount.to_string();
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let mut out = String::from(sign);
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_by_thousands_keeping_their_scale() {
        let cases = [
            ("0", "0"),
            ("999.5", "999.5"),
            ("1000", "1 000"),
            ("72395.93", "72 395.93"),
            ("-1234567.000", "-1 234 567.000"),
        ];
        for (text, shown) in cases {
            assert_eq!(grouped(&Decimal::from_str(text).unwrap()), shown);
        }
    }
}
