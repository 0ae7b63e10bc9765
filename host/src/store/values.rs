//! The seam between the shared statements and a backend's column types: the values
//! bound to a statement ([`Value`]), how a backend encodes them ([`Encoding`]), a row's
//! columns read by kind ([`Columns`]), and a statement assembled piece by piece
//! ([`SqlText`]). Each backend implements `Encoding` once, in its `values.rs`, for the
//! few kinds it stores its own way (SQLite keeps timestamps and decimals as text;
//! PostgreSQL has native types).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, QueryBuilder, Row, Type};
use uuid::Uuid;

use super::error::{Result, StoreError};

/// A value bound to a statement, named by what it is rather than how it is stored.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    /// A UUID.
    Id(Uuid),
    /// A nullable UUID.
    OptId(Option<Uuid>),
    /// Text.
    Text(&'a str),
    /// Nullable text.
    OptText(Option<&'a str>),
    /// A 32-bit integer.
    Int(i32),
    /// A 64-bit integer.
    Big(i64),
    /// A point in time (microsecond precision).
    Time(DateTime<Utc>),
    /// A nullable point in time.
    OptTime(Option<DateTime<Utc>>),
    /// An exact decimal: money or an exchange rate.
    Money(Decimal),
    /// A JSON document, stored verbatim (key order kept).
    Json(&'a serde_json::Value),
    /// A calendar day.
    Date(NaiveDate),
    /// A nullable calendar day.
    OptDate(Option<NaiveDate>),
    /// Bytes.
    Bytes(&'a [u8]),
    /// Nullable bytes.
    OptBytes(Option<&'a [u8]>),
}

impl From<Uuid> for Value<'_> {
    fn from(id: Uuid) -> Self {
        Self::Id(id)
    }
}

impl From<Option<Uuid>> for Value<'_> {
    fn from(id: Option<Uuid>) -> Self {
        Self::OptId(id)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(text: Option<&'a str>) -> Self {
        Self::OptText(text)
    }
}

impl From<i32> for Value<'_> {
    fn from(n: i32) -> Self {
        Self::Int(n)
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Self::Big(n)
    }
}

impl From<DateTime<Utc>> for Value<'_> {
    fn from(at: DateTime<Utc>) -> Self {
        Self::Time(at)
    }
}

impl From<Option<DateTime<Utc>>> for Value<'_> {
    fn from(at: Option<DateTime<Utc>>) -> Self {
        Self::OptTime(at)
    }
}

impl From<Decimal> for Value<'_> {
    fn from(amount: Decimal) -> Self {
        Self::Money(amount)
    }
}

impl<'a> From<&'a serde_json::Value> for Value<'a> {
    fn from(document: &'a serde_json::Value) -> Self {
        Self::Json(document)
    }
}

impl From<NaiveDate> for Value<'_> {
    fn from(day: NaiveDate) -> Self {
        Self::Date(day)
    }
}

impl From<Option<NaiveDate>> for Value<'_> {
    fn from(day: Option<NaiveDate>) -> Self {
        Self::OptDate(day)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Self::Bytes(bytes)
    }
}

impl<'a> From<Option<&'a [u8]>> for Value<'a> {
    fn from(bytes: Option<&'a [u8]>) -> Self {
        Self::OptBytes(bytes)
    }
}

/// `[Value::from(a), Value::from(b), ...]`: the values of a statement, in placeholder order.
macro_rules! values {
    ($($value:expr),* $(,)?) => {
        [$($crate::store::values::Value::from($value)),*]
    };
}
pub(crate) use values;

