//! `calculate` burns `spin_millions` million iterations of a black-boxed loop (default
//! 0), then returns a valid result: unit price as given, total = unit price × quantity,
//! tax 0. The host must simply succeed; tests use it for slow-but-successful calls
//! (concurrency, time limits that are not hit, fuel per iteration).

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use core::hint::black_box;
use quote::pricing::types::{LineResult, Scope, ValueKind, VariableSpec};

struct SlowOk;

impl Guest for SlowOk {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "slow-ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: vec![VariableSpec {
                name: "spin_millions".into(),
                kind: ValueKind::Integer,
                scope: Scope::Quote,
                required: false,
                default: Some("0".into()),
                description: "Millions of busy-loop iterations to run before answering.".into(),
            }],
        }
    }

    fn calculate(request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        let millions: u64 = match request.variables.iter().find(|v| v.key == "spin_millions") {
            None => 0,
            Some(v) => v.value.parse().map_err(|_| {
                CalcError::InvalidInput(format!("spin_millions: not an integer: {:?}", v.value))
            })?,
        };
        let mut acc: u64 = 0;
        for i in 0..millions.saturating_mul(1_000_000) {
            acc = black_box(acc.wrapping_add(i));
        }
        black_box(acc);

        let mut subtotal = (0i128, 0u32);
        let mut items = Vec::with_capacity(request.items.len());
        for item in request.items {
            let price = parse(&item.unit_price).ok_or_else(|| {
                CalcError::InvalidInput(format!(
                    "item {}: unit-price {:?}",
                    item.id, item.unit_price
                ))
            })?;
            let quantity = parse(&item.quantity).ok_or_else(|| {
                CalcError::InvalidInput(format!("item {}: quantity {:?}", item.id, item.quantity))
            })?;
            let overflow = || CalcError::InvalidInput(format!("item {}: total too large", item.id));
            let total = (
                price.0.checked_mul(quantity.0).ok_or_else(overflow)?,
                price.1 + quantity.1,
            );
            subtotal = add(subtotal, total).ok_or_else(overflow)?;
            items.push(LineResult {
                id: item.id,
                unit_price: item.unit_price,
                total: format_decimal(total),
                breakdown: Vec::new(),
            });
        }
        Ok(QuoteResult {
            currency: request.currency,
            items,
            subtotal: format_decimal(subtotal),
            tax: "0".into(),
            total: format_decimal(subtotal),
            breakdown: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

/// A decimal as (mantissa, scale): "-12.50" is (-1250, 2).
type Decimal = (i128, u32);

fn parse(text: &str) -> Option<Decimal> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty() || (unsigned.contains('.') && fraction.is_empty()) || fraction.len() > 18 {
        return None;
    }
    let mut mantissa: i128 = 0;
    for c in whole.chars().chain(fraction.chars()) {
        let digit = c.to_digit(10)?;
        mantissa = mantissa.checked_mul(10)?.checked_add(digit.into())?;
    }
    Some((
        if negative { -mantissa } else { mantissa },
        fraction.len() as u32,
    ))
}

fn add(a: Decimal, b: Decimal) -> Option<Decimal> {
    let scale = a.1.max(b.1);
    let widen = |d: Decimal| d.0.checked_mul(10i128.checked_pow(scale - d.1)?);
    Some((widen(a)?.checked_add(widen(b)?)?, scale))
}

fn format_decimal((mantissa, scale): Decimal) -> String {
    let digits = format!(
        "{:0>width$}",
        mantissa.unsigned_abs(),
        width = scale as usize + 1
    );
    let (whole, fraction) = digits.split_at(digits.len() - scale as usize);
    let sign = if mantissa < 0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

export!(SlowOk);
