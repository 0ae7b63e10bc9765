//! What a calculation may carry: how many items, variables and attributes, how long each
//! identifier and text may be, how a currency is spelled. Checked before anything else
//! reads the input (before the plugin is even chosen), so no later message or log line
//! repeats an unbounded value.

use crate::contract::CalculationInput;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The bounds, in the config file's `[input_limits]` (`QUOTE_INPUT_LIMITS__<FIELD>`).
/// Lengths count characters (Unicode scalar values), as JSON Schema's `maxLength` does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputLimits {
    /// Items in one calculation. Default 5000 (the standard plugin's result for 5000
    /// items stays well under the 1 MiB result limit).
    pub max_items: usize,
    /// Characters of an item's `id`. Default 128.
    pub max_item_id_chars: usize,
    /// Characters of an item's `sku`. Default 128.
    pub max_sku_chars: usize,
    /// Characters of an item's `name`. Default 1024.
    pub max_name_chars: usize,
    /// Quote-level `variables` in one calculation. Default 100.
    pub max_variables: usize,
    /// `attributes` of one item. Default 100.
    pub max_attributes: usize,
    /// Characters of a variable or attribute name. Default 128.
    pub max_key_chars: usize,
    /// Characters of a variable or attribute value. Default 1024.
    pub max_value_chars: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        Self {
            max_items: 5_000,
            max_item_id_chars: 128,
            max_sku_chars: 128,
            max_name_chars: 1024,
            max_variables: 100,
            max_attributes: 100,
            max_key_chars: 128,
            max_value_chars: 1024,
        }
    }
}

/// Longest `plugin` reference: a plugin name (at most 64 characters), `@` and a version.
pub const MAX_PLUGIN_REF_CHARS: usize = 64 + 1 + 10;

/// A bound the input broke, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError {
    /// `too_many_items`, `too_many_variables`, `too_many_attributes`, `field_too_long`
    /// or `invalid_currency`.
    pub code: &'static str,
    /// Where, as a path into the request body: `items[3].sku`, `variables.markup`.
    pub field: String,
    /// The bound: a count or a number of characters.
    pub limit: usize,
    pub message: String,
}

/// Checks `input` against `limits`; the first bound broken is the answer.
pub fn check(limits: &InputLimits, input: &CalculationInput) -> Result<(), LimitError> {
    let items = input.items.len();
    if items > limits.max_items {
        return Err(LimitError {
            code: "too_many_items",
            field: "items".into(),
            limit: limits.max_items,
            message: format!(
                "a calculation may have at most {} items, this one has {items}; split it into several quotes",
                limits.max_items
            ),
        });
    }
    currency("currency", &input.currency)?;
    if let Some(plugin) = &input.plugin {
        length("plugin", plugin, MAX_PLUGIN_REF_CHARS)?;
    }
    pairs(limits, "variables", &input.variables, limits.max_variables)?;
    for (index, item) in input.items.iter().enumerate() {
        let field = |name: &str| format!("items[{index}].{name}");
        length(&field("id"), &item.id, limits.max_item_id_chars)?;
        length(&field("sku"), &item.sku, limits.max_sku_chars)?;
        length(&field("name"), &item.name, limits.max_name_chars)?;
        currency(&field("currency"), &item.currency)?;
        pairs(
            limits,
            &field("attributes"),
            &item.attributes,
            limits.max_attributes,
        )?;
    }
    Ok(())
}

/// A map of names to values: how many, and how long each name and value.
fn pairs(
    limits: &InputLimits,
    field: &str,
    entries: &BTreeMap<String, String>,
    max_entries: usize,
) -> Result<(), LimitError> {
    if entries.len() > max_entries {
        let code = match field {
            "variables" => "too_many_variables",
            _ => "too_many_attributes",
        };
        return Err(LimitError {
            code,
            field: field.into(),
            limit: max_entries,
            message: format!(
                "{field} may have at most {max_entries} entries, it has {}",
                entries.len()
            ),
        });
    }
    for (key, value) in entries {
        let chars = key.chars().count();
        if chars > limits.max_key_chars {
            let start = crate::text::truncate(key, 32);
            return Err(too_long(
                format!("{field} (the name starting '{start}')"),
                chars,
                limits.max_key_chars,
            ));
        }
        length(&format!("{field}.{key}"), value, limits.max_value_chars)?;
    }
    Ok(())
}

fn length(field: &str, text: &str, max_chars: usize) -> Result<(), LimitError> {
    // A character is at most 4 bytes: short text needs no counting.
    if text.len() <= max_chars {
        return Ok(());
    }
    let chars = text.chars().count();
    match chars > max_chars {
        true => Err(too_long(field.into(), chars, max_chars)),
        false => Ok(()),
    }
}

