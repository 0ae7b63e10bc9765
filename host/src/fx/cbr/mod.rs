//! Central Bank of Russia (CBR) daily exchange rates: `XML_daily.asp` parser and HTTP client.
//!
//! The CBR publishes one table per fixing date at
//! `https://www.cbr.ru/scripts/XML_daily.asp[?date_req=DD/MM/YYYY]`: a windows-1251
//! XML document with a `ValCurs Date="DD.MM.YYYY"` root and one `Valute` per currency.
//! [`parse_daily`] turns such a document into [`DailyRates`](super::source::DailyRates);
//! [`CbrSource`] fetches it with timeouts and retries and implements
//! [`RateSource`](super::source::RateSource).

mod client;
mod parse;

pub use client::{CbrConfig, CbrSource, DEFAULT_BASE_URL, MAX_BODY_BYTES};
pub use parse::{MAX_NOMINAL, parse_daily};
