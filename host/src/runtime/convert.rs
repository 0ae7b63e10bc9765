//! Crossing the sandbox boundary: host types to WIT values, and WIT values back to
//! host types only after checking them (decimals, line count and ids, size).

use super::bindings::quote::pricing::types as wit;
use crate::contract::{
    Breakdown, CalcError, LineResult, PluginInfo, QuoteRequest, QuoteResult, Scope, ValueKind,
    VariableSpec,
};
use std::collections::HashSet;

/// Bytes counted per field on top of its text, so a flood of empty strings is not free.
const FIELD_OVERHEAD: usize = 16;

pub(super) fn request(request: &QuoteRequest) -> wit::QuoteRequest {
    let fields = |map: &std::collections::BTreeMap<String, String>| {
        map.iter()
            .map(|(key, value)| wit::Field {
                key: key.clone(),
                value: value.clone(),
            })
            .collect()
    };
    wit::QuoteRequest {
        currency: request.currency.clone(),
        date: request.date.to_string(),
        variables: fields(&request.variables),
        items: request
            .items
            .iter()
            .map(|item| wit::LineItem {
                id: item.id.clone(),
                sku: item.sku.clone(),
                name: item.name.clone(),
                quantity: item.quantity.clone(),
                unit_price: item.unit_price.clone(),
                currency: item.currency.clone(),
                attributes: fields(&item.attributes),
            })
            .collect(),
        rates: request
            .rates
            .iter()
            .map(|rate| wit::Rate {
                base: rate.base.clone(),
                quote: rate.quote.clone(),
                rate: rate.rate.clone(),
                date: rate.date.to_string(),
            })
            .collect(),
    }
}

/// The plugin's own error, its message cut to `max_message_bytes`.
pub(super) fn calc_error(error: wit::CalcError, max_message_bytes: usize) -> CalcError {
    let cut = |message: String| cut_text(message, max_message_bytes);
    match error {
        wit::CalcError::InvalidInput(message) => CalcError::InvalidInput(cut(message)),
        wit::CalcError::MissingRate(message) => CalcError::MissingRate(cut(message)),
        wit::CalcError::Unsupported(message) => CalcError::Unsupported(cut(message)),
        wit::CalcError::Internal(message) => CalcError::Internal(cut(message)),
    }
}

/// `text` if it fits in `max_bytes`, else its first `max_bytes` (on a character
/// boundary) and a note of how much was cut.
fn cut_text(text: String, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text;
    }
    crate::text::truncate(&text, max_bytes).into_owned()
}

/// Checks a plugin's result against the request it answered.
pub(super) fn quote_result(
    result: wit::QuoteResult,
    request: &QuoteRequest,
    max_bytes: usize,
) -> Result<QuoteResult, String> {
    let size = result_size(&result);
    if size > max_bytes {
        return Err(format!(
            "the result is {size} bytes, over the limit of {max_bytes}"
        ));
    }
    if result.currency != request.currency {
        return Err(format!(
            "the result is in {} but the request asked for {}",
            result.currency, request.currency
        ));
    }
    if result.items.len() != request.items.len() {
        return Err(format!(
            "{} line results for {} items: there must be exactly one per item",
            result.items.len(),
            request.items.len()
        ));
    }
    let mut items = Vec::with_capacity(result.items.len());
    for (index, (line, item)) in result.items.into_iter().zip(&request.items).enumerate() {
        if line.id != item.id {
            return Err(format!(
                "items[{index}] has id '{}' but the request's item has id '{}'",
                line.id, item.id
            ));
        }
        decimal(&line.unit_price, || format!("items[{index}].unit_price"))?;
        decimal(&line.total, || format!("items[{index}].total"))?;
        items.push(LineResult {
            id: line.id,
            unit_price: line.unit_price,
            total: line.total,
            breakdown: breakdown(line.breakdown, || format!("items[{index}].breakdown"))?,
        });
    }
    for (value, field) in [
        (&result.subtotal, "subtotal"),
        (&result.tax, "tax"),
        (&result.total, "total"),
    ] {
        decimal(value, || field)?;
    }
    Ok(QuoteResult {
        currency: result.currency,
        items,
        subtotal: result.subtotal,
        tax: result.tax,
        total: result.total,
        breakdown: breakdown(result.breakdown, || "breakdown")?,
        warnings: result.warnings,
    })
}

