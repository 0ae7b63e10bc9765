//! Text ⇄ value conversions (decimals, whole numbers, dates) and the specification's
//! rounding operators `R4` and `UP1`.

use crate::request::Error;
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt::Display;
use std::str::FromStr;

/// `R4(x)`: 4 decimal places, ties away from zero (Python `ROUND_HALF_UP`).
pub fn r4(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
}

/// `UP1(x)`: the smallest multiple of 0.1 that is ≥ x.
pub fn up1(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(1, RoundingStrategy::ToPositiveInfinity)
}

/// `x / 100`.
pub fn percent(x: Decimal) -> Decimal {
    x / Decimal::ONE_HUNDRED
}

/// Parses a contract decimal: optional '-', digits, optional '.' and digits; surrounding
/// blanks are ignored. `field` names the input in the error.
pub fn parse_decimal(text: &str, field: impl Display) -> Result<Decimal, Error> {
    let bad = || Error::invalid(format!("{field}: '{text}' is not a decimal number"));
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix('-').unwrap_or(trimmed);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !fraction.is_none_or(all_digits) {
        return Err(bad());
    }
    Decimal::from_str(trimmed).map_err(|_| bad())
}

/// Parses a whole number; "12" and "12.0" are accepted, "12.5" is not.
pub fn parse_integer(text: &str, field: impl Display) -> Result<i64, Error> {
    let value = parse_decimal(text, &field)?;
    if !value.fract().is_zero() {
        return Err(Error::invalid(format!(
            "{field}: '{text}' is not a whole number"
        )));
    }
    i64::try_from(value).map_err(|_| Error::invalid(format!("{field}: '{text}' is too large")))
}

