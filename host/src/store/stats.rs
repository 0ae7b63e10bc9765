//! Backend-independent assembly of dashboard figures.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Months, TimeZone, Utc};
use rust_decimal::Decimal;

use super::error::{Result, StoreError};
use super::quote::{CurrencyTotals, MonthTotals, PeriodStats, QuoteStatus, StatsWindow};
use super::values::Columns;

/// Decimal places of averages.
const AVERAGE_DP: u32 = 4;

/// The rows every accepted figure of the dashboard reads, on both backends, for a
/// period and for the monthly series alike: the quotes of organization `$1` with status
/// `accepted`, created in `[$2, $3)`.
macro_rules! accepted_between {
    () => {
        " FROM quotes WHERE organization_id = $1 AND status = 'accepted'
           AND created_at >= $2 AND created_at < $3"
    };
}
pub(crate) use accepted_between;

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
        PeriodStats {
            from,
            to,
            created,
            accepted: self.totals(),
        }
    }

    /// The totals per currency, in currency order.
    fn totals(self) -> Vec<CurrencyTotals> {
        self.0
            .into_iter()
            .map(|(currency, (count, sum))| CurrencyTotals {
                currency,
                accepted_count: count,
                accepted_total: sum,
                average_total: sum
                    .checked_div(Decimal::from(count))
                    .map_or(Decimal::ZERO, |average| average.round_dp(AVERAGE_DP)),
            })
            .collect()
    }
}

/// The months of [`StatsWindow::chart_months`]: the calendar month (UTC) of
/// `month_start` and the ones before it.
pub(crate) struct MonthSeries {
    /// First instant of each month, oldest first.
    starts: Vec<DateTime<Utc>>,
    /// End of the newest month.
    end: DateTime<Utc>,
}

impl MonthSeries {
    pub(crate) fn of(window: &StatsWindow) -> Self {
        let at = window.month_start;
        let first = Utc
            .with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0)
            .single()
            .unwrap_or(at);
        let starts = (0..window.chart_months)
            .rev()
            .filter_map(|back| first.checked_sub_months(Months::new(back)))
            .collect();
        let end = first
            .checked_add_months(Months::new(1))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        Self { starts, end }
    }

    /// `[from, to)` of the series' query; `None` for a series of no months.
    pub(crate) fn bounds(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.starts.first().map(|from| (*from, self.end))
    }
}

/// Accepted quotes summed per month and currency, from `(month, currency, n, total)`
/// rows in any order, `month` as `YYYY-MM` (UTC); each month's sums are a
/// [`CurrencySums`], exact and saturating like a period's.
#[derive(Default)]
pub(crate) struct MonthlySums(BTreeMap<String, CurrencySums>);

impl MonthlySums {
    pub(crate) fn add(&mut self, row: &impl Columns) -> Result<()> {
        self.0.entry(row.text("month")?).or_default().add(row)
    }

    /// Every month of `series`, oldest first, each listing every currency of the series
    /// (zeros where the month had none).
    pub(crate) fn months(mut self, series: &MonthSeries) -> Vec<MonthTotals> {
        let currencies: BTreeSet<String> = self
            .0
            .values()
            .flat_map(|sums| sums.0.keys().cloned())
            .collect();
        series
            .starts
            .iter()
            .map(|start| {
                let mut sums = self
                    .0
                    .remove(&start.format("%Y-%m").to_string())
                    .unwrap_or_default();
                for currency in &currencies {
                    sums.0.entry(currency.clone()).or_insert((0, Decimal::ZERO));
                }
                MonthTotals {
                    month_start: *start,
                    accepted: sums.totals(),
                }
            })
            .collect()
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
    fn the_series_ends_with_the_month_of_month_start() {
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap();
        let window = |chart_months| StatsWindow {
            prev_month_start: at(2025, 12, 1),
            month_start: at(2026, 1, 1),
            next_month_start: at(2026, 2, 1),
            recent: 5,
            chart_months,
        };
        let series = MonthSeries::of(&window(3));
        assert_eq!(
            series.starts,
            vec![at(2025, 11, 1), at(2025, 12, 1), at(2026, 1, 1)]
        );
        assert_eq!(series.bounds(), Some((at(2025, 11, 1), at(2026, 2, 1))));
        assert_eq!(MonthSeries::of(&window(0)).bounds(), None);
        assert!(
            MonthlySums::default()
                .months(&MonthSeries::of(&window(0)))
                .is_empty()
        );
    }

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
