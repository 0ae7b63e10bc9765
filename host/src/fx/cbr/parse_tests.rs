//! Tests of `parse.rs`: the parser on the real fixture and on broken input.

use super::*;
use std::str::FromStr;

/// Byte-exact CBR response for 02.11.2023 (windows-1251, one line).
const FIXTURE: &[u8] = include_bytes!("../../../../fixtures/cbr/XML_daily_2023-11-02.xml");

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn expect_malformed(bytes: &[u8], needle: &str) {
    match parse_daily(bytes) {
        Err(RateSourceError::Malformed(msg)) => {
            assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}")
        }
        other => panic!("expected Malformed containing {needle:?}, got {other:?}"),
    }
}

/// A minimal UTF-8 document with the given `Valute` elements.
fn doc(valutes: &str) -> Vec<u8> {
    format!(r#"<?xml version="1.0" encoding="utf-8"?><ValCurs Date="02.11.2023" name="Foreign Currency Market">{valutes}</ValCurs>"#).into_bytes()
}

fn usd(nominal: &str, value: &str, vunit: Option<&str>) -> String {
    let vunit = vunit
        .map(|v| format!("<VunitRate>{v}</VunitRate>"))
        .unwrap_or_default();
    format!(
        "<Valute ID=\"R01235\"><NumCode>840</NumCode><CharCode>USD</CharCode><Nominal>{nominal}</Nominal><Name>Доллар США</Name><Value>{value}</Value>{vunit}</Valute>"
    )
}

/// Removes every `<VunitRate>...</VunitRate>` from the raw bytes (test input only).
fn strip_vunit_rate(bytes: &[u8]) -> Vec<u8> {
    let (open, close) = (b"<VunitRate>".as_slice(), b"</VunitRate>".as_slice());
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(start) = rest.windows(open.len()).position(|w| w == open) {
        out.extend_from_slice(&rest[..start]);
        let end = rest[start..]
            .windows(close.len())
            .position(|w| w == close)
            .unwrap();
        rest = &rest[start + end + close.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[test]
fn fixture_is_windows_1251_not_utf8() {
    assert!(std::str::from_utf8(std::hint::black_box(FIXTURE)).is_err());
    assert_eq!(FIXTURE.len(), 7782);
}

#[test]
fn fixture_parses_every_currency() {
    let daily = parse_daily(FIXTURE).unwrap();
    assert_eq!(daily.date, NaiveDate::from_ymd_opt(2023, 11, 2).unwrap());
    assert_eq!(daily.rates.len(), 43);
    let codes: Vec<&str> = daily.rates.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "AUD", "AZN", "GBP", "AMD", "BYN", "BGN", "BRL", "HUF", "VND", "HKD", "GEL", "DKK",
            "AED", "USD", "EUR", "EGP", "INR", "IDR", "KZT", "CAD", "QAR", "KGS", "CNY", "MDL",
            "NZD", "NOK", "PLN", "RON", "XDR", "SGD", "TJS", "THB", "TRY", "TMT", "UZS", "UAH",
            "CZK", "SEK", "CHF", "RSD", "ZAR", "KRW", "JPY"
        ]
    );
    let count = |n: u32| daily.rates.iter().filter(|r| r.nominal == n).count();
    assert_eq!(
        [count(1), count(10), count(100), count(1000), count(10_000)],
        [22, 12, 5, 1, 3]
    );
}

#[test]
fn fixture_per_unit_values_are_exact() {
    let daily = parse_daily(FIXTURE).unwrap();
    let check = |code: &str, nominal: u32, value: &str, per_unit: &str| {
        let rate = daily.get(code).unwrap_or_else(|| panic!("{code} missing"));
        assert_eq!(rate.nominal, nominal, "{code} nominal");
        assert_eq!(rate.value, dec(value), "{code} value");
        assert_eq!(rate.per_unit, dec(per_unit), "{code} per_unit");
        assert_eq!(
            rate.per_unit * Decimal::from(nominal),
            rate.value,
            "{code} exact"
        );
    };
    check("USD", 1, "93.2801", "93.2801");
    check("EUR", 1, "98.4365", "98.4365");
    check("AUD", 1, "59.0650", "59.065");
    check("EGP", 10, "30.1944", "3.01944");
    check("INR", 10, "11.2180", "1.1218");
    check("AMD", 100, "23.1815", "0.231815");
    check("HUF", 100, "26.0174", "0.260174");
    check("JPY", 100, "61.6524", "0.616524");
    check("KRW", 1000, "68.7247", "0.0687247");
    check("VND", 10_000, "38.7231", "0.00387231");
    check("IDR", 10_000, "58.6778", "0.00586778");
    check("UZS", 10_000, "76.2440", "0.0076244");
    // Value keeps its published 4 places; per_unit is normalized.
    assert_eq!(daily.get("AUD").unwrap().value.to_string(), "59.0650");
    assert_eq!(daily.get("UZS").unwrap().per_unit.to_string(), "0.0076244");
}

#[test]
fn fixture_fields_are_decoded_from_cp1251() {
    let daily = parse_daily(FIXTURE).unwrap();
    let usd = daily.get("USD").unwrap();
    assert_eq!(usd.name, "Доллар США");
    assert_eq!(usd.num_code, "840");
    assert_eq!(usd.source_id, "R01235");
    assert_eq!(daily.get("AUD").unwrap().num_code, "036");
    assert_eq!(
        daily.get("XDR").unwrap().name,
        "СДР (специальные права заимствования)"
    );
    assert_eq!(daily.get("KRW").unwrap().name, "Вон Республики Корея");
    assert_eq!(
        daily.get("GBP").unwrap().name,
        "Фунт стерлингов Соединенного королевства"
    );
}

#[test]
fn fixture_ids_with_letter_suffix() {
    let daily = parse_daily(FIXTURE).unwrap();
    let azn = daily.get("AZN").unwrap();
    assert_eq!(azn.source_id, "R01020A");
    assert_eq!(azn.name, "Азербайджанский манат");
    assert_eq!(azn.per_unit, dec("54.8706"));
    let suffixed: Vec<&str> = daily
        .rates
        .iter()
        .map(|r| r.source_id.as_str())
        .filter(|id| id.ends_with(|c: char| c.is_ascii_alphabetic()))
        .collect();
    assert_eq!(
        suffixed,
        [
            "R01020A", "R01090B", "R01585F", "R01700J", "R01710A", "R01805F"
        ]
    );
}

#[test]
fn fixture_without_vunit_rate_gives_same_per_unit() {
    let stripped = strip_vunit_rate(FIXTURE);
    assert!(stripped.len() < FIXTURE.len());
    assert!(!stripped.windows(9).any(|w| w == b"VunitRate"));
    assert_eq!(
        parse_daily(&stripped).unwrap(),
        parse_daily(FIXTURE).unwrap()
    );
}

#[test]
fn truncated_fixture_is_an_error() {
    for len in [FIXTURE.len() / 2, FIXTURE.len() - 1, FIXTURE.len() - 10, 60] {
        let err = parse_daily(&FIXTURE[..len]).unwrap_err();
        assert!(
            matches!(err, RateSourceError::Malformed(_)),
            "len {len}: {err:?}"
        );
    }
}

#[test]
fn empty_and_garbage_inputs_are_errors() {
    expect_malformed(b"", "empty");
    expect_malformed(b"  \r\n ", "empty");
    expect_malformed(b"not xml at all", "text outside");
    expect_malformed(
        b"<?xml version=\"1.0\" encoding=\"windows-1251\"?>",
        "no ValCurs",
    );
    expect_malformed(b"<html><body>Service unavailable</body></html>", "<html>");
    expect_malformed(b"<ValCurs Date=\"02.11.2023\"></ValCurs>", "no currencies");
    expect_malformed(b"<ValCurs Date=\"02.11.2023\"/>", "no currencies");
    // Random bytes with no declaration are read as UTF-8 and are not UTF-8.
    let garbage: Vec<u8> = (0u32..512)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(parse_daily(&garbage).is_err());
    assert!(matches!(
        parse_daily(&[0xff, 0xfe, 0x80, 0x81, b'<']),
        Err(RateSourceError::Encoding(_) | RateSourceError::Malformed(_))
    ));
    assert!(matches!(
        parse_daily(b"<ValCurs Date=\"02.11.2023\">\xC4\xEE</ValCurs>"),
        Err(RateSourceError::Encoding(_))
    ));
}

#[test]
fn encoding_comes_from_the_declaration() {
    let cp1251 = b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><ValCurs Date=\"02.11.2023\"><Valute ID=\"R01235\"><NumCode>840</NumCode><CharCode>USD</CharCode><Nominal>1</Nominal><Name>\xC4\xEE\xEB\xEB\xE0\xF0 \xD1\xD8\xC0</Name><Value>93,2801</Value></Valute></ValCurs>";
    assert_eq!(parse_daily(cp1251).unwrap().rates[0].name, "Доллар США");
    let utf8 = doc(&usd("1", "93,2801", None));
    assert_eq!(parse_daily(&utf8).unwrap().rates[0].name, "Доллар США");
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(&utf8);
    assert_eq!(parse_daily(&bom).unwrap().rates[0].name, "Доллар США");
    let unknown = b"<?xml version=\"1.0\" encoding=\"x-no-such\"?><ValCurs/>";
    assert!(matches!(
        parse_daily(unknown),
        Err(RateSourceError::Encoding(_))
    ));
}

#[test]
fn entities_in_names_are_resolved() {
    let valute = "<Valute ID=\"R1\"><NumCode>840</NumCode><CharCode>USD</CharCode><Nominal>1</Nominal><Name> A &amp; B &#1044;&#x20;</Name><Value>1,5</Value></Valute>";
    assert_eq!(parse_daily(&doc(valute)).unwrap().rates[0].name, "A & B Д");
}

#[test]
fn bad_values_are_errors() {
    for value in [
        "93.2801", "abc", "", "-93,2801", "93,", ",5", "9 3,28", "1,2,3", "0", "0,0000", "1e3",
    ] {
        let bytes = doc(&usd("1", value, None));
        assert!(
            matches!(parse_daily(&bytes), Err(RateSourceError::Malformed(_))),
            "Value {value:?} accepted"
        );
    }
    expect_malformed(
        &doc(&usd("1", "93.2801", None)),
        "not a positive comma-decimal",
    );
}

#[test]
fn bad_nominals_are_errors() {
    for nominal in [
        "0",
        "-1",
        "10001",
        "100000",
        "4294967296",
        "1,0",
        "ten",
        "+1",
        "",
    ] {
        let bytes = doc(&usd(nominal, "93,2801", None));
        assert!(
            matches!(parse_daily(&bytes), Err(RateSourceError::Malformed(_))),
            "Nominal {nominal:?} accepted"
        );
    }
    expect_malformed(&doc(&usd("0", "93,2801", None)), "Nominal \"0\"");
    assert!(parse_daily(&doc(&usd("10000", "93,2801", None))).is_ok());
}

#[test]
fn vunit_rate_is_cross_checked() {
    let ok = |nominal, value, vunit| parse_daily(&doc(&usd(nominal, value, Some(vunit))));
    assert_eq!(
        ok("1", "93,2801", "93,2801").unwrap().rates[0].per_unit,
        dec("93.2801")
    );
    assert_eq!(
        ok("1", "59,0650", "59,065").unwrap().rates[0].per_unit,
        dec("59.065")
    );
    assert_eq!(
        ok("100", "23,1815", "0,231815").unwrap().rates[0].per_unit,
        dec("0.231815")
    );
    // A VunitRate rounded to 4 places is accepted; per_unit stays exact.
    assert_eq!(
        ok("100", "23,1815", "0,2318").unwrap().rates[0].per_unit,
        dec("0.231815")
    );
    // Disagreements, including a per-unit value that was not divided by Nominal.
    expect_malformed(&doc(&usd("1", "93,2801", Some("93,2802"))), "disagrees");
    expect_malformed(&doc(&usd("100", "23,1815", Some("23,1815"))), "disagrees");
    expect_malformed(&doc(&usd("100", "23,1815", Some("0,2317"))), "disagrees");
    expect_malformed(&doc(&usd("100", "23,1815", Some("0,23"))), "disagrees");
    expect_malformed(&doc(&usd("1", "93,2801", Some("x"))), "VunitRate");
}

#[test]
fn missing_fields_are_errors() {
    for (field, needle) in [
        ("<NumCode>840</NumCode>", "NumCode"),
        ("<CharCode>USD</CharCode>", "CharCode"),
        ("<Nominal>1</Nominal>", "Nominal"),
        ("<Name>Доллар США</Name>", "Name"),
        ("<Value>93,2801</Value>", "Value"),
    ] {
        let valute = usd("1", "93,2801", None).replace(field, "");
        expect_malformed(&doc(&valute), needle);
        let emptied = usd("1", "93,2801", None).replace(field, &format!("<{needle}/>"));
        expect_malformed(&doc(&emptied), needle);
    }
    expect_malformed(
        &doc(&usd("1", "93,2801", None).replace(" ID=\"R01235\"", "")),
        "no ID",
    );
    expect_malformed(
        br#"<ValCurs name="x"><Valute ID="R1"/></ValCurs>"#,
        "no Date attribute",
    );
    expect_malformed(&doc("<Valute ID=\"R01235\"/>"), "NumCode");
}

#[test]
fn invalid_fields_are_errors() {
    let base = usd("1", "93,2801", None);
    expect_malformed(&doc(&base.replace(">USD<", ">usd<")), "CharCode");
    expect_malformed(&doc(&base.replace(">USD<", ">USDT<")), "CharCode");
    expect_malformed(&doc(&base.replace(">840<", ">84<")), "NumCode");
    expect_malformed(&doc(&base.replace("R01235", "R-1")), "Valute ID");
    expect_malformed(
        &doc(&base.replace("<Value>", "<Value>1</Value><Value>")),
        "duplicate <Value>",
    );
    expect_malformed(
        &doc(&base.replace("<Name>", "<Name><b>x</b>")),
        "contains element",
    );
    for date in ["2023-11-02", "2.11.2023", "31.02.2023", "02.11.23", ""] {
        let bytes = format!("<ValCurs Date=\"{date}\">{base}</ValCurs>");
        expect_malformed(bytes.as_bytes(), "DD.MM.YYYY");
    }
}

#[test]
fn duplicates_are_errors() {
    let usd1 = usd("1", "93,2801", None);
    expect_malformed(&doc(&format!("{usd1}{usd1}")), "duplicate Valute ID R01235");
    let usd2 = usd1.replace("R01235", "R01235X");
    expect_malformed(&doc(&format!("{usd1}{usd2}")), "duplicate currency USD");
}

#[test]
fn structure_errors() {
    let base = usd("1", "93,2801", None);
    expect_malformed(&doc(&format!("{base}stray")), "unexpected text");
    expect_malformed(
        format!("<ValCurs Date=\"02.11.2023\">{base}</ValCurs><ValCurs/>").as_bytes(),
        "after the ValCurs root",
    );
    expect_malformed(
        format!("<ValCurs Date=\"02.11.2023\">{base}</Valcurs>").as_bytes(),
        "invalid XML",
    );
    expect_malformed(
        format!("<Rates Date=\"02.11.2023\">{base}</Rates>").as_bytes(),
        "<Rates>",
    );
}

#[test]
fn layout_and_unknown_elements_are_tolerated() {
    let pretty = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- c -->\n<ValCurs Date=\"02.11.2023\" name=\"Foreign Currency Market\">\n  <Meta><x>1</x></Meta>\n  <Valute ID=\"R01235\">\n    <NumCode> 840 </NumCode>\n    <CharCode>USD</CharCode>\n    <Nominal>1</Nominal>\n    <Name>Доллар США</Name>\n    <Value>93,2801</Value>\n    <NewField>?</NewField>\n  </Valute>\n</ValCurs>\n";
    let daily = parse_daily(pretty.as_bytes()).unwrap();
    assert_eq!(daily.rates.len(), 1);
    assert_eq!(daily.rates[0].num_code, "840");
    assert_eq!(daily.rates[0].per_unit, dec("93.2801"));
}

#[test]
fn cbr_decimals_parse_exactly() {
    assert_eq!(parse_cbr_decimal("59,0650"), Some(dec("59.0650")));
    assert_eq!(parse_cbr_decimal("0,00387231"), Some(dec("0.00387231")));
    assert_eq!(parse_cbr_decimal("122"), Some(dec("122")));
    assert_eq!(parse_cbr_decimal("0,1"), Some(dec("0.1")));
    // More digits than a Decimal holds is rejected, not rounded.
    assert_eq!(parse_cbr_decimal("1,00000000000000000000000000001"), None);
    assert_eq!(parse_cbr_decimal("１,5"), None);
}

#[test]
fn cbr_dates_parse_strictly() {
    assert_eq!(
        parse_cbr_date("02.11.2023"),
        NaiveDate::from_ymd_opt(2023, 11, 2)
    );
    assert_eq!(
        parse_cbr_date("29.02.2024"),
        NaiveDate::from_ymd_opt(2024, 2, 29)
    );
    assert_eq!(parse_cbr_date("29.02.2023"), None);
    assert_eq!(parse_cbr_date("02/11/2023"), None);
    assert_eq!(parse_cbr_date("02.11.2023 "), None);
}
