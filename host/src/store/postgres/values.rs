//! How PostgreSQL stores the values whose type differs between databases: native
//! TIMESTAMPTZ and NUMERIC, and JSON documents in `json` (not `jsonb`) columns, stored
//! verbatim, so object key order survives the round trip exactly as on SQLite (the
//! workspace enables serde_json's `preserve_order`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Postgres;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgRow, PgTypeInfo};

use super::super::error::Result;
use super::super::values::{Bind, Encoding, Value, bind_value, column};

/// PostgreSQL's type id of `json`.
const JSON_OID: Oid = Oid(114);

/// A JSON document bound as `json` (sqlx's `Json` is sent as `jsonb`, which would
/// reorder the keys on the way in).
struct JsonText(String);

impl sqlx::Type<Postgres> for JsonText {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(JSON_OID)
    }
}

impl sqlx::Encode<'_, Postgres> for JsonText {
    fn encode_by_ref(
        &self,
        buf: &mut PgArgumentBuffer,
    ) -> std::result::Result<IsNull, BoxDynError> {
        // The binary form of `json` is its text.
        buf.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

impl Encoding for Postgres {
    fn bind_time<B: Bind<Self>>(target: B, at: Option<DateTime<Utc>>) -> B {
        target.bind_one(at)
    }
    fn bind_money<B: Bind<Self>>(target: B, amount: Decimal) -> B {
        target.bind_one(amount)
    }
    fn bind_json<B: Bind<Self>>(target: B, document: &serde_json::Value) -> B {
        target.bind_one(JsonText(document.to_string()))
    }
    fn bind<B: Bind<Self>>(target: B, value: Value<'_>) -> B {
        bind_value(target, value)
    }
    fn read_time(row: &PgRow, name: &str) -> Result<Option<DateTime<Utc>>> {
        column(row, name)
    }
    fn read_money(row: &PgRow, name: &str) -> Result<Decimal> {
        column(row, name)
    }
}
