//! Parser of the CBR `XML_daily.asp` document.
//!
//! Per-unit rate: `Value / Nominal`, computed in [`Decimal`], is authoritative.
//! `Value` is the published fixing (4 decimal places, for `Nominal` units); the
//! optional `VunitRate` (published since 2023) is derived from it, so it is only
//! cross-checked: it must agree with `Value / Nominal` when rounded to its own
//! number of decimal places, and at least 4. A disagreement rejects the whole
//! response, since one of the two numbers is then wrong and we cannot tell which.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::NaiveDate;
use encoding_rs::{Encoding, UTF_8};
use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use rust_decimal::Decimal;

use crate::rates::source::{CurrencyRate, DailyRates, RateSourceError};

/// Largest accepted `Nominal`. The CBR quotes per 1, 10, 100, 1000 or 10000
/// units; anything above this (or 0) is taken as a corrupt response.
pub const MAX_NOMINAL: u32 = 10_000;

/// Minimum number of decimal places to which `VunitRate` must agree with `Value / Nominal`.
const VUNIT_MIN_PLACES: u32 = 4;

/// Parses one CBR `XML_daily.asp` response body.
///
/// The bytes are decoded with the encoding named in the XML declaration
/// (windows-1251 for the CBR; a byte-order mark wins over the declaration, and
/// no declaration means UTF-8, as XML specifies). Either every currency in the
/// document is returned or an error: an empty, truncated or ill-formed document,
/// a root other than `ValCurs`, a missing or invalid field, a `Nominal` outside
/// `1..=`[`MAX_NOMINAL`], a comma-decimal `Value` that is not a positive number,
/// a `VunitRate` that disagrees with `Value / Nominal`, a duplicate currency code
/// or `Valute ID`, or no currency at all.
///
/// Elements this parser does not know, inside `ValCurs` or `Valute`, are skipped
/// so that a new field added by the CBR (as `VunitRate` was) does not break it.
///
/// # Errors
///
/// [`RateSourceError::Encoding`] when the body is not valid in its encoding (or
/// names an unknown one); [`RateSourceError::Malformed`] for everything else above.
pub fn parse_daily(bytes: &[u8]) -> Result<DailyRates, RateSourceError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(malformed("empty response body"));
    }
    let text = decode(bytes)?;
    parse_document(&text)
}

fn malformed(msg: impl Into<String>) -> RateSourceError {
    RateSourceError::Malformed(msg.into())
}

/// Decodes the body to text using its byte-order mark, else its XML declaration, else UTF-8.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, RateSourceError> {
    let (encoding, body) = match Encoding::for_bom(bytes) {
        Some((encoding, bom_len)) => (encoding, &bytes[bom_len..]),
        None => {
            let encoding = declared_encoding(bytes)?.unwrap_or(UTF_8);
            if !encoding.is_ascii_compatible() {
                // The declaration itself was just read as ASCII, so it contradicts itself.
                return Err(RateSourceError::Encoding(format!(
                    "declared encoding {} without a byte-order mark",
                    encoding.name()
                )));
            }
            (encoding, bytes)
        }
    };
    encoding
        .decode_without_bom_handling_and_without_replacement(body)
        .ok_or_else(|| RateSourceError::Encoding(format!("body is not valid {}", encoding.name())))
}

/// The encoding named by the XML declaration, if the document starts with one naming it.
fn declared_encoding(bytes: &[u8]) -> Result<Option<&'static Encoding>, RateSourceError> {
    let mut reader = Reader::from_reader(bytes);
    let Ok(Event::Decl(decl)) = reader.read_event() else {
        return Ok(None);
    };
    let Some(label) = decl.encoding() else {
        return Ok(None);
    };
    let label =
        label.map_err(|e| malformed(format!("bad encoding in the XML declaration: {e}")))?;
    Encoding::for_label(&label).map(Some).ok_or_else(|| {
        RateSourceError::Encoding(format!(
            "unknown encoding {:?} in the XML declaration",
            String::from_utf8_lossy(&label)
        ))
    })
}

/// Reads the next event, turning XML errors into [`RateSourceError::Malformed`].
fn next<'i>(reader: &mut Reader<&'i [u8]>) -> Result<Event<'i>, RateSourceError> {
    reader.read_event().map_err(|e| {
        malformed(format!(
            "invalid XML at offset {} of the decoded text: {e}",
            reader.error_position()
        ))
    })
}

