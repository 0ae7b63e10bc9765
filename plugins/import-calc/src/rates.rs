//! Exchange rates: how an item's purchase price becomes an amount in the quote currency.
//!
//! The specification divides the price by `Q` = purchase-currency units per 1 unit of the
//! quote currency C (`R = R4(P / Q)`). A rate record `{base, quote, rate}` means
//! 1 base = rate quote, so `Q` is the record `{base: C, quote: purchase, rate: Q}`.
//! The inverse record `{base: purchase, quote: C, rate: r}` (1/Q) is used as a
//! multiplier, `R = R4(P × r)`, so no rounded reciprocal enters the result; failing both,
//! a cross rate through one shared currency is used.

use crate::request::{Error, Rate};
use crate::values::parse_decimal;
use rust_decimal::Decimal;

/// `R = R4(P × factor / divisor)`; the specification's `Q` is `divisor / factor`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversion {
    pub factor: Decimal,
    pub divisor: Decimal,
}

impl Conversion {
    /// A plain divisor `Q` (the workbook's column Q).
    pub fn divide_by(q: Decimal) -> Self {
        Conversion {
            factor: Decimal::ONE,
            divisor: q,
        }
    }

    /// `Q`: purchase-currency units per 1 unit of the quote currency.
    pub fn q(&self) -> Option<Decimal> {
        self.divisor.checked_div(self.factor)
    }

    /// `P × factor / divisor`, or `None` on overflow.
    pub fn apply(&self, price: Decimal) -> Option<Decimal> {
        price.checked_mul(self.factor)?.checked_div(self.divisor)
    }
}

/// Normalised currency code for comparisons.
pub fn code(text: &str) -> String {
    text.trim().to_ascii_uppercase()
}

/// Whether `text` names the normalised `code` (as `code(text) == code`, without allocating).
pub fn names(text: &str, code: &str) -> bool {
    text.trim().eq_ignore_ascii_case(code)
}

/// The conversion of prices in `from` into the quote currency `to`, for item `index`.
pub fn conversion(rates: &[Rate], from: &str, to: &str, index: usize) -> Result<Conversion, Error> {
    let (from, to) = (code(from), code(to));
    if from == to {
        return Ok(Conversion::divide_by(Decimal::ONE));
    }
    // Direct: 1 C = Q purchase units.
    if let Some(q) = record(rates, &to, &from)? {
        return Ok(Conversion {
            factor: Decimal::ONE,
            divisor: q,
        });
    }
    // Inverse: 1 purchase unit = r C.
    if let Some(r) = record(rates, &from, &to)? {
        return Ok(Conversion {
            factor: r,
            divisor: Decimal::ONE,
        });
    }
    // Cross: 1 purchase unit = a X and 1 C = b X, so R = P × a / b.
    let pivots = rates.iter().flat_map(|r| [code(&r.base), code(&r.quote)]);
    for pivot in pivots {
        if pivot == from || pivot == to {
            continue;
        }
        if let (Some(a), Some(b)) = (
            value_in(rates, &from, &pivot)?,
            value_in(rates, &to, &pivot)?,
        ) {
            let (a_num, a_den) = a;
            let (b_num, b_den) = b;
            let factor = a_num.checked_mul(b_den);
            let divisor = a_den.checked_mul(b_num);
            if let (Some(factor), Some(divisor)) = (factor, divisor) {
                return Ok(Conversion { factor, divisor });
            }
        }
    }
    Err(Error::MissingRate(format!(
        "{to}/{from}: items[{index}] is priced in {from} and the quote in {to}; \
         a rate 1 {to} = x {from} (or 1 {from} = x {to}) is needed"
    )))
}

/// 1 `currency` = num/den `pivot`, from one record in either direction.
fn value_in(
    rates: &[Rate],
    currency: &str,
    pivot: &str,
) -> Result<Option<(Decimal, Decimal)>, Error> {
    if let Some(r) = record(rates, currency, pivot)? {
        return Ok(Some((r, Decimal::ONE)));
    }
    Ok(record(rates, pivot, currency)?.map(|r| (Decimal::ONE, r)))
}

/// The first record with this base and quote, its rate checked to be a positive decimal.
fn record(rates: &[Rate], base: &str, quote: &str) -> Result<Option<Decimal>, Error> {
    let Some((index, rate)) = rates
        .iter()
        .enumerate()
        .find(|(_, r)| names(&r.base, base) && names(&r.quote, quote))
    else {
        return Ok(None);
    };
    let value = parse_decimal(&rate.rate, format_args!("rates[{index}].rate"))?;
    if value <= Decimal::ZERO {
        return Err(Error::invalid(format!(
            "rates[{index}].rate must be positive"
        )));
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn rate(base: &str, quote: &str, rate: &str) -> Rate {
        Rate {
            base: base.into(),
            quote: quote.into(),
            rate: rate.into(),
            date: "2025-11-28".into(),
        }
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn direct_record_is_the_workbook_divisor() {
        let c = conversion(&[rate("EUR", "TRY", "49.1889")], "TRY", "EUR", 0).unwrap();
        assert_eq!(c, Conversion::divide_by(d("49.1889")));
        assert_eq!(c.apply(d("833.3333")).unwrap().round_dp(6), d("16.941491"));
    }

    #[test]
    fn inverse_record_multiplies() {
        let c = conversion(&[rate("CNY", "USD", "0.14")], "CNY", "USD", 0).unwrap();
        assert_eq!(c.apply(d("100")).unwrap(), d("14"));
        assert_eq!(c.q().unwrap().round_dp(4), d("7.1429"));
    }

    #[test]
    fn cross_rate_through_a_shared_currency() {
        // CBR style: everything against RUB. 1 TRY = 2 RUB, 1 EUR = 100 RUB: 1 EUR = 50 TRY.
        let rates = [rate("TRY", "RUB", "2"), rate("EUR", "RUB", "100")];
        let c = conversion(&rates, "TRY", "EUR", 0).unwrap();
        assert_eq!(c.apply(d("100")).unwrap(), d("2"));
        assert_eq!(c.q().unwrap(), d("50"));
    }

    #[test]
    fn same_currency_and_missing_rate() {
        assert_eq!(
            conversion(&[], "eur", "EUR", 0).unwrap(),
            Conversion::divide_by(Decimal::ONE)
        );
        let err = conversion(&[rate("USD", "RUB", "90")], "CNY", "EUR", 3).unwrap_err();
        let Error::MissingRate(message) = err else {
            panic!("{err:?}")
        };
        assert!(message.starts_with("EUR/CNY: items[3]"), "{message}");
    }

    #[test]
    fn bad_rate_names_the_record() {
        let err = conversion(&[rate("EUR", "TRY", "0")], "TRY", "EUR", 0).unwrap_err();
        assert_eq!(err, Error::invalid("rates[0].rate must be positive"));
    }
}
