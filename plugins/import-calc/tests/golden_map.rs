//! Golden scenarios of the import-calc rule set, mapped onto quote-host requests and
//! expectations.
//!
//! Self-contained (serde_json and std only, none of the plugin's types) so that the host's
//! test which runs the compiled `import_calc.wasm` through the real runtime can include it
//! verbatim with `#[path = "…/plugins/import-calc/tests/golden_map.rs"] mod golden_map;`.
//!
//! The mapping, mechanical by field name (see `golden/README.md`):
//! * `quote.currency_of_quote` → request `currency`; every other non-null `quote` key → a
//!   request variable of the same name (numbers as plain decimal text).
//! * each product → an item: `row` → `id`, `sku`, `product_name` → `name`, `quantity`,
//!   `base_price_vat` → `unit_price`, `currency_of_base_price` → `currency` (`XXX`, ISO 4217
//!   "no currency", when null); every other non-null product key except `expected` → an item
//!   attribute of the same name.
//! * `exchange_rate_base_price_to_quote` (Q, purchase-currency units per 1 unit of the quote
//!   currency; the price is divided by it) → the rate record `{base: <quote currency>,
//!   quote: <purchase currency>, rate: Q}` (1 base = rate quote). Where one record cannot say
//!   it — no purchase currency, the quote currency itself with Q ≠ 1, or two products of one
//!   currency with different Q — it goes into that item's attribute of the same name instead.
//! * expectations: every product's `expected` field, and every quote-level workbook cell
//!   (`quote_expected_workbook_cells`, then `quote_expected`), under the breakdown key of
//!   `quote_field`.
#![allow(dead_code)]

use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// The quote date of every golden request (the workbooks' extraction date). The rules do not
/// depend on it unless `delivery_date` is set, which no golden file does.
pub const QUOTE_DATE: &str = "2025-11-28";

/// Item currency for a product whose purchase currency the workbook left empty.
pub const NO_CURRENCY: &str = "XXX";

/// Product keys that map onto item fields rather than attributes.
const ITEM_KEYS: &[&str] = &[
    "row",
    "sku",
    "product_name",
    "quantity",
    "base_price_vat",
    "currency_of_base_price",
    "exchange_rate_base_price_to_quote",
    "expected",
];

/// Quote-level workbook cell → key in the result's `breakdown`.
pub const QUOTE_FIELDS: &[(&str, &str)] = &[
    ("S13", "quote_level_total_purchase"),
    ("AY13", "quote_level_internal_sale_total"),
    ("W10", "quote_level_insurance"),
    ("T13", "quote_level_logistics_first_leg"),
    ("U13", "quote_level_logistics_last_leg"),
    ("V13", "quote_level_logistics_total"),
    ("Y13", "quote_level_customs_fee"),
    ("Z13", "quote_level_excise_tax"),
    ("AZ13", "quote_level_purchase_with_supplier_vat"),
    ("AO13", "quote_level_vat_on_import"),
    ("AB13", "quote_level_total_cogs"),
    ("BJ2", "quote_level_direct_cost"),
    ("BJ3", "quote_level_forex_and_dm_reserve"),
    ("AC12", "quote_level_revenue_markup"),
    ("BH2", "quote_level_evaluated_revenue"),
    ("BH3", "quote_level_client_advance"),
    ("BH4", "quote_level_total_before_forwarding"),
    ("BH6", "quote_level_supplier_payment"),
    ("BH7", "quote_level_supplier_financing_need"),
    ("BH8", "quote_level_outlays_after_supplier_payment"),
    ("BH9", "quote_level_intermediate_client_payments"),
    ("BH10", "quote_level_operational_financing_need"),
    ("BI7", "quote_level_supplier_financing_fv"),
    ("BJ7", "quote_level_supplier_financing_cost"),
    ("BI10", "quote_level_operational_financing_fv"),
    ("BJ10", "quote_level_operational_financing_cost"),
    ("BJ11", "quote_level_total_financing_cost"),
    ("BL3", "quote_level_credit_sales_amount"),
    ("BL4", "quote_level_credit_sales_fv"),
    ("BL5", "quote_level_credit_sales_interest"),
];

/// The breakdown key of a quote-level cell; an unknown cell keeps its label (and so shows up
/// as missing rather than being skipped).
pub fn quote_field(cell: &str) -> String {
    QUOTE_FIELDS
        .iter()
        .find(|(c, _)| *c == cell)
        .map_or(cell, |(_, f)| f)
        .to_string()
}

