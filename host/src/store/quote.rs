//! Quote domain types: the quote row, its inputs, revisions and dashboard stats.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::StoreError;

/// Lifecycle state of a quote: draft -> sent -> accepted | rejected | expired, and
/// draft or sent -> cancelled ([`can_become`](Self::can_become)). The store applies the
/// rule in the statement that changes a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteStatus {
    /// Created, not yet sent.
    Draft,
    /// Sent to the customer.
    Sent,
    /// Accepted by the customer.
    Accepted,
    /// Rejected by the customer.
    Rejected,
    /// Validity ran out.
    Expired,
    /// Withdrawn.
    Cancelled,
}

impl QuoteStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [QuoteStatus; 6] = [
        Self::Draft,
        Self::Sent,
        Self::Accepted,
        Self::Rejected,
        Self::Expired,
        Self::Cancelled,
    ];

    /// Every allowed change, `(from, to)`.
    pub const TRANSITIONS: [(QuoteStatus, QuoteStatus); 6] = [
        (Self::Draft, Self::Sent),
        (Self::Sent, Self::Accepted),
        (Self::Sent, Self::Rejected),
        (Self::Sent, Self::Expired),
        (Self::Draft, Self::Cancelled),
        (Self::Sent, Self::Cancelled),
    ];

    /// Whether a quote in this status may move to `to`.
    pub fn can_become(self, to: QuoteStatus) -> bool {
        Self::TRANSITIONS.contains(&(self, to))
    }

    /// The stored (and serialized) text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Sent => "sent",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for QuoteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for QuoteStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| StoreError::Invalid(format!("unknown quote status {s:?}")))
    }
}

/// A priced quote with everything needed to re-run it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    /// UUID v7.
    pub id: Uuid,
    /// Owning organization.
    pub organization_id: Uuid,
    /// `Q-<year>-<6 digits>`, gapless per organization and year.
    pub number: String,
    /// Optional human title.
    pub title: Option<String>,
    /// Lifecycle state.
    pub status: QuoteStatus,
    /// ISO code of the totals.
    pub currency: String,
    /// Before tax.
    pub subtotal: Decimal,
    /// Tax amount.
    pub tax: Decimal,
    /// Grand total.
    pub total: Decimal,
    /// The pricing request as received.
    pub request: serde_json::Value,
    /// The plugin's result.
    pub result: serde_json::Value,
    /// Plugin that priced the current revision.
    pub plugin_name: String,
    /// Its version.
    pub plugin_version: i32,
    /// SHA-256 hex of its bytes.
    pub plugin_sha256: String,
    /// Rate snapshot used for pricing.
    pub rates: serde_json::Value,
    /// Fuel consumed by the plugin.
    pub fuel_used: i64,
    /// 1 at creation, +1 per recalculation.
    pub revision: i32,
    /// When the current revision was priced.
    pub priced_at: DateTime<Utc>,
    /// Creation time (pagination key together with `id`).
    pub created_at: DateTime<Utc>,
    /// Last change of any kind.
    pub updated_at: DateTime<Utc>,
}

impl Quote {
    /// A freshly priced quote as [`QuoteStore::create_quote`](super::QuoteStore::create_quote)
    /// stores it: `draft`, revision 1, its number `Q-<year>-<seq, 6 digits>`, priced,
    /// created and updated `at`.
    pub(crate) fn draft(new: NewQuote, seq: i64, at: DateTime<Utc>) -> Self {
        let p = new.pricing;
        Self {
            id: Uuid::now_v7(),
            organization_id: new.organization_id,
            number: format!("Q-{}-{seq:06}", at.year()),
            title: new.title,
            status: QuoteStatus::Draft,
            currency: p.currency,
            subtotal: p.subtotal,
            tax: p.tax,
            total: p.total,
            request: p.request,
            result: p.result,
            plugin_name: p.plugin_name,
            plugin_version: p.plugin_version,
            plugin_sha256: p.plugin_sha256,
            rates: p.rates,
            fuel_used: p.fuel_used,
            revision: 1,
            priced_at: at,
            created_at: at,
            updated_at: at,
        }
    }
}

/// The output of one pricing run: what creation and recalculation store.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    /// ISO code of the totals.
    pub currency: String,
    /// Before tax.
    pub subtotal: Decimal,
    /// Tax amount.
    pub tax: Decimal,
    /// Grand total.
    pub total: Decimal,
    /// The pricing request.
    pub request: serde_json::Value,
    /// The plugin's result.
    pub result: serde_json::Value,
    /// Plugin name.
    pub plugin_name: String,
    /// Plugin version.
    pub plugin_version: i32,
    /// SHA-256 hex of the plugin bytes.
    pub plugin_sha256: String,
    /// Rate snapshot used.
    pub rates: serde_json::Value,
    /// Fuel consumed.
    pub fuel_used: i64,
}

/// Input of [`QuoteStore::create_quote`](super::QuoteStore::create_quote). The quote
/// starts as `draft`, revision 1; number, id and times are assigned by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewQuote {
    /// Owning organization.
    pub organization_id: Uuid,
    /// Optional human title.
    pub title: Option<String>,
    /// The pricing output.
    pub pricing: Pricing,
}

