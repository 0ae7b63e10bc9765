//! The largest quantities, unit prices and amounts a calculation may carry
//! (`calculations.max_quantity`, `max_unit_price`, `max_amount`): checked on the request
//! before the plugin runs and on its result before anyone sees or stores it, so stored
//! totals and the dashboard's sums of them stay far inside the range of a decimal.

use crate::contract::{QuoteRequest, QuoteResult, is_decimal};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Longest piece of a refused value quoted back in a message.
const SHOWN_CHARS: usize = 40;

/// The maxima, of absolute values (negative lines such as discounts are bounded alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountLimits {
    /// Of each item's `quantity`.
    pub max_quantity: Decimal,
    /// Of each item's `unit_price`.
    pub max_unit_price: Decimal,
    /// Of every amount of a result: each line's unit price and total, the subtotal, the
    /// tax and the total.
    pub max_amount: Decimal,
}

/// A refused amount, naming the field (`items[2].quantity`, `result.total`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a decimal as the contract writes them.
    #[error(
        "{field} must be a decimal number like 1234.50 (no exponent or separators), not '{shown}'"
    )]
    Malformed { field: String, shown: String },
    /// Beyond its maximum.
    #[error("{field} is {shown}; at most {max} is accepted here (calculations.{setting})")]
    TooLarge {
        field: String,
        shown: String,
        max: Decimal,
        setting: &'static str,
    },
}

impl AmountError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "invalid_amount",
            Self::TooLarge { .. } => "amount_out_of_range",
        }
    }

    /// The refused field.
    pub fn field(&self) -> &str {
        match self {
            Self::Malformed { field, .. } | Self::TooLarge { field, .. } => field,
        }
    }

    /// The maximum that was exceeded, if that was the reason.
    pub fn max(&self) -> Option<Decimal> {
        match self {
            Self::Malformed { .. } => None,
            Self::TooLarge { max, .. } => Some(*max),
        }
    }
}

impl AmountLimits {
    /// Every item's quantity and unit price.
    pub fn check_request(&self, request: &QuoteRequest) -> Result<(), AmountError> {
        for (index, item) in request.items.iter().enumerate() {
            let field = |name: &str| format!("items[{index}].{name}");
            let quantity = (self.max_quantity, "max_quantity");
            bounded(&item.quantity, quantity, || field("quantity"))?;
            let unit_price = (self.max_unit_price, "max_unit_price");
            bounded(&item.unit_price, unit_price, || field("unit_price"))?;
        }
        Ok(())
    }

    /// Every amount of a plugin's result: the quote's totals first, then its lines.
    pub fn check_result(&self, result: &QuoteResult) -> Result<(), AmountError> {
        let max = (self.max_amount, "max_amount");
        for (value, name) in [
            (&result.total, "total"),
            (&result.subtotal, "subtotal"),
            (&result.tax, "tax"),
        ] {
            bounded(value, max, || format!("result.{name}"))?;
        }
        for (index, line) in result.items.iter().enumerate() {
            let field = |name: &str| format!("result.items[{index}].{name}");
            bounded(&line.total, max, || field("total"))?;
            bounded(&line.unit_price, max, || field("unit_price"))?;
        }
        Ok(())
    }
}

/// `text` is a decimal whose absolute value is at most `max`.
fn bounded(
    text: &str,
    (max, setting): (Decimal, &'static str),
    field: impl Fn() -> String,
) -> Result<(), AmountError> {
    let shown = || shorten(text);
    if !is_decimal(text) {
        return Err(AmountError::Malformed {
            field: field(),
            shown: shown(),
        });
    }
    // Beyond a decimal's range does not parse: too large as well.
    match Decimal::from_str(text) {
        Ok(value) if value.abs() <= max => Ok(()),
        _ => Err(AmountError::TooLarge {
            field: field(),
            shown: shown(),
            max,
            setting,
        }),
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::LineItem;

    fn limits() -> AmountLimits {
        AmountLimits {
            max_quantity: Decimal::from(1000),
            max_unit_price: Decimal::from(50),
            max_amount: Decimal::from(50_000),
        }
    }

    fn request(quantity: &str, unit_price: &str) -> QuoteRequest {
        QuoteRequest {
            currency: "RUB".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            variables: Default::default(),
            items: vec![LineItem {
                id: "1".into(),
                sku: "A".into(),
                name: String::new(),
                quantity: quantity.into(),
                unit_price: unit_price.into(),
                currency: "RUB".into(),
                attributes: Default::default(),
            }],
            rates: Vec::new(),
        }
    }

    #[test]
    fn inputs_at_the_maxima_pass_and_beyond_them_name_the_field() {
        let limits = limits();
        assert_eq!(limits.check_request(&request("1000", "-50.00")), Ok(()));
        let over = limits
            .check_request(&request("1000.0001", "1"))
            .unwrap_err();
        assert_eq!(
            (over.code(), over.field()),
            ("amount_out_of_range", "items[0].quantity")
        );
        let over = limits.check_request(&request("1", "-50.01")).unwrap_err();
        assert_eq!(over.field(), "items[0].unit_price");
        let huge = "9".repeat(100);
        let over = limits.check_request(&request(&huge, "1")).unwrap_err();
        assert_eq!(over.code(), "amount_out_of_range");
        assert!(over.to_string().len() < 200, "{over}");
        let malformed = limits.check_request(&request("1e5", "1")).unwrap_err();
        assert_eq!(
            (malformed.code(), malformed.field()),
            ("invalid_amount", "items[0].quantity")
        );
    }
}
