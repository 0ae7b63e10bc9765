//! Backend-independent assembly of dashboard figures.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::error::Result;
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
#[derive(Default)]
pub(crate) struct CurrencySums(BTreeMap<String, (i64, Decimal)>);

impl CurrencySums {
    /// Adds one `(currency, n, total)` row.
    pub(crate) fn add(&mut self, row: &impl Columns) -> Result<()> {
        let entry = self
            .0
            .entry(row.text("currency")?)
            .or_insert((0, Decimal::ZERO));
        entry.0 += row.big("n")?;
        entry.1 += row.money("total")?;
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
                average_total: if count > 0 {
                    (sum / Decimal::from(count)).round_dp(AVERAGE_DP)
                } else {
                    Decimal::ZERO
                },
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