/// Whether a text node is only XML whitespace (layout between elements).
fn is_blank(text: &BytesText<'_>) -> bool {
    text.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn element_name(name: QName<'_>) -> String {
    String::from_utf8_lossy(name.as_ref()).into_owned()
}

fn parse_document(text: &str) -> Result<DailyRates, RateSourceError> {
    let mut reader = Reader::from_str(text);
    let mut table = None;
    loop {
        match next(&mut reader)? {
            Event::Text(t) if is_blank(&t) => {}
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Start(root) if table.is_none() => {
                check_root(&root)?;
                let date = root_date(&reader, &root)?;
                let rates = parse_val_curs(&mut reader)?;
                table = Some(DailyRates { date, rates });
            }
            Event::Empty(root) if table.is_none() => {
                check_root(&root)?;
                root_date(&reader, &root)?;
                return Err(malformed("ValCurs lists no currencies"));
            }
            Event::Start(e) | Event::Empty(e) => {
                return Err(malformed(format!(
                    "unexpected element <{}> after the ValCurs root",
                    element_name(e.name())
                )));
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                return Err(malformed("text outside the ValCurs root element"));
            }
            Event::End(e) => {
                return Err(malformed(format!(
                    "unexpected </{}>",
                    element_name(e.name())
                )));
            }
            Event::Eof => break,
        }
    }
    table.ok_or_else(|| malformed("no ValCurs root element"))
}

fn check_root(root: &BytesStart<'_>) -> Result<(), RateSourceError> {
    if root.name().as_ref() == b"ValCurs" {
        Ok(())
    } else {
        Err(malformed(format!(
            "root element is <{}>, expected <ValCurs>",
            element_name(root.name())
        )))
    }
}

/// Value of attribute `name` of `element`, unescaped.
fn attribute(
    reader: &Reader<&[u8]>,
    element: &BytesStart<'_>,
    name: &str,
) -> Result<Option<String>, RateSourceError> {
    let what = || format!("attribute {name} of <{}>", element_name(element.name()));
    let Some(attr) = element
        .try_get_attribute(name)
        .map_err(|e| malformed(format!("bad {}: {e}", what())))?
    else {
        return Ok(None);
    };
    let value = attr
        .decode_and_unescape_value(reader.decoder())
        .map_err(|e| malformed(format!("bad {}: {e}", what())))?;
    Ok(Some(value.trim().to_owned()))
}

fn root_date(reader: &Reader<&[u8]>, root: &BytesStart<'_>) -> Result<NaiveDate, RateSourceError> {
    let raw = attribute(reader, root, "Date")?
        .ok_or_else(|| malformed("ValCurs has no Date attribute"))?;
    parse_cbr_date(&raw)
        .ok_or_else(|| malformed(format!("ValCurs Date {raw:?} is not a DD.MM.YYYY date")))
}

/// Parses `DD.MM.YYYY` strictly (two-digit day and month, four-digit year).
fn parse_cbr_date(raw: &str) -> Option<NaiveDate> {
    let bytes = raw.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[2] == b'.'
        && bytes[5] == b'.'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 2 || i == 5 || b.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let day = raw[0..2].parse().ok()?;
    let month = raw[3..5].parse().ok()?;
    let year = raw[6..10].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Parses the children of `ValCurs` up to its end tag.
fn parse_val_curs(reader: &mut Reader<&[u8]>) -> Result<Vec<CurrencyRate>, RateSourceError> {
    let mut rates = Vec::new();
    let mut codes = HashSet::new();
    let mut ids = HashSet::new();
    loop {
        let rate = match next(reader)? {
            Event::Start(e) if e.name().as_ref() == b"Valute" => {
                let id = valute_id(reader, &e)?;
                let fields = read_valute_fields(reader, &id)?;
                fields.into_rate(id)?
            }
            Event::Empty(e) if e.name().as_ref() == b"Valute" => {
                let id = valute_id(reader, &e)?;
                RawValute::default().into_rate(id)?
            }
            Event::Start(e) => {
                reader
                    .read_to_end(e.name())
                    .map_err(|err| malformed(format!("invalid XML inside ValCurs: {err}")))?;
                continue;
            }
            Event::Text(t) if is_blank(&t) => continue,
            Event::Empty(_) | Event::Comment(_) | Event::PI(_) => continue,
            Event::End(_) => break, // the end name is checked by quick-xml: it is </ValCurs>
            Event::Eof => return Err(malformed("document truncated inside ValCurs")),
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                return Err(malformed("unexpected text inside ValCurs"));
            }
            Event::Decl(_) | Event::DocType(_) => {
                return Err(malformed("unexpected declaration inside ValCurs"));
            }
        };
        if !ids.insert(rate.source_id.clone()) {
            return Err(malformed(format!("duplicate Valute ID {}", rate.source_id)));
        }
        if !codes.insert(rate.code.clone()) {
            return Err(malformed(format!("duplicate currency {}", rate.code)));
        }
        rates.push(rate);
    }
    if rates.is_empty() {
        return Err(malformed("ValCurs lists no currencies"));
    }
    Ok(rates)
}

fn valute_id(reader: &Reader<&[u8]>, valute: &BytesStart<'_>) -> Result<String, RateSourceError> {
    let id = attribute(reader, valute, "ID")?
        .ok_or_else(|| malformed("a Valute has no ID attribute"))?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(malformed(format!("invalid Valute ID {id:?}")));
    }
    Ok(id)
}