fn too_long(field: String, chars: usize, max_chars: usize) -> LimitError {
    LimitError {
        code: "field_too_long",
        message: format!("{field} is {chars} characters long; at most {max_chars} are allowed"),
        field,
        limit: max_chars,
    }
}

/// An ISO 4217 code: three capital letters.
fn currency(field: &str, code: &str) -> Result<(), LimitError> {
    match code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        true => Ok(()),
        false => Err(LimitError {
            code: "invalid_currency",
            message: format!(
                "{field} must be an ISO 4217 code of three capital letters like RUB or USD, got '{}'",
                crate::text::truncate(code, 16)
            ),
            field: field.into(),
            limit: 3,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::LineItem;

    fn item(index: usize) -> LineItem {
        LineItem {
            id: String::new(),
            sku: format!("SKU-{index}"),
            name: String::new(),
            quantity: "1".into(),
            unit_price: "1".into(),
            currency: "RUB".into(),
            attributes: BTreeMap::new(),
        }
    }

    fn input(items: usize) -> CalculationInput {
        CalculationInput {
            currency: "RUB".into(),
            date: None,
            plugin: None,
            variables: BTreeMap::new(),
            items: (0..items).map(item).collect(),
            rates: None,
        }
    }

    fn refused(limits: &InputLimits, input: &CalculationInput) -> (&'static str, String) {
        let error = check(limits, input).unwrap_err();
        assert!(error.message.contains(&error.field), "{error:?}");
        (error.code, error.field)
    }

    #[test]
    fn every_field_is_accepted_at_its_limit_and_refused_one_over() {
        let limits = InputLimits::default();
        type Setter = fn(&mut CalculationInput, usize);
        #[rustfmt::skip]
        let cases: [(&str, usize, Setter, &str); 7] = [
            ("id", 128, |i, n| i.items[1].id = "i".repeat(n), "items[1].id"),
            ("sku", 128, |i, n| i.items[1].sku = "s".repeat(n), "items[1].sku"),
            ("name", 1024, |i, n| i.items[1].name = "é".repeat(n), "items[1].name"),
            ("value", 1024, |i, n| { i.variables.insert("markup".into(), "1".repeat(n)); }, "variables.markup"),
            ("attribute value", 1024, |i, n| { i.items[1].attributes.insert("w".into(), "1".repeat(n)); }, "items[1].attributes.w"),
            ("plugin", MAX_PLUGIN_REF_CHARS, |i, n| i.plugin = Some("p".repeat(n)), "plugin"),
            ("variable name", 128, |i, n| { i.variables.insert("k".repeat(n), "1".into()); }, "variables (the name starting"),
        ];
        for (what, limit, set, field) in cases {
            let mut at_limit = input(2);
            set(&mut at_limit, limit);
            assert_eq!(check(&limits, &at_limit), Ok(()), "{what} at its limit");
            let mut over = input(2);
            set(&mut over, limit + 1);
            let (code, named) = refused(&limits, &over);
            assert_eq!(code, "field_too_long", "{what}");
            assert!(named.starts_with(field), "{what}: {named}");
        }
    }

    #[test]
    fn counts_are_bounded() {
        let limits = InputLimits::default();
        assert_eq!(check(&limits, &input(5_000)), Ok(()));
        assert_eq!(
            refused(&limits, &input(5_001)),
            ("too_many_items", "items".into())
        );
        let mut variables = input(1);
        variables.variables = (0..100).map(|n| (n.to_string(), "1".into())).collect();
        assert_eq!(check(&limits, &variables), Ok(()));
        variables.variables.insert("one-more".into(), "1".into());
        assert_eq!(
            refused(&limits, &variables),
            ("too_many_variables", "variables".into())
        );
        let mut attributes = input(1);
        attributes.items[0].attributes = (0..101).map(|n| (n.to_string(), "1".into())).collect();
        assert_eq!(
            refused(&limits, &attributes),
            ("too_many_attributes", "items[0].attributes".into())
        );
    }

    #[test]
    fn currencies_are_three_capital_letters() {
        let limits = InputLimits::default();
        for bad in ["0", "rub", "RUBL", "", "ЁЁЁ"] {
            let mut quote = input(1);
            quote.currency = bad.into();
            assert_eq!(
                refused(&limits, &quote),
                ("invalid_currency", "currency".into())
            );
            let mut item = input(1);
            item.items[0].currency = bad.into();
            assert_eq!(
                refused(&limits, &item),
                ("invalid_currency", "items[0].currency".into())
            );
        }
    }
}
