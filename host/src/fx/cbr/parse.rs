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

use crate::fx::source::{CurrencyRate, DailyRates, RateSourceError};

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
#[path = "parse_tests.rs"]
mod tests;
