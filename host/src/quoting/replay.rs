//! Replaying a plugin version over stored quotes: the tally a seller reads before
//! switching versions. Identical, changed (with totals, delta and the first JSON-path
//! differences, from [`diff`](super::diff)) or failed (with the error code), the sums of
//! old and new totals per currency and the largest deltas; every list bounded.

use super::diff::{Difference, differences};
use super::pricer::PluginRef;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;
use utoipa::ToSchema;

/// How much of the tally is listed.
#[derive(Debug, Clone, Copy)]
pub struct ReplayLimits {
    /// JSON-path differences listed per changed quote.
    pub differences_per_quote: usize,
    /// Entries of `largest_deltas`.
    pub largest_deltas: usize,
}

/// What a replay found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayReport {
    /// The version (or unsaved candidate) that was replayed.
    pub plugin: PluginRef,
    /// Stored quotes re-priced: `identical + changed + failed`.
    pub replayed: u32,
    /// Re-priced to exactly the stored result.
    pub identical: u32,
    /// Re-priced to a different result.
    pub changed: u32,
    /// Could not be re-priced.
    pub failed: u32,
    /// The failed quotes counted by error code (as `/api/quotes/calculate` would answer).
    pub failed_by_code: BTreeMap<String, u32>,
    /// Every changed quote, newest first.
    pub changed_quotes: Vec<ChangedQuote>,
    /// Every failed quote, newest first.
    pub failed_quotes: Vec<FailedQuote>,
    /// Old and new totals of the identical and changed quotes, per currency.
    pub totals: Vec<CurrencyTotals>,
    /// The changed quotes with the largest deltas by absolute value, largest first (at
    /// most `calculations.replay_largest_deltas`, default 10).
    pub largest_deltas: Vec<QuoteDelta>,
}

/// A quote the replayed version prices differently.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangedQuote {
    pub number: String,
    pub currency: String,
    #[schema(value_type = String)]
    pub old_total: Decimal,
    #[schema(value_type = String)]
    pub new_total: Decimal,
    /// `new_total - old_total`.
    #[schema(value_type = String)]
    pub delta: Decimal,
    /// The first places where the results differ (at most
    /// `calculations.replay_differences_per_quote`, default 5).
    pub differences: Vec<Difference>,
    /// More differences exist than are listed.
    pub differences_truncated: bool,
}

/// A quote the replayed version could not price.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailedQuote {
    pub number: String,
    /// The error code, e.g. `plugin_trap`, `plugin_fuel_exhausted`, `missing_variable`.
    pub code: String,
    /// The first 200 characters of the error message.
    pub message: String,
}

/// The sums of one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrencyTotals {
    pub currency: String,
    /// Quotes summed (identical and changed).
    pub quotes: u32,
    #[schema(value_type = String)]
    pub old_total: Decimal,
    #[schema(value_type = String)]
    pub new_total: Decimal,
    #[schema(value_type = String)]
    pub delta: Decimal,
}

/// One of the largest deltas.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuoteDelta {
    pub number: String,
    pub currency: String,
    #[schema(value_type = String)]
    pub delta: Decimal,
}

/// A stored quote as the tally needs it.
pub struct StoredOutcome<'a> {
    pub number: &'a str,
    pub currency: &'a str,
    pub total: Decimal,
    pub result: &'a serde_json::Value,
}

/// Characters of an error message a failed quote keeps.
const MESSAGE_CHARS: usize = 200;

/// Counts quote after quote; [`Tally::finish`] gives the report.
pub struct Tally {
    limits: ReplayLimits,
    report: ReplayReport,
    sums: BTreeMap<String, CurrencyTotals>,
}

impl Tally {
    pub fn new(plugin: PluginRef, limits: ReplayLimits) -> Self {
        Self {
            limits,
            report: ReplayReport {
                plugin,
                replayed: 0,
                identical: 0,
                changed: 0,
                failed: 0,
                failed_by_code: BTreeMap::new(),
                changed_quotes: Vec::new(),
                failed_quotes: Vec::new(),
                totals: Vec::new(),
                largest_deltas: Vec::new(),
            },
            sums: BTreeMap::new(),
        }
    }