/// The text children of one `Valute`, as found, before validation.
#[derive(Default)]
struct RawValute {
    num_code: Option<String>,
    char_code: Option<String>,
    nominal: Option<String>,
    name: Option<String>,
    value: Option<String>,
    vunit_rate: Option<String>,
}

impl RawValute {
    /// The slot for a known field name, `None` for elements to skip.
    fn slot(&mut self, field: &[u8]) -> Option<&mut Option<String>> {
        match field {
            b"NumCode" => Some(&mut self.num_code),
            b"CharCode" => Some(&mut self.char_code),
            b"Nominal" => Some(&mut self.nominal),
            b"Name" => Some(&mut self.name),
            b"Value" => Some(&mut self.value),
            b"VunitRate" => Some(&mut self.vunit_rate),
            _ => None,
        }
    }

    /// Validates the fields and computes the per-unit rate.
    fn into_rate(self, id: String) -> Result<CurrencyRate, RateSourceError> {
        let err = |msg: String| malformed(format!("Valute {id}: {msg}"));
        let required = |field: Option<String>, name: &str| {
            field
                .filter(|v| !v.is_empty())
                .ok_or_else(|| err(format!("missing or empty {name}")))
        };
        let num_code = required(self.num_code, "NumCode")?;
        if num_code.len() != 3 || !num_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(format!("NumCode {num_code:?} is not 3 digits")));
        }
        let code = required(self.char_code, "CharCode")?;
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(err(format!("CharCode {code:?} is not 3 capital letters")));
        }
        let name = required(self.name, "Name")?;
        let nominal_raw = required(self.nominal, "Nominal")?;
        let nominal = nominal_raw
            .parse::<u32>()
            .ok()
            .filter(|n| {
                nominal_raw.bytes().all(|b| b.is_ascii_digit()) && (1..=MAX_NOMINAL).contains(n)
            })
            .ok_or_else(|| {
                err(format!(
                    "{code} Nominal {nominal_raw:?} is not an integer in 1..={MAX_NOMINAL}"
                ))
            })?;
        let value_raw = required(self.value, "Value")?;
        let value = parse_cbr_decimal(&value_raw).ok_or_else(|| {
            err(format!(
                "{code} Value {value_raw:?} is not a positive comma-decimal number"
            ))
        })?;
        let per_unit = value
            .checked_div(Decimal::from(nominal))
            .ok_or_else(|| err(format!("{code} Value / Nominal overflows")))?
            .normalize();
        if let Some(vunit_raw) = self.vunit_rate {
            let vunit = parse_cbr_decimal(&vunit_raw).ok_or_else(|| {
                err(format!(
                    "{code} VunitRate {vunit_raw:?} is not a positive comma-decimal number"
                ))
            })?;
            if !agrees(per_unit, vunit) {
                return Err(err(format!(
                    "{code} VunitRate {vunit_raw} disagrees with Value {value_raw} / Nominal {nominal} = {per_unit}"
                )));
            }
        }
        Ok(CurrencyRate {
            source_id: id,
            code,
            num_code,
            name,
            nominal,
            value,
            per_unit,
        })
    }
}

