//! Backend-independent assembly of dashboard figures.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::error::{Result, StoreError};
use super::quote::{CurrencyTotals, PeriodStats, QuoteStatus};
use super::values::Columns;

/// Decimal places of averages.
const AVERAGE_DP: u32 = 4;

/// All statuses with zero counts, then the `(status, n)` rows applied.
pub(crate) fn status_counts<R: Columns>(rows: &[R]) -> Result<BTreeMap<QuoteStatus, i64>> {
    let mut map: BTreeMap<QuoteStatus, i64> = QuoteStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for row in rows {
        *map.entry(row.parsed("status")?).or_default() += row.big("n")?;
    }
    Ok(map)
}

/// Accepted quotes of a period summed per currency, from `(currency, n, total)` rows in
/// any order (a currency may repeat: SQLite sends one row per quote).
///
/// Sums saturate at the range of a decimal (about ±7.9e28) instead of failing: quotes
/// within the calculation limits never get there, but rows stored before those limits
/// existed may, and the dashboard must still answer.
#[derive(Default)]
pub(crate) struct CurrencySums(BTreeMap<String, (i64, Decimal)>);

impl CurrencySums {
    /// Adds one `(currency, n, total)` row; `total` is read as decimal text (PostgreSQL
    /// sums as NUMERIC, whose sum may be beyond a decimal's range).
    pub(crate) fn add(&mut self, row: &impl Columns) -> Result<()> {
        let entry = self
            .0
            .entry(row.text("currency")?)
            .or_insert((0, Decimal::ZERO));
        entry.0 = entry.0.saturating_add(row.big("n")?);
        entry.1 = entry
            .1
            .saturating_add(saturating_decimal(&row.text("total")?)?);
        Ok(())
    }

    /// The period's figures, currencies in order.
    pub(crate) fn period(
        self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        created: i64,
    ) -> PeriodStats {
        let accepted = self
            .0
            .into_iter()
            .map(|(currency, (count, sum))| CurrencyTotals {
                currency,
                accepted_count: count,
                accepted_total: sum,
                average_total: sum
                    .checked_div(Decimal::from(count))
                    .map_or(Decimal::ZERO, |average| average.round_dp(AVERAGE_DP)),
            })
            .collect();
        PeriodStats {
            from,
            to,
            created,
            accepted,
        }
    }
}

/// Decimal text as a decimal, rounded to the precision a decimal holds and clamped to
/// its range; `Corrupt` only for text that is no number at all.
fn saturating_decimal(text: &str) -> Result<Decimal> {
    use std::str::FromStr;
    match Decimal::from_str(text) {
        Ok(value) => Ok(value),
        Err(_) if is_number(text) && text.starts_with('-') => Ok(Decimal::MIN),
        Err(_) if is_number(text) => Ok(Decimal::MAX),
        Err(error) => Err(StoreError::Corrupt(format!("decimal {text:?}: {error}"))),
    }
}

/// `-?digits[.digits]`.
fn is_number(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_beyond_the_range_saturates() {
        let huge = "80000000000000000000000000000.5";
        assert_eq!(saturating_decimal(huge).unwrap(), Decimal::MAX);
        assert_eq!(
            saturating_decimal(&format!("-{huge}")).unwrap(),
            Decimal::MIN
        );
        assert_eq!(saturating_decimal("1.25").unwrap(), Decimal::new(125, 2));
        assert!(saturating_decimal("NaN").is_err());
    }
}
