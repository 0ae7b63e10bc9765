//! Exchange-rate sources: the [`RateSource`] trait, the daily rate table it yields and its errors.

use async_trait::async_trait;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// One published table of official exchange rates against the rouble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyRates {
    /// The date the source says the table is for (for the CBR, the `ValCurs Date`
    /// attribute). It can differ from the date that was asked for, e.g. on a day
    /// without a new fixing the source answers with the table still in force.
    pub date: NaiveDate,
    /// One entry per currency, in the order the source listed them; never empty,
    /// and no currency code appears twice.
    pub rates: Vec<CurrencyRate>,
}

impl DailyRates {
    /// The rate for an ISO 4217 alphabetic code such as `"USD"`, if the table has it.
    #[must_use]
    pub fn get(&self, code: &str) -> Option<&CurrencyRate> {
        self.rates.iter().find(|rate| rate.code == code)
    }
}

/// The official rate of one currency in RUB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyRate {
    /// The source's own identifier of the currency (for the CBR the `Valute ID`,
    /// e.g. `R01235`; it can carry a letter suffix such as `R01020A`).
    pub source_id: String,
    /// ISO 4217 alphabetic code (CBR `CharCode`), e.g. `"USD"`.
    pub code: String,
    /// ISO 4217 numeric code as published, with leading zeros (CBR `NumCode`), e.g. `"036"`.
    pub num_code: String,
    /// Human-readable name as published (for the CBR in Russian), decoded to UTF-8.
    pub name: String,
    /// Number of currency units the quoted [`value`](Self::value) is for (1, 10, 100, ...).
    pub nominal: u32,
    /// Price in RUB of `nominal` units, exactly as published.
    pub value: Decimal,
    /// Price in RUB of one unit: `value / nominal`, computed exactly in decimal arithmetic.
    pub per_unit: Decimal,
}

/// Why a [`RateSource`] could not produce a [`DailyRates`].
///
/// Messages are self-contained strings so that the error is cheap to clone and
/// does not tie callers to the HTTP or XML libraries a source uses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateSourceError {
    /// The server answered with a non-success HTTP status.
    #[error("rate source answered HTTP status {status}")]
    Http {
        /// The HTTP status code, e.g. 503.
        status: u16,
    },
    /// Connecting, sending the request or reading the response took longer than allowed.
    #[error("rate source request timed out: {0}")]
    Timeout(String),
    /// The request failed below HTTP: DNS, connection refused or reset, TLS, a broken body.
    #[error("rate source transport error: {0}")]
    Transport(String),
    /// The response body could not be decoded to text in its declared character encoding.
    #[error("rate source response has a bad character encoding: {0}")]
    Encoding(String),
    /// The response was readable but is not a complete, valid rate table (bad XML,
    /// a missing or invalid field, a duplicate or no currency, a body too large, ...).
    #[error("malformed rate source response: {0}")]
    Malformed(String),
    /// The source was configured with invalid settings (bad URL, bad user agent, ...).
    #[error("invalid rate source configuration: {0}")]
    Config(String),
}

/// A provider of official daily exchange rates.
#[async_trait]
pub trait RateSource: Send + Sync {
    /// Short stable name of the source for logs and metrics, e.g. `"cbr"`.
    fn name(&self) -> &str;

    /// Fetches the rate table for `date`, or the latest published one when `None`.
    ///
    /// The returned [`DailyRates::date`] is the date the source reports, which may
    /// differ from `date`. Either a complete table or an error is returned, never
    /// a partial table.
    async fn fetch(&self, date: Option<NaiveDate>) -> Result<DailyRates, RateSourceError>;
}