/// The columns of one result row, read by kind (implemented for every backend's rows
/// below). A value that cannot be decoded is [`StoreError::Corrupt`].
pub(crate) trait Columns {
    /// A UUID column.
    fn id(&self, name: &str) -> Result<Uuid>;
    /// A nullable UUID column.
    fn opt_id(&self, name: &str) -> Result<Option<Uuid>>;
    /// A text column.
    fn text(&self, name: &str) -> Result<String>;
    /// A nullable text column.
    fn opt_text(&self, name: &str) -> Result<Option<String>>;
    /// A 32-bit integer column.
    fn int(&self, name: &str) -> Result<i32>;
    /// A nullable 32-bit integer column.
    fn opt_int(&self, name: &str) -> Result<Option<i32>>;
    /// A 64-bit integer column.
    fn big(&self, name: &str) -> Result<i64>;
    /// A timestamp column.
    fn time(&self, name: &str) -> Result<DateTime<Utc>>;
    /// A nullable timestamp column.
    fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>>;
    /// An exact decimal column.
    fn money(&self, name: &str) -> Result<Decimal>;
    /// A JSON column; SQL `NULL` (a listing that leaves the document out) reads as JSON `null`.
    fn json(&self, name: &str) -> Result<serde_json::Value>;
    /// A date column.
    fn date(&self, name: &str) -> Result<NaiveDate>;
    /// A bytes column.
    fn bytes(&self, name: &str) -> Result<Vec<u8>>;
    /// A nullable bytes column.
    fn opt_bytes(&self, name: &str) -> Result<Option<Vec<u8>>>;

    /// A text column parsed into one of our enums (role, status, outcome).
    fn parsed<T: std::str::FromStr<Err = StoreError>>(&self, name: &str) -> Result<T> {
        self.text(name)?.parse()
    }
}

/// Reads a column of a type the database decodes natively, mapping failures to `Corrupt`.
pub(crate) fn column<'r, R, T>(row: &'r R, name: &str) -> Result<T>
where
    R: Row,
    for<'n> &'n str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

impl<R> Columns for R
where
    R: Row,
    R::Database: Encoding,
    for<'n> &'n str: ColumnIndex<R>,
    Uuid: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i32: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    NaiveDate: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Json<serde_json::Value>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    fn id(&self, name: &str) -> Result<Uuid> {
        column(self, name)
    }
    fn opt_id(&self, name: &str) -> Result<Option<Uuid>> {
        column(self, name)
    }
    fn text(&self, name: &str) -> Result<String> {
        column(self, name)
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>> {
        column(self, name)
    }
    fn int(&self, name: &str) -> Result<i32> {
        column(self, name)
    }
    fn opt_int(&self, name: &str) -> Result<Option<i32>> {
        column(self, name)
    }
    fn big(&self, name: &str) -> Result<i64> {
        column(self, name)
    }
    fn time(&self, name: &str) -> Result<DateTime<Utc>> {
        self.opt_time(name)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {name}: NULL")))
    }
    fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>> {
        R::Database::read_time(self, name)
    }
    fn money(&self, name: &str) -> Result<Decimal> {
        R::Database::read_money(self, name)
    }
    fn json(&self, name: &str) -> Result<serde_json::Value> {
        let document = column::<R, Option<Json<serde_json::Value>>>(self, name)?;
        Ok(document.map_or(serde_json::Value::Null, |document| document.0))
    }
    fn date(&self, name: &str) -> Result<NaiveDate> {
        column(self, name)
    }
    fn bytes(&self, name: &str) -> Result<Vec<u8>> {
        column(self, name)
    }
    fn opt_bytes(&self, name: &str) -> Result<Option<Vec<u8>>> {
        column(self, name)
    }
}

/// A statement assembled at run time (filters, pages, multi-row inserts): SQL text and
/// bound values in order; the backend writes its own placeholders.
pub(crate) trait SqlText: Sized {
    /// An empty statement.
    fn start() -> Self;
    /// Appends SQL text.
    fn sql(&mut self, text: &str) -> &mut Self;
    /// Appends a placeholder bound to `value`.
    fn value(&mut self, value: Value<'_>) -> &mut Self;

    /// Appends ` LIMIT n` with `n` written into the text, not bound. SQLite (3.51) reads
    /// a bound LIMIT while planning and so marks the statement stale at every bind: each
    /// run of a cached statement with a bound LIMIT parsed and planned it again (16 % of
    /// the server's CPU under a list load). A literal keeps one plan per page size.
    fn limit(&mut self, n: i64) -> &mut Self {
        self.sql(&format!(" LIMIT {n}"))
    }

    /// Appends `(v1, v2, ...)`: one row of a multi-row insert.
    fn tuple(&mut self, values: &[Value<'_>]) -> &mut Self {
        self.sql("(");
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                self.sql(", ");
            }
            self.value(*value);
        }
        self.sql(")")
    }
}