/// A calendar date (proleptic Gregorian), ordered by (year, month, day).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses YYYY-MM-DD.
    pub fn parse(text: &str, field: impl Display) -> Result<Date, Error> {
        let bad = || Error::invalid(format!("{field}: '{text}' is not a date (YYYY-MM-DD)"));
        let t = text.trim();
        let parts: Vec<&str> = t.split('-').collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(bad());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        let day: u32 = d.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(bad());
        }
        Ok(Date { year, month, day })
    }

    /// The date `days` days later.
    pub fn plus_days(self, days: i64) -> Date {
        civil_from_days(days_from_civil(self) + days)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

// Howard Hinnant's days-from-civil algorithm (days since 1970-01-01).
fn days_from_civil(date: Date) -> i64 {
    let y = i64::from(date.year) - i64::from(date.month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(date.month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    Date { year, month, day }
}

/// A rounded amount as fixed-point text with exactly 4 decimals ("12.5000", never "-0.0000").
pub fn fixed4(x: Decimal) -> String {
    let mut x = r4(x);
    if x.is_zero() {
        x = Decimal::ZERO;
    }
    x.rescale(4);
    scaled_text(x.mantissa(), x.scale())
}

/// An unrounded ratio as plain text without trailing zeros ("0.02", "0.0091932858225500").
pub fn plain(x: Decimal) -> String {
    let x = x.normalize();
    if x.is_zero() {
        "0".into()
    } else {
        scaled_text(x.mantissa(), x.scale())
    }
}

/// `mantissa / 10^scale` as decimal text, the way `Decimal`'s `Display` writes it, in one
/// allocation and without the formatting machinery (a fifth of a call's fuel went there).
const TEN_TO_19: u128 = 10_000_000_000_000_000_000;

fn scaled_text(mantissa: i128, scale: u32) -> String {
    let scale = scale as usize;
    // Least significant first; a Decimal's mantissa has at most 29 digits.
    let mut digits = [0u8; 40];
    let mut count = 0;
    // A mantissa past 64 bits (a share with 28 decimals) is split once into two 64-bit
    // halves of 19 digits: 128-bit division is a library call in wasm, 64-bit is one
    // instruction.
    let magnitude = mantissa.unsigned_abs();
    let mut rest = match u64::try_from(magnitude) {
        Ok(small) => small,
        Err(_) => {
            let mut low = (magnitude % TEN_TO_19) as u64;
            for _ in 0..19 {
                digits[count] = (low % 10) as u8;
                low /= 10;
                count += 1;
            }
            (magnitude / TEN_TO_19) as u64
        }
    };
    // At least one digit before the point: zeros are written up to position `scale`.
    while rest != 0 || count <= scale {
        digits[count] = (rest % 10) as u8;
        rest /= 10;
        count += 1;
    }
    let mut text = Vec::with_capacity(count + 2);
    if mantissa < 0 {
        text.push(b'-');
    }
    for position in (0..count).rev() {
        text.push(b'0' + digits[position]);
        if position == scale && scale > 0 {
            text.push(b'.');
        }
    }
    String::from_utf8(text).expect("digits, '.' and '-' are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn rounding_operators() {
        assert_eq!(r4(d("1.00005")), d("1.0001"));
        assert_eq!(r4(d("-1.00005")), d("-1.0001"));
        assert_eq!(r4(d("1.00004999")), d("1.0000"));
        assert_eq!(up1(d("123.11")), d("123.2"));
        assert_eq!(up1(d("123.1")), d("123.1"));
        assert_eq!(up1(d("0")), d("0"));
    }

    #[test]
    fn strict_decimal_syntax() {
        assert_eq!(parse_decimal("1234.50", "x").unwrap(), d("1234.50"));
        assert_eq!(parse_decimal("-0.5", "x").unwrap(), d("-0.5"));
        assert_eq!(parse_decimal(" 3 ", "x").unwrap(), d("3"));
        for bad in [
            "", "-", "1.", ".5", "1e3", "1_000", "+1", "1,5", "abc", "1.2.3",
        ] {
            let err = parse_decimal(bad, "variables.markup").unwrap_err();
            assert_eq!(
                err,
                Error::invalid(format!("variables.markup: '{bad}' is not a decimal number"))
            );
        }
        assert_eq!(parse_integer("60", "x").unwrap(), 60);
        assert_eq!(parse_integer("60.0", "x").unwrap(), 60);
        assert!(parse_integer("60.5", "x").is_err());
    }

    #[test]
    fn dates() {
        let date = Date::parse("2025-11-28", "date").unwrap();
        assert_eq!(date.plus_days(60).to_string(), "2026-01-27");
        assert_eq!(
            Date::parse("2024-02-29", "d")
                .unwrap()
                .plus_days(365)
                .to_string(),
            "2025-02-28"
        );
        assert!(Date::parse("2025-02-29", "d").is_err());
        assert!(Date::parse("2025-1-01", "d").is_err());
        assert!(Date::parse("tomorrow", "d").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(fixed4(d("1694.149154")), "1694.1492");
        assert_eq!(fixed4(d("-0.00001")), "0.0000");
        assert_eq!(fixed4(d("90")), "90.0000");
        assert_eq!(plain(d("0.0200")), "0.02");
        assert_eq!(plain(d("-0.000")), "0");
        assert_eq!(fixed4(d("-12.34567")), "-12.3457");
        assert_eq!(fixed4(d("0.00005")), "0.0001");
        assert_eq!(plain(d("-0.05")), "-0.05");
        assert_eq!(plain(d("1200")), "1200");
    }

    #[test]
    fn formatting_matches_display() {
        let samples = [
            "0.0001",
            "1",
            "-1",
            "123456789.1234",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "7.9228162514264337593543950335",
            "0.0000000000000000000000000001",
            "18446744073709551615",
            "18446744073709551616.5",
            "-0.0091932858225500",
        ];
        for sample in samples {
            let x = d(sample);
            assert_eq!(
                scaled_text(x.mantissa(), x.scale()),
                x.to_string(),
                "{sample}"
            );
            let mut rounded = r4(x);
            rounded.rescale(4);
            if !rounded.is_zero() {
                assert_eq!(fixed4(x), rounded.to_string(), "{sample}");
            }
            if !x.is_zero() {
                assert_eq!(plain(x), x.normalize().to_string(), "{sample}");
            }
        }
    }
}