/// Checks `describe` output: size, unique variable names, defaults of the declared kind.
pub(super) fn plugin_info(info: wit::PluginInfo, max_bytes: usize) -> Result<PluginInfo, String> {
    let size = [&info.name, &info.version, &info.description]
        .iter()
        .map(|text| text.len())
        .sum::<usize>()
        + info
            .variables
            .iter()
            .map(|spec| {
                spec.name.len()
                    + spec.description.len()
                    + spec.default.as_ref().map_or(0, String::len)
            })
            .sum::<usize>();
    if size > max_bytes {
        return Err(format!(
            "describe returned {size} bytes, over the limit of {max_bytes}"
        ));
    }
    let mut names = HashSet::new();
    let mut variables = Vec::with_capacity(info.variables.len());
    for spec in info.variables {
        if !names.insert(spec.name.clone()) {
            return Err(format!("variable '{}' is declared twice", spec.name));
        }
        let kind = value_kind(spec.kind);
        if let Some(default) = &spec.default
            && let Err(reason) = crate::contract::check_value(kind, default)
        {
            return Err(format!(
                "the default of variable '{}' is invalid: {reason}",
                spec.name
            ));
        }
        variables.push(VariableSpec {
            name: spec.name,
            kind,
            scope: match spec.scope {
                wit::Scope::Quote => Scope::Quote,
                wit::Scope::Item => Scope::Item,
                wit::Scope::Both => Scope::Both,
            },
            required: spec.required,
            default: spec.default,
            description: spec.description,
        });
    }
    Ok(PluginInfo {
        name: info.name,
        version: info.version,
        description: info.description,
        variables,
    })
}

fn value_kind(kind: wit::ValueKind) -> ValueKind {
    match kind {
        wit::ValueKind::Decimal => ValueKind::Decimal,
        wit::ValueKind::Integer => ValueKind::Integer,
        wit::ValueKind::Text => ValueKind::Text,
        wit::ValueKind::Boolean => ValueKind::Boolean,
        wit::ValueKind::Date => ValueKind::Date,
    }
}

/// `field` names the place only when the check fails: no formatting on the hot path.
fn decimal<F: Into<String>>(text: &str, field: impl FnOnce() -> F) -> Result<(), String> {
    crate::contract::check_value(ValueKind::Decimal, text)
        .map_err(|reason| format!("{}: {reason}", field().into()))
}

fn breakdown<P: Into<String>>(
    fields: Vec<wit::Field>,
    place: impl FnOnce() -> P,
) -> Result<Breakdown, String> {
    use serde_json::map::Entry;
    let mut map = Breakdown::with_capacity(fields.len());
    for field in fields {
        // One hash per key: the entry both checks for a repeat and inserts.
        match map.entry(field.key) {
            Entry::Vacant(slot) => {
                slot.insert(serde_json::Value::String(field.value));
            }
            Entry::Occupied(taken) => {
                return Err(format!(
                    "{} has the key '{}' twice",
                    place().into(),
                    taken.key()
                ));
            }
        }
    }
    Ok(map)
}

