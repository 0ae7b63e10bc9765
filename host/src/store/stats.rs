//! Backend-independent assembly of dashboard figures.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::quote::{CurrencyTotals, PeriodStats, QuoteStatus};

/// Decimal places of averages.
const AVERAGE_DP: u32 = 4;

/// All statuses with zero counts, then the given counts applied.
pub(crate) fn status_counts(
    counts: impl IntoIterator<Item = (QuoteStatus, i64)>,
) -> BTreeMap<QuoteStatus, i64> {
    let mut map: BTreeMap<QuoteStatus, i64> = QuoteStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for (status, n) in counts {
        *map.entry(status).or_default() += n;
    }
    map
}

/// Per-currency totals from `(currency, count, sum)` rows (any order, a
/// currency may repeat), ordered by currency.
pub(crate) fn currency_totals(
    rows: impl IntoIterator<Item = (String, i64, Decimal)>,
) -> Vec<CurrencyTotals> {
    let mut acc: BTreeMap<String, (i64, Decimal)> = BTreeMap::new();
    for (currency, count, sum) in rows {
        let e = acc.entry(currency).or_insert((0, Decimal::ZERO));
        e.0 += count;
        e.1 += sum;
    }
    acc.into_iter()
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
        .collect()
}

/// A period's figures.
pub(crate) fn period(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    created: i64,
    accepted: Vec<CurrencyTotals>,
) -> PeriodStats {
    PeriodStats {
        from,
        to,
        created,
        accepted,
    }
}
