//! The CBR `XML_daily.asp` parser on any bytes: it never panics, it fails only with
//! an encoding or malformed-document error, every table it accepts keeps the promises
//! `DailyRates` documents, and an accepted table written back as a CBR document parses
//! to the same table.
#![no_main]

use std::collections::HashSet;
use std::fmt::Write;

use host_code::fx::cbr::{MAX_NOMINAL, parse_daily};
use host_code::fx::source::{DailyRates, RateSourceError};
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;

fuzz_target!(|bytes: &[u8]| {
    let daily = match parse_daily(bytes) {
        Ok(daily) => daily,
        Err(RateSourceError::Encoding(_) | RateSourceError::Malformed(_)) => return,
        Err(other) => panic!("a parse can only fail on its input, not with {other:?}"),
    };
    check_table(&daily);
    let written = write_cbr(&daily);
    let reparsed = parse_daily(written.as_bytes()).unwrap_or_else(|error| {
        panic!("the table written back does not parse: {error}\n{written}")
    });
    assert_eq!(
        reparsed, daily,
        "the table written back parses differently:\n{written}"
    );
});

/// What `DailyRates` and `CurrencyRate` promise about a parsed table.
fn check_table(daily: &DailyRates) {
    assert!(!daily.rates.is_empty(), "a table without currencies");
    let mut codes = HashSet::new();
    let mut ids = HashSet::new();
    for rate in &daily.rates {
        assert!(codes.insert(&rate.code), "currency {} twice", rate.code);
        assert!(
            ids.insert(&rate.source_id),
            "Valute ID {} twice",
            rate.source_id
        );
        assert!(rate.code.len() == 3 && rate.code.bytes().all(|b| b.is_ascii_uppercase()));
        assert!(rate.num_code.len() == 3 && rate.num_code.bytes().all(|b| b.is_ascii_digit()));
        assert!(!rate.source_id.is_empty());
        assert!(rate.source_id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(!rate.name.is_empty() && rate.name.trim() == rate.name);
        assert!((1..=MAX_NOMINAL).contains(&rate.nominal));
        assert!(
            rate.value > Decimal::ZERO,
            "{} Value {}",
            rate.code,
            rate.value
        );
        assert!(
            rate.per_unit > Decimal::ZERO,
            "{} per unit {}",
            rate.code,
            rate.per_unit
        );
        let expected = (rate.value / Decimal::from(rate.nominal)).normalize();
        assert_eq!(
            rate.per_unit, expected,
            "{} per unit is not Value / Nominal",
            rate.code
        );
    }
}

/// The table as the CBR would publish it (UTF-8, with a `VunitRate`). Names are written
/// as character references wherever raw text could be read back differently.
fn write_cbr(daily: &DailyRates) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    let date = daily.date.format("%d.%m.%Y").to_string();
    write!(
        xml,
        "<ValCurs Date=\"{date}\" name=\"Foreign Currency Market\">"
    )
    .unwrap();
    for rate in &daily.rates {
        write!(
            xml,
            "<Valute ID=\"{}\"><NumCode>{}</NumCode><CharCode>{}</CharCode><Nominal>{}</Nominal><Name>{}</Name><Value>{}</Value><VunitRate>{}</VunitRate></Valute>",
            rate.source_id,
            rate.num_code,
            rate.code,
            rate.nominal,
            escape(&rate.name),
            comma_decimal(rate.value),
            comma_decimal(rate.per_unit),
        )
        .unwrap();
    }
    xml.push_str("</ValCurs>");
    xml
}

/// Character references for all but letters, digits and spaces; NUL (which has no
/// reference, and which the parser reads raw, as quick-xml does) stays raw.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_alphanumeric() || c == ' ' || c == '\0' => c.to_string(),
            c => format!("&#{};", u32::from(c)),
        })
        .collect()
}

fn comma_decimal(value: Decimal) -> String {
    value.to_string().replace('.', ",")
}
