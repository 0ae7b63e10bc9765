//! How SQLite stores the values whose type differs between databases.
//!
//! Timestamps are fixed-width text `YYYY-MM-DDTHH:MM:SS.ffffffZ` (27 chars, always UTC,
//! always 6 fraction digits) so text order is time order; decimals are the canonical
//! `rust_decimal` string (SQLite has no exact decimal type); JSON is text; ids are
//! 16-byte blobs.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use sqlx::Sqlite;
use sqlx::sqlite::SqliteRow;

use super::super::error::{Result, StoreError};
use super::super::values::{Bind, Encoding, Value, bind_value, column};

/// Encodes a timestamp as sortable fixed-width text: RFC 3339 in UTC with `Z` and
/// always 6 fraction digits. chrono's RFC 3339 writer and reader are its fast paths;
/// a `strftime` pattern is interpreted item by item on every call.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Decodes [`ts`]'s text.
fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|at| at.to_utc())
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

impl Encoding for Sqlite {
    fn bind_time<B: Bind<Self>>(target: B, at: Option<DateTime<Utc>>) -> B {
        target.bind_one(at.map(ts))
    }
    fn bind_money<B: Bind<Self>>(target: B, amount: Decimal) -> B {
        target.bind_one(amount.to_string())
    }
    fn bind_json<B: Bind<Self>>(target: B, document: &serde_json::Value) -> B {
        target.bind_one(document.to_string())
    }
    fn bind<B: Bind<Self>>(target: B, value: Value<'_>) -> B {
        bind_value(target, value)
    }
    fn read_time(row: &SqliteRow, name: &str) -> Result<Option<DateTime<Utc>>> {
        let text: Option<String> = column(row, name)?;
        text.as_deref().map(parse_ts).transpose()
    }
    fn read_money(row: &SqliteRow, name: &str) -> Result<Decimal> {
        let text: String = column(row, name)?;
        Decimal::from_str_exact(&text)
            .map_err(|e| StoreError::Corrupt(format!("decimal {text:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_ts, ts};
    use chrono::{TimeZone, Utc};

    #[test]
    fn timestamps_are_fixed_width_text_that_reads_back_exactly() {
        let whole_second = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(ts(whole_second), "2026-01-02T03:04:05.000000Z");
        let micros = whole_second + chrono::Duration::microseconds(7);
        assert_eq!(ts(micros), "2026-01-02T03:04:05.000007Z");
        for at in [whole_second, micros] {
            assert_eq!(ts(at).len(), 27);
            assert_eq!(parse_ts(&ts(at)).unwrap(), at);
        }
        // Rows written before this format was produced by RFC 3339 (a strftime pattern)
        // read the same.
        assert_eq!(
            parse_ts("2025-12-31T23:59:59.999999Z")
                .unwrap()
                .timestamp_subsec_micros(),
            999_999
        );
        assert!(parse_ts("2025-12-31 23:59:59").is_err());
    }
}
