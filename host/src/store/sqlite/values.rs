//! How SQLite stores the values whose type differs between databases.
//!
//! Timestamps are fixed-width text `YYYY-MM-DDTHH:MM:SS.ffffffZ` (27 chars, always UTC,
//! always 6 fraction digits) so text order is time order; decimals are the canonical
//! `rust_decimal` string (SQLite has no exact decimal type); JSON is text; ids are
//! 16-byte blobs.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Sqlite;
use sqlx::sqlite::SqliteRow;

use super::super::error::{Result, StoreError};
use super::super::values::{Bind, Encoding, Value, bind_value, column};

const TS_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Encodes a timestamp as sortable fixed-width text.
fn ts(t: DateTime<Utc>) -> String {
    t.format(TS_FORMAT).to_string()
}

/// Decodes [`ts`]'s text.
fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, TS_FORMAT)
        .map(|n| n.and_utc())
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
