//! What the host makes of a plugin's `calculate` result (`runtime/convert.rs`), for
//! results any plugin could return and for results an honest plugin computes. Nothing
//! panics; an accepted result is in the request's currency, has one line per item with
//! the item's id, only contract decimals, no breakdown key twice, fits the result
//! limit once stored, and carries the plugin's values unchanged; an honest result is
//! accepted whenever it fits, and its totals still add up after the conversion.
#![no_main]

use arbitrary::Arbitrary;
use host_code::contract::{LineItem, QuoteRequest, QuoteResult, ValueKind, check_value};
use host_code::runtime::{quote_result, wit};
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;

/// Small, so that the size limit is reached as easily as the rest.
const MAX_RESULT_BYTES: usize = 4096;

#[derive(Arbitrary, Debug)]
struct Case {
    /// The request's items: an id and a quantity each.
    items: Vec<(String, Dec)>,
    answer: Answer,
}

#[derive(Arbitrary, Debug)]
enum Answer {
    /// Any result at all.
    Any(AnyResult),
    /// Prices per item and a tax; line totals, subtotal and total computed from them.
    Honest {
        unit_prices: Vec<Dec>,
        tax: Dec,
        breakdown: Vec<(String, String)>,
        warnings: Vec<String>,
    },
}

#[derive(Arbitrary, Debug)]
struct AnyResult {
    /// `None`: the request's currency.
    currency: Option<String>,
    items: Vec<AnyLine>,
    subtotal: Text,
    tax: Text,
    total: Text,
    breakdown: Vec<(String, String)>,
    warnings: Vec<String>,
}

#[derive(Arbitrary, Debug)]
struct AnyLine {
    /// `None`: the id of the request's item at the same place.
    id: Option<String>,
    unit_price: Text,
    total: Text,
    breakdown: Vec<(String, String)>,
}

/// A decimal field's text: a number as `rust_decimal` writes one, or anything.
#[derive(Arbitrary, Debug)]
enum Text {
    Decimal(Dec),
    Any(String),
}

impl Text {
    fn text(self) -> String {
        match self {
            Text::Decimal(dec) => dec.value().to_string(),
            Text::Any(text) => text,
        }
    }
}

/// A decimal as a plugin computes one: mantissa and scale.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Dec {
    mantissa: i64,
    scale: u8,
}

impl Dec {
    fn value(self) -> Decimal {
        Decimal::new(self.mantissa, u32::from(self.scale) % 29)
    }
}

fuzz_target!(|case: Case| {
    let request = request(&case.items);
    match case.answer {
        Answer::Any(any) => {
            let sent = any_result(any, &request);
            if let Ok(result) = quote_result(sent.clone(), &request, MAX_RESULT_BYTES) {
                accepted_keeps_the_contract(&sent, &result, &request);
            }
        }
        Answer::Honest {
            unit_prices,
            tax,
            breakdown,
            warnings,
        } => {
            let Some(sent) =
                honest_result(&request, &unit_prices, tax.value(), breakdown, warnings)
            else {
                return; // the arithmetic overflowed: no honest plugin returns that
            };
            match quote_result(sent.clone(), &request, MAX_RESULT_BYTES) {
                Ok(result) => {
                    accepted_keeps_the_contract(&sent, &result, &request);
                    totals_add_up(&result, &request);
                }
                Err(message) => {
                    let duplicate_key = has_duplicate_key(&sent.breakdown);
                    assert!(
                        duplicate_key || message.contains("over the limit"),
                        "an honest result was refused: {message}"
                    );
                }
            }
        }
    }
});

fn request(items: &[(String, Dec)]) -> QuoteRequest {
    QuoteRequest {
        currency: "RUB".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        variables: Default::default(),
        items: items
            .iter()
            .map(|(id, quantity)| LineItem {
                id: id.clone(),
                sku: "SKU".into(),
                name: String::new(),
                quantity: quantity.value().to_string(),
                unit_price: "1".into(),
                currency: "RUB".into(),
                attributes: Default::default(),
            })
            .collect(),
        rates: Vec::new(),
    }
}

fn fields(pairs: Vec<(String, String)>) -> Vec<wit::Field> {
    pairs
        .into_iter()
        .map(|(key, value)| wit::Field { key, value })
        .collect()
}

fn any_result(any: AnyResult, request: &QuoteRequest) -> wit::QuoteResult {
    let items = (any.items.into_iter().enumerate())
        .map(|(index, line)| wit::LineResult {
            id: line.id.unwrap_or_else(|| {
                (request.items.get(index)).map_or_else(String::new, |item| item.id.clone())
            }),
            unit_price: line.unit_price.text(),
            total: line.total.text(),
            breakdown: fields(line.breakdown),
        })
        .collect();
    wit::QuoteResult {
        currency: any.currency.unwrap_or_else(|| request.currency.clone()),
        items,
        subtotal: any.subtotal.text(),
        tax: any.tax.text(),
        total: any.total.text(),
        breakdown: fields(any.breakdown),
        warnings: any.warnings,
    }
}