    /// A quote re-priced to `result` (the new result as JSON).
    pub fn priced(&mut self, stored: &StoredOutcome<'_>, result: &serde_json::Value) {
        let new_total = result
            .get("total")
            .and_then(serde_json::Value::as_str)
            .and_then(|total| Decimal::from_str(total).ok());
        let Some(new_total) = new_total else {
            return self.failed(stored.number, "invalid_result", "the result has no total");
        };
        self.report.replayed += 1;
        let sums = self
            .sums
            .entry(stored.currency.to_string())
            .or_insert_with(|| CurrencyTotals {
                currency: stored.currency.to_string(),
                quotes: 0,
                old_total: Decimal::ZERO,
                new_total: Decimal::ZERO,
                delta: Decimal::ZERO,
            });
        sums.quotes += 1;
        sums.old_total += stored.total;
        sums.new_total += new_total;
        sums.delta = sums.new_total - sums.old_total;
        let (differences, differences_truncated) =
            differences(stored.result, result, self.limits.differences_per_quote);
        if differences.is_empty() && !differences_truncated {
            self.report.identical += 1;
            return;
        }
        self.report.changed += 1;
        self.report.changed_quotes.push(ChangedQuote {
            number: stored.number.to_string(),
            currency: stored.currency.to_string(),
            old_total: stored.total,
            new_total,
            delta: new_total - stored.total,
            differences,
            differences_truncated,
        });
    }

    /// A quote that could not be re-priced, with the error's code and message.
    pub fn failed(&mut self, number: &str, code: &str, message: &str) {
        self.report.replayed += 1;
        self.report.failed += 1;
        *self
            .report
            .failed_by_code
            .entry(code.to_string())
            .or_default() += 1;
        self.report.failed_quotes.push(FailedQuote {
            number: number.to_string(),
            code: code.to_string(),
            message: message.chars().take(MESSAGE_CHARS).collect(),
        });
    }

    pub fn finish(mut self) -> ReplayReport {
        let mut largest: Vec<QuoteDelta> = self
            .report
            .changed_quotes
            .iter()
            .filter(|quote| !quote.delta.is_zero())
            .map(|quote| QuoteDelta {
                number: quote.number.clone(),
                currency: quote.currency.clone(),
                delta: quote.delta,
            })
            .collect();
        largest.sort_by_key(|quote| std::cmp::Reverse(quote.delta.abs()));
        largest.truncate(self.limits.largest_deltas);
        self.report.largest_deltas = largest;
        self.report.totals = self.sums.into_values().collect();
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plugin() -> PluginRef {
        PluginRef {
            name: "standard".into(),
            version: 2,
            sha256: "ab".into(),
        }
    }

    #[test]
    fn counts_identical_changed_and_failed_with_sums_and_bounded_lists() {
        let limits = ReplayLimits {
            differences_per_quote: 1,
            largest_deltas: 1,
        };
        let mut tally = Tally::new(plugin(), limits);
        let old = json!({"total": "10.00", "tax": "1.00"});
        let quote = |number, total| StoredOutcome {
            number,
            currency: "RUB",
            total: Decimal::from_str(total).unwrap(),
            result: &old,
        };
        tally.priced(&quote("Q-1", "10.00"), &old);
        tally.priced(
            &quote("Q-2", "10.00"),
            &json!({"total": "12.00", "tax": "2.00"}),
        );
        tally.priced(
            &quote("Q-3", "10.00"),
            &json!({"total": "10.50", "tax": "1.00"}),
        );
        tally.failed("Q-4", "plugin_trap", &"x".repeat(500));
        let report = tally.finish();
        assert_eq!(
            (
                report.replayed,
                report.identical,
                report.changed,
                report.failed
            ),
            (4, 1, 2, 1)
        );
        assert_eq!(
            report.failed_by_code,
            BTreeMap::from([("plugin_trap".into(), 1)])
        );
        assert_eq!(report.failed_quotes[0].message.len(), MESSAGE_CHARS);
        let first = &report.changed_quotes[0];
        assert_eq!(
            (first.number.as_str(), first.delta),
            ("Q-2", Decimal::new(200, 2))
        );
        assert_eq!(first.differences.len(), 1);
        assert!(
            first.differences_truncated,
            "total and tax differ, one listed"
        );
        assert_eq!(report.largest_deltas.len(), 1);
        assert_eq!(report.largest_deltas[0].number, "Q-2");
        let sums = &report.totals[0];
        assert_eq!(sums.quotes, 3);
        assert_eq!(
            (sums.old_total, sums.new_total, sums.delta),
            (
                Decimal::new(3000, 2),
                Decimal::new(3250, 2),
                Decimal::new(250, 2)
            )
        );
    }
}