/// Whether `published` equals `exact` rounded to `published`'s decimal places (at least 4).
fn agrees(exact: Decimal, published: Decimal) -> bool {
    let places = published.scale().max(VUNIT_MIN_PLACES);
    // Half a unit in the last place: 5 * 10^-(places + 1).
    match Decimal::try_new(5, places + 1) {
        Ok(half_ulp) => (exact - published).abs() <= half_ulp,
        Err(_) => exact == published,
    }
}

/// Parses a CBR number: ASCII digits, optionally a comma and more digits
/// (`"59,0650"`, `"1"`). Anything else (a dot, a sign, spaces, an exponent) and
/// zero are rejected. Conversion is exact: no binary floating point is involved.
fn parse_cbr_decimal(raw: &str) -> Option<Decimal> {
    let (int, frac) = match raw.split_once(',') {
        Some((int, frac)) => (int, Some(frac)),
        None => (raw, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    let canonical = match frac {
        Some(frac) => format!("{int}.{frac}"),
        None => int.to_owned(),
    };
    Decimal::from_str_exact(&canonical)
        .ok()
        .filter(|d| !d.is_zero())
}

/// Reads the children of one `Valute` up to its end tag.
fn read_valute_fields(reader: &mut Reader<&[u8]>, id: &str) -> Result<RawValute, RateSourceError> {
    let mut fields = RawValute::default();
    loop {
        match next(reader)? {
            Event::Start(e) => {
                let text = read_text(reader, &e, id)?;
                store(&mut fields, &e, text, id)?;
            }
            Event::Empty(e) => store(&mut fields, &e, String::new(), id)?,
            Event::End(_) => return Ok(fields), // checked by quick-xml to be </Valute>
            Event::Text(t) if is_blank(&t) => {}
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => {
                return Err(malformed(format!("document truncated inside Valute {id}")));
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                return Err(malformed(format!(
                    "Valute {id}: unexpected text between fields"
                )));
            }
            Event::Decl(_) | Event::DocType(_) => {
                return Err(malformed(format!("Valute {id}: unexpected declaration")));
            }
        }
    }
}

fn store(
    fields: &mut RawValute,
    element: &BytesStart<'_>,
    text: String,
    id: &str,
) -> Result<(), RateSourceError> {
    let Some(slot) = fields.slot(element.name().as_ref()) else {
        return Ok(()); // unknown field: skipped
    };
    if slot.is_some() {
        return Err(malformed(format!(
            "Valute {id}: duplicate <{}>",
            element_name(element.name())
        )));
    }
    *slot = Some(text);
    Ok(())
}

/// Reads the text content of a field element (entities resolved) up to its end
/// tag. A known field must contain text only; an unknown one is read and discarded.
fn read_text(
    reader: &mut Reader<&[u8]>,
    element: &BytesStart<'_>,
    id: &str,
) -> Result<String, RateSourceError> {
    let field = element_name(element.name());
    let bad = |what: String| malformed(format!("Valute {id}: <{field}> {what}"));
    let mut text = String::new();
    loop {
        match next(reader)? {
            Event::Text(t) => text.push_str(
                &t.xml_content()
                    .map_err(|e| bad(format!("has undecodable text: {e}")))?,
            ),
            Event::CData(t) => text.push_str(
                &t.xml_content()
                    .map_err(|e| bad(format!("has undecodable CDATA: {e}")))?,
            ),
            Event::GeneralRef(r) => text.push(resolve_reference(&r).ok_or_else(|| {
                bad(format!(
                    "has an unknown entity &{};",
                    String::from_utf8_lossy(&r)
                ))
            })?),
            Event::Comment(_) | Event::PI(_) => {}
            Event::End(_) => return Ok(text.trim().to_owned()),
            Event::Start(e) | Event::Empty(e) => {
                return Err(bad(format!(
                    "contains element <{}>",
                    element_name(e.name())
                )));
            }
            Event::Eof => return Err(bad("is truncated".to_owned())),
            Event::Decl(_) | Event::DocType(_) => {
                return Err(bad("contains a declaration".to_owned()));
            }
        }
    }
}

/// Resolves a character reference (`&#1044;`) or one of the five predefined XML entities.
fn resolve_reference(reference: &BytesRef<'_>) -> Option<char> {
    if reference.is_char_ref() {
        return reference.resolve_char_ref().ok().flatten();
    }
    let name = reference.decode().ok()?;
    let resolved = quick_xml::escape::resolve_predefined_entity(&name)?;
    resolved.chars().next()
}

#[cfg(test)]
mod tests {
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
}