/// The result's size as the limit counts it: every text as JSON writes it (escapes
/// included, so a text of control characters counts six times its length, as it is
/// stored), plus [`FIELD_OVERHEAD`] per field, line and warning. The stored JSON is at
/// most 36 bytes per line and 89 per result larger than this.
fn result_size(result: &wit::QuoteResult) -> usize {
    let fields = |fields: &[wit::Field]| {
        fields
            .iter()
            .map(|field| json_len(&field.key) + json_len(&field.value) + FIELD_OVERHEAD)
            .sum::<usize>()
    };
    let lines = result
        .items
        .iter()
        .map(|line| {
            json_len(&line.id)
                + json_len(&line.unit_price)
                + json_len(&line.total)
                + fields(&line.breakdown)
                + FIELD_OVERHEAD
        })
        .sum::<usize>();
    let warnings = result
        .warnings
        .iter()
        .map(|warning| json_len(warning) + FIELD_OVERHEAD)
        .sum::<usize>();
    json_len(&result.currency)
        + json_len(&result.subtotal)
        + json_len(&result.tax)
        + json_len(&result.total)
        + fields(&result.breakdown)
        + lines
        + warnings
}

/// Bytes of `text` inside a JSON string: `"` and `\` take two, a control character
/// at most six (`\u0001`).
fn json_len(text: &str) -> usize {
    let escapes = text
        .bytes()
        .map(|byte| match byte {
            b'"' | b'\\' => 1,
            0x00..=0x1f => 5,
            _ => 0,
        })
        .sum::<usize>();
    text.len() + escapes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::LineItem;

    fn request(items: usize) -> QuoteRequest {
        QuoteRequest {
            currency: "RUB".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            variables: Default::default(),
            items: (1..=items)
                .map(|n| LineItem {
                    id: n.to_string(),
                    sku: "A".into(),
                    name: String::new(),
                    quantity: "1".into(),
                    unit_price: "1".into(),
                    currency: "RUB".into(),
                    attributes: Default::default(),
                })
                .collect(),
            rates: Vec::new(),
        }
    }

    fn result(lines: &[(&str, &str)]) -> wit::QuoteResult {
        wit::QuoteResult {
            currency: "RUB".into(),
            items: lines
                .iter()
                .map(|(id, price)| wit::LineResult {
                    id: id.to_string(),
                    unit_price: price.to_string(),
                    total: price.to_string(),
                    breakdown: Vec::new(),
                })
                .collect(),
            subtotal: "1".into(),
            tax: "0".into(),
            total: "1".into(),
            breakdown: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn long_plugin_messages_are_cut_on_a_character_boundary() {
        let short = calc_error(wit::CalcError::Internal("short".into()), 8);
        assert_eq!(short, CalcError::Internal("short".into()));
        // 'é' is two bytes: a cut at 5 would split the third one.
        let long = calc_error(wit::CalcError::InvalidInput("éééééé".into()), 5);
        assert_eq!(
            long,
            CalcError::InvalidInput("éé… (8 more bytes cut)".into())
        );
    }

    #[test]
    fn accepts_a_well_formed_result() {
        assert!(quote_result(result(&[("1", "1.00")]), &request(1), 1024).is_ok());
    }

    #[test]
    fn rejects_what_breaks_the_contract() {
        let error = |lines: &[(&str, &str)], items| {
            quote_result(result(lines), &request(items), 1024).unwrap_err()
        };
        assert!(error(&[("1", "12,50")], 1).contains("items[0].unit_price"));
        assert!(error(&[("1", "1e5")], 1).contains("items[0].unit_price"));
        assert!(error(&[], 1).contains("0 line results for 1 items"));
        assert!(error(&[("2", "1")], 1).contains("has id '2'"));
        let big = "9".repeat(600);
        assert!(error(&[("1", &big), ("2", &big)], 2).contains("over the limit of 1024"));
    }

    /// Found by the `plugin_result` fuzz target: control characters are stored as six
    /// bytes each (`\u0001`), so counting them as one let a result past the limit.
    #[test]
    fn the_limit_counts_text_as_it_is_stored() {
        let mut escaped = result(&[("1", "1")]);
        escaped.warnings = vec!["\u{1}".repeat(200)];
        let error = quote_result(escaped.clone(), &request(1), 1024).unwrap_err();
        assert!(error.contains("over the limit of 1024"), "{error}");
        let stored = serde_json::to_vec(&quote_result(escaped, &request(1), 2048).unwrap())
            .unwrap()
            .len();
        assert!(stored > 1024, "{stored}");
    }
}