/// Line total = unit price x quantity, subtotal = sum of lines, total = subtotal + tax,
/// spelled as `rust_decimal` spells them; `None` when that overflows.
fn honest_result(
    request: &QuoteRequest,
    unit_prices: &[Dec],
    tax: Decimal,
    breakdown: Vec<(String, String)>,
    warnings: Vec<String>,
) -> Option<wit::QuoteResult> {
    let mut subtotal = Decimal::ZERO;
    let mut items = Vec::with_capacity(request.items.len());
    for (index, item) in request.items.iter().enumerate() {
        let unit_price = unit_prices
            .get(index)
            .map_or(Decimal::ONE, |dec| dec.value());
        let quantity = Decimal::from_str_exact(&item.quantity).ok()?;
        let total = unit_price.checked_mul(quantity)?;
        subtotal = subtotal.checked_add(total)?;
        items.push(wit::LineResult {
            id: item.id.clone(),
            unit_price: unit_price.to_string(),
            total: total.to_string(),
            breakdown: vec![wit::Field {
                key: "quantity".into(),
                value: item.quantity.clone(),
            }],
        });
    }
    Some(wit::QuoteResult {
        currency: request.currency.clone(),
        items,
        subtotal: subtotal.to_string(),
        tax: tax.to_string(),
        total: subtotal.checked_add(tax)?.to_string(),
        breakdown: fields(breakdown),
        warnings,
    })
}

fn has_duplicate_key(fields: &[wit::Field]) -> bool {
    let mut keys = std::collections::HashSet::new();
    !fields.iter().all(|field| keys.insert(&field.key))
}

fn accepted_keeps_the_contract(
    sent: &wit::QuoteResult,
    result: &QuoteResult,
    request: &QuoteRequest,
) {
    assert_eq!(result.currency, request.currency);
    assert_eq!(result.items.len(), request.items.len());
    for (line, item) in result.items.iter().zip(&request.items) {
        assert_eq!(line.id, item.id);
        for text in [&line.unit_price, &line.total] {
            assert!(check_value(ValueKind::Decimal, text).is_ok(), "{text:?}");
        }
    }
    for text in [&result.subtotal, &result.tax, &result.total] {
        assert!(check_value(ValueKind::Decimal, text).is_ok(), "{text:?}");
    }
    // Values unchanged and in the plugin's order.
    for (line, sent) in result.items.iter().zip(&sent.items) {
        assert_eq!(
            (&line.unit_price, &line.total),
            (&sent.unit_price, &sent.total)
        );
        same_breakdown(&line.breakdown, &sent.breakdown);
    }
    same_breakdown(&result.breakdown, &sent.breakdown);
    assert_eq!(result.warnings, sent.warnings);
    assert_eq!(
        (&result.subtotal, &result.tax, &result.total),
        (&sent.subtotal, &sent.tax, &sent.total)
    );
    // The limit counts text as JSON writes it, plus 16 bytes per field, line and
    // warning; the JSON's own structure adds at most 36 bytes per line and 89 in all.
    let stored = serde_json::to_vec(result).unwrap().len();
    let bound = MAX_RESULT_BYTES + 36 * result.items.len() + 89;
    assert!(
        stored <= bound,
        "a result accepted under the {MAX_RESULT_BYTES}-byte limit is stored as {stored} bytes"
    );
}

fn same_breakdown(kept: &host_code::contract::Breakdown, sent: &[wit::Field]) {
    assert_eq!(kept.len(), sent.len(), "a breakdown key twice was accepted");
    for ((key, value), field) in kept.iter().zip(sent) {
        assert_eq!(key, &field.key);
        assert_eq!(value.as_str(), Some(field.value.as_str()));
    }
}

fn totals_add_up(result: &QuoteResult, request: &QuoteRequest) {
    let parse = |text: &str| Decimal::from_str_exact(text).unwrap();
    let mut sum = Decimal::ZERO;
    for (line, item) in result.items.iter().zip(&request.items) {
        let total = parse(&line.total);
        assert_eq!(
            parse(&line.unit_price) * parse(&item.quantity),
            total,
            "line {}",
            line.id
        );
        sum += total;
    }
    assert_eq!(
        sum,
        parse(&result.subtotal),
        "the lines do not add up to the subtotal"
    );
    assert_eq!(
        parse(&result.subtotal) + parse(&result.tax),
        parse(&result.total)
    );
}