pub struct Scenario {
    pub name: String,
    pub path: PathBuf,
    /// quote-host's HTTP/CLI request: `{currency, date, variables, items, rates}`.
    pub request: Value,
    /// Per-product expectations (`item_index` is `Some`).
    pub expectations: Vec<Expectation>,
    /// Quote-level expectations (`item_index` is `None`), against the result's `breakdown`.
    pub quote_expectations: Vec<Expectation>,
}

impl Scenario {
    /// Per-product and quote-level expectations together.
    pub fn all_expectations(&self) -> impl Iterator<Item = &Expectation> {
        self.expectations.iter().chain(&self.quote_expectations)
    }

    /// Every expectation the JSON `result` of a calculate answer (`{items: [{breakdown}],
    /// breakdown}`) misses, as messages; empty when all match.
    pub fn misses_in_json(&self, result: &Value) -> Vec<String> {
        self.all_expectations()
            .filter_map(|expectation| {
                let breakdown = match expectation.item_index {
                    Some(index) => &result["items"][index]["breakdown"],
                    None => &result["breakdown"],
                };
                expectation
                    .check(breakdown.get(&expectation.field).and_then(Value::as_str))
                    .err()
            })
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    Number(f64),
    Text(String),
}

/// Passes iff |actual − expected| ≤ max(absolute, relative·|expected|).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    pub absolute: f64,
    pub relative: f64,
}

impl Tolerance {
    pub fn allows(&self, actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= self.absolute.max(self.relative * expected.abs())
    }
}

#[derive(Clone, Debug)]
pub struct Expectation {
    /// Index into the request's `items` (and the result's lines); `None` for the quote.
    pub item_index: Option<usize>,
    /// Breakdown key.
    pub field: String,
    /// Workbook cell, e.g. "AF16" or "BH2", for messages.
    pub cell: String,
    pub expected: Expected,
    pub tolerance: Tolerance,
}

impl Expectation {
    /// Where the value lives, e.g. "items[0].profit (AF16)" or "breakdown.quote_level_… (BH2)".
    pub fn location(&self) -> String {
        match self.item_index {
            Some(index) => format!("items[{index}].{} ({})", self.field, self.cell),
            None => format!("breakdown.{} ({})", self.field, self.cell),
        }
    }

    /// Compares the result's text value (`None` when the key is missing).
    pub fn check(&self, actual: Option<&str>) -> Result<(), String> {
        let Some(actual) = actual else {
            return Err(format!(
                "{}: missing, expected {:?}",
                self.location(),
                self.expected
            ));
        };
        match &self.expected {
            Expected::Text(text) if text == actual => Ok(()),
            Expected::Text(text) => Err(format!(
                "{}: got '{actual}', expected '{text}'",
                self.location()
            )),
            Expected::Number(expected) => match actual.parse::<f64>() {
                Ok(value) if self.tolerance.allows(value, *expected) => Ok(()),
                Ok(value) => Err(format!(
                    "{}: got {actual}, expected {expected} (diff {:.6})",
                    self.location(),
                    value - expected
                )),
                Err(_) => Err(format!("{}: '{actual}' is not a number", self.location())),
            },
        }
    }
}