/// A status change: applied only if the quote is still in `from`, the status the
/// caller saw, and `from` may become `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    /// Status the caller saw.
    pub from: QuoteStatus,
    /// Status to set.
    pub to: QuoteStatus,
}

/// Input of [`QuoteStore::update_quote`](super::QuoteStore::update_quote); `None` = leave as is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuoteUpdate {
    /// `Some(None)` clears the title.
    pub title: Option<Option<String>>,
    /// Optimistic status change.
    pub status: Option<StatusChange>,
}

/// A superseded result, kept when a quote is recalculated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuoteRevision {
    /// The quote.
    pub quote_id: Uuid,
    /// Owning organization.
    pub organization_id: Uuid,
    /// Revision number this result had.
    pub revision: i32,
    /// ISO code.
    pub currency: String,
    /// Before tax.
    pub subtotal: Decimal,
    /// Tax.
    pub tax: Decimal,
    /// Total.
    pub total: Decimal,
    /// Request that produced it.
    pub request: serde_json::Value,
    /// Result.
    pub result: serde_json::Value,
    /// Plugin name.
    pub plugin_name: String,
    /// Plugin version.
    pub plugin_version: i32,
    /// Plugin SHA-256 hex.
    pub plugin_sha256: String,
    /// Rate snapshot.
    pub rates: serde_json::Value,
    /// Fuel consumed.
    pub fuel_used: i64,
    /// When this revision was priced.
    pub created_at: DateTime<Utc>,
    /// When it was superseded.
    pub archived_at: DateTime<Utc>,
}

/// Filter of quote listings and exports; `None` = any status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuoteFilter {
    /// Only this status.
    pub status: Option<QuoteStatus>,
}

/// Time windows of [`QuoteStore::quote_stats`](super::QuoteStore::quote_stats), all
/// half-open `[start, next)` on `created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsWindow {
    /// Start of the previous month.
    pub prev_month_start: DateTime<Utc>,
    /// Start of the current month (= end of the previous one).
    pub month_start: DateTime<Utc>,
    /// Start of the next month (= end of the current one).
    pub next_month_start: DateTime<Utc>,
    /// How many most recent quotes to return.
    pub recent: u32,
    /// Calendar months (UTC) of the accepted series: the month of `month_start` and the
    /// ones before it, this many in all (0: no series).
    pub chart_months: u32,
}

/// Accepted quotes of one currency within a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyTotals {
    /// ISO code.
    pub currency: String,
    /// Number of accepted quotes.
    pub accepted_count: i64,
    /// Exact sum of their totals.
    pub accepted_total: Decimal,
    /// Average total (sum / count, rounded to 4 decimal places).
    pub average_total: Decimal,
}

/// Figures of one period `[from, to)` by `created_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodStats {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
    /// Quotes created in the period, any status.
    pub created: i64,
    /// Accepted quotes of the period, per currency (totals are never mixed
    /// across currencies), ordered by currency.
    pub accepted: Vec<CurrencyTotals>,
}

/// Accepted quotes created in one calendar month (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthTotals {
    /// The first instant of the month.
    pub month_start: DateTime<Utc>,
    /// Per currency, ordered by currency: every currency of the series, with zeros in
    /// the months it had none (totals are never mixed across currencies).
    pub accepted: Vec<CurrencyTotals>,
}

/// Dashboard aggregates of an organization.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuoteStats {
    /// All-time count per status (every status present, zeros included).
    pub by_status: BTreeMap<QuoteStatus, i64>,
    /// The current month.
    pub current_month: PeriodStats,
    /// The previous month.
    pub previous_month: PeriodStats,
    /// The [`chart_months`](StatsWindow::chart_months) months up to the current one,
    /// oldest first, every month present: the same accepted figures as the periods.
    pub accepted_by_month: Vec<MonthTotals>,
    /// Most recent quotes, newest first, as summaries (no request, result, rates).
    pub recent: Vec<Quote>,
}

impl StatusChange {
    /// Why a status change changed nothing, from the quote's status now (`None`: no
    /// such quote).
    pub(crate) fn refused(current: Option<QuoteStatus>, change: Option<Self>) -> StoreError {
        match (current, change) {
            (Some(current), Some(change)) if current != change.from => StoreError::Conflict(
                format!("quote status is {current}, not {} any more", change.from),
            ),
            (Some(current), Some(change)) => {
                StoreError::Conflict(format!("a {current} quote cannot become {}", change.to))
            }
            _ => StoreError::NotFound,
        }
    }
}

/// Why saving a recalculation changed nothing, from the quote's status and revision now
/// (`None`: no such quote). Only a draft still at the revision that was priced is saved.
pub(crate) fn recalculation_refused(
    current: Option<(QuoteStatus, i32)>,
    expected_revision: i32,
) -> StoreError {
    match current {
        Some((status, _)) if status != QuoteStatus::Draft => StoreError::Conflict(format!(
            "the quote became {status} during the recalculation; only drafts are recalculated"
        )),
        Some((_, revision)) => StoreError::Conflict(format!(
            "the quote is at revision {revision}, not {expected_revision} any more"
        )),
        None => StoreError::NotFound,
    }
}