/// How a backend encodes the kinds of [`Value`] whose column types differ between
/// databases; every other kind has one native type everywhere.
pub(crate) trait Encoding: Database {
    /// Binds a point in time (or `NULL`).
    fn bind_time<B: Bind<Self>>(target: B, at: Option<DateTime<Utc>>) -> B;
    /// Binds an exact decimal.
    fn bind_money<B: Bind<Self>>(target: B, amount: Decimal) -> B;
    /// Binds a JSON document, to be stored verbatim.
    fn bind_json<B: Bind<Self>>(target: B, document: &serde_json::Value) -> B;
    /// Binds `value`: [`bind_value`] with this backend's types.
    fn bind<B: Bind<Self>>(target: B, value: Value<'_>) -> B;
    /// Reads a nullable timestamp column.
    fn read_time(row: &Self::Row, name: &str) -> Result<Option<DateTime<Utc>>>;
    /// Reads an exact decimal column.
    fn read_money(row: &Self::Row, name: &str) -> Result<Decimal>;
}

/// Binds `value` to `target`: the native kinds as they are, the others through `DB`'s
/// [`Encoding`].
pub(crate) fn bind_value<DB, B>(target: B, value: Value<'_>) -> B
where
    DB: Encoding,
    B: Bind<DB>,
    Uuid: for<'t> Encode<'t, DB> + Type<DB>,
    Option<Uuid>: for<'t> Encode<'t, DB> + Type<DB>,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    Option<String>: for<'t> Encode<'t, DB> + Type<DB>,
    i32: for<'t> Encode<'t, DB> + Type<DB>,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
    NaiveDate: for<'t> Encode<'t, DB> + Type<DB>,
    Option<NaiveDate>: for<'t> Encode<'t, DB> + Type<DB>,
    Vec<u8>: for<'t> Encode<'t, DB> + Type<DB>,
    Option<Vec<u8>>: for<'t> Encode<'t, DB> + Type<DB>,
{
    match value {
        Value::Id(id) => target.bind_one(id),
        Value::OptId(id) => target.bind_one(id),
        Value::Text(text) => target.bind_one(text.to_owned()),
        Value::OptText(text) => target.bind_one(text.map(str::to_owned)),
        Value::Int(n) => target.bind_one(n),
        Value::Big(n) => target.bind_one(n),
        Value::Time(at) => DB::bind_time(target, Some(at)),
        Value::OptTime(at) => DB::bind_time(target, at),
        Value::Money(amount) => DB::bind_money(target, amount),
        Value::Json(document) => DB::bind_json(target, document),
        Value::Date(day) => target.bind_one(day),
        Value::OptDate(day) => target.bind_one(day),
        Value::Bytes(bytes) => target.bind_one(bytes.to_vec()),
        Value::OptBytes(bytes) => target.bind_one(bytes.map(<[u8]>::to_vec)),
    }
}

/// Something values are bound to: a prepared statement, or a statement being built.
pub(crate) trait Bind<DB: Database>: Sized {
    /// Binds one value of a type the database encodes natively.
    fn bind_one<T>(self, value: T) -> Self
    where
        T: for<'t> Encode<'t, DB> + Type<DB>;
}

impl<DB: Database> Bind<DB> for Query<'static, DB, <DB as Database>::Arguments> {
    fn bind_one<T>(self, value: T) -> Self
    where
        T: for<'t> Encode<'t, DB> + Type<DB>,
    {
        self.bind(value)
    }
}

impl<DB: Database> Bind<DB> for &mut QueryBuilder<DB> {
    fn bind_one<T>(self, value: T) -> Self
    where
        T: for<'t> Encode<'t, DB> + Type<DB>,
    {
        self.push_bind(value)
    }
}

/// `sql` with `values` bound to `$1`, `$2`, ...
pub(crate) fn query<DB: Encoding>(
    sql: &'static str,
    values: &[Value<'_>],
) -> Query<'static, DB, <DB as Database>::Arguments> {
    values
        .iter()
        .fold(sqlx::query(sql), |query, value| DB::bind(query, *value))
}

impl<DB: Encoding> SqlText for QueryBuilder<DB>
where
    <DB as Database>::Arguments: Default,
{
    fn start() -> Self {
        QueryBuilder::new("")
    }
    fn sql(&mut self, text: &str) -> &mut Self {
        self.push(text)
    }
    fn value(&mut self, value: Value<'_>) -> &mut Self {
        DB::bind(self, value)
    }
}