/// Every `*.json` in `dir`, sorted by name.
pub fn golden_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// Reads one golden file.
pub fn load_scenario(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = file["scenario"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
    let tolerance = Tolerance {
        absolute: file["tolerance"]["absolute"].as_f64().unwrap_or(0.01),
        relative: file["tolerance"]["relative"].as_f64().unwrap_or(0.001),
    };
    let products = file["products"].as_array().cloned().unwrap_or_default();
    Scenario {
        request: request(&file, &products),
        expectations: product_expectations(&file, &products, tolerance),
        quote_expectations: quote_expectations(&file, tolerance),
        name,
        path: path.to_path_buf(),
    }
}

fn request(file: &Value, products: &[Value]) -> Value {
    let quote = file["quote"].as_object().cloned().unwrap_or_default();
    let currency = quote
        .get("currency_of_quote")
        .and_then(Value::as_str)
        .unwrap_or("USD");
    let variables: Map<String, Value> = quote
        .iter()
        .filter(|(key, value)| *key != "currency_of_quote" && !value.is_null())
        .map(|(key, value)| (key.clone(), Value::String(text(value))))
        .collect();

    // One rate record per purchase currency whose products agree on Q.
    let purchase_currency = |p: &Value| p["currency_of_base_price"].as_str().map(str::to_string);
    let q_text = |p: &Value| {
        p.get("exchange_rate_base_price_to_quote")
            .filter(|q| !q.is_null())
            .map(text)
    };
    let mut records: Vec<(String, String)> = Vec::new();
    let mut conflicting: Vec<String> = Vec::new();
    for product in products {
        let (Some(cur), Some(q)) = (purchase_currency(product), q_text(product)) else {
            continue;
        };
        if cur == currency || conflicting.contains(&cur) {
            continue;
        }
        match records.iter().position(|(c, _)| *c == cur) {
            Some(at) if records[at].1 != q => {
                records.remove(at);
                conflicting.push(cur);
            }
            Some(_) => {}
            None => records.push((cur, q)),
        }
    }

    let items: Vec<Value> = products
        .iter()
        .enumerate()
        .map(|(index, product)| {
            let mut attributes: Map<String, Value> = product
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(key, value)| !ITEM_KEYS.contains(&key.as_str()) && !value.is_null())
                .map(|(key, value)| (key.clone(), Value::String(text(value))))
                .collect();
            let cur = purchase_currency(product);
            if let Some(q) = q_text(product) {
                let by_record = cur
                    .as_ref()
                    .is_some_and(|c| records.iter().any(|(r, _)| r == c));
                let same_and_one = cur.as_deref() == Some(currency) && q.parse::<f64>() == Ok(1.0);
                if !by_record && !same_and_one {
                    attributes.insert("exchange_rate_base_price_to_quote".into(), Value::String(q));
                }
            }
            let id = product
                .get("row")
                .filter(|r| !r.is_null())
                .map_or((index + 1).to_string(), text);
            json!({
                "id": id,
                "sku": product.get("sku").map_or(String::new(), text),
                "name": product.get("product_name").map_or(String::new(), text),
                "quantity": product.get("quantity").map_or(String::new(), text),
                "unit_price": product.get("base_price_vat").map_or(String::new(), text),
                "currency": cur.unwrap_or_else(|| NO_CURRENCY.to_string()),
                "attributes": attributes,
            })
        })
        .collect();

    let rates: Vec<Value> = records
        .into_iter()
        .map(|(cur, q)| json!({"base": currency, "quote": cur, "rate": q, "date": QUOTE_DATE}))
        .collect();
    json!({
        "currency": currency,
        "date": QUOTE_DATE,
        "variables": variables,
        "items": items,
        "rates": rates,
    })
}

fn product_expectations(
    file: &Value,
    products: &[Value],
    tolerance: Tolerance,
) -> Vec<Expectation> {
    let mut out = Vec::new();
    for (index, product) in products.iter().enumerate() {
        let row = product.get("row").and_then(Value::as_u64);
        let Some(expected) = product["expected"].as_object() else {
            continue;
        };
        for (field, value) in expected {
            let Some(expected) = expected_value(value) else {
                continue;
            };
            let column: String = file["field_cells"][field]
                .as_str()
                .unwrap_or(field)
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .to_string();
            let cell = row.map_or(column.clone(), |row| format!("{column}{row}"));
            out.push(Expectation {
                item_index: Some(index),
                field: field.clone(),
                cell,
                expected,
                tolerance,
            });
        }
    }
    out
}

fn quote_expectations(file: &Value, tolerance: Tolerance) -> Vec<Expectation> {
    let mut out: Vec<Expectation> = Vec::new();
    for group in ["quote_expected_workbook_cells", "quote_expected"] {
        for (cell, value) in file[group].as_object().into_iter().flatten() {
            let Some(expected) = expected_value(value) else {
                continue;
            };
            if out.iter().any(|e| e.cell == *cell) {
                continue;
            }
            out.push(Expectation {
                item_index: None,
                field: quote_field(cell),
                cell: cell.clone(),
                expected,
                tolerance,
            });
        }
    }
    out
}

fn expected_value(value: &Value) -> Option<Expected> {
    match value {
        Value::Number(n) => n.as_f64().map(Expected::Number),
        Value::String(s) => Some(Expected::Text(s.clone())),
        Value::Bool(b) => Some(Expected::Text(b.to_string())),
        _ => None,
    }
}

/// A JSON scalar as request text; numbers as plain decimals (no exponent).
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => plain_decimal(&n.to_string()),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// "1.5e-7" → "0.00000015", "2e3" → "2000"; other text unchanged.
pub fn plain_decimal(number: &str) -> String {
    let Some((mantissa, exponent)) = number.split_once(['e', 'E']) else {
        return number.to_string();
    };
    let exponent: i64 = exponent.parse().expect("numeric exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let point = whole.len() as i64 + exponent;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    let body = body.trim_start_matches('0');
    let body = if body.is_empty() || body.starts_with('.') {
        format!("0{body}")
    } else {
        body.to_string()
    };
    format!("{sign}{body}")
}
