//! The declared variables (what `describe` reports): name, kind, scope, default and bounds.
//! `lookup` reads them from a request.

use crate::request::Error;
use rust_decimal::Decimal;
use std::fmt::Display;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Decimal,
    Integer,
    Text,
    Date,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Only in the request's `variables`.
    Quote,
    /// Only in an item's `attributes`.
    Item,
    /// Either; the item attribute wins.
    Both,
}

/// Allowed numeric range: `min ≤ x` (or `min < x`), and `x ≤ max`.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub min: i64,
    pub min_exclusive: bool,
    pub max: i64,
}

/// Sanity ceiling for amounts of money and prices (10^15), far above any real quote,
/// that keeps every intermediate value inside the 28 digits of a decimal.
pub const MONEY_MAX: i64 = 1_000_000_000_000_000;
const NON_NEGATIVE_MONEY: Bounds = Bounds {
    min: 0,
    min_exclusive: false,
    max: MONEY_MAX,
};
const PERCENT: Bounds = Bounds {
    min: 0,
    min_exclusive: false,
    max: 100,
};
const FRACTION: Bounds = Bounds {
    min: 0,
    min_exclusive: false,
    max: 1,
};
const DAYS: Bounds = Bounds {
    min: 0,
    min_exclusive: false,
    max: 3650,
};
const NONE: Bounds = Bounds {
    min: 0,
    min_exclusive: false,
    max: 0,
};

pub struct Variable {
    pub name: &'static str,
    pub kind: Kind,
    pub scope: Scope,
    pub required: bool,
    pub default: Option<&'static str>,
    pub bounds: Bounds,
    /// Unit in plain words (README and `describe`).
    pub unit: &'static str,
    pub description: &'static str,
}

const fn var(
    name: &'static str,
    kind: Kind,
    scope: Scope,
    default: Option<&'static str>,
    bounds: Bounds,
    unit: &'static str,
    description: &'static str,
) -> Variable {
    Variable {
        name,
        kind,
        scope,
        required: false,
        default,
        bounds,
        unit,
        description,
    }
}

const fn required(mut v: Variable) -> Variable {
    v.required = true;
    v
}

use Kind::{Date as D, Decimal as N, Integer as I, Text as T};
use Scope::{Both, Item, Quote};

const NO_EFFECT: &str = "Accepted for compatibility with the workbook; has no effect on the \
                         result (spec §10 F10). A non-zero value produces a warning.";
const NO_EFFECT_DAYS: &str = "Accepted for compatibility with the workbook; has no effect on \
                              the result.";

#[rustfmt::skip]
pub const VARIABLES: &[Variable] = &[
    var("seller_company", T, Quote, Some("МАСТЕР БЭРИНГ ООО"), NONE, "one of the six seller companies",
        "The group company that sells: МАСТЕР БЭРИНГ ООО, ЦМТО1 ООО, РАД РЕСУРС ООО (Russia), TEXCEL OTOMOTİV TİCARET LİMİTED ŞİRKETİ, GESTUS DIŞ TİCARET LİMİTED ŞİRKETİ (Turkey), UPDOOR Limited (China, not supported). Its country decides Russian VAT and the internal markup."),
    var("offer_sale_type", T, Quote, Some("поставка"), NONE, "поставка | транзит | финтранзит | экспорт",
        "Kind of sale: поставка (supply: profit on full cost), транзит (transit: profit on purchase value, plus a transit commission), финтранзит (financial transit) and экспорт (export) are priced like transit; export carries no import VAT and no agent fee."),
    var("offer_incoterms", T, Quote, Some("DDP"), NONE, "DDP | DAP | CIF | FOB | EXW",
        "Delivery terms. Only DDP incurs customs duty and import VAT and adds Russian VAT to the sale price."),
    required(var("delivery_time", I, Quote, None, Bounds { min: 0, min_exclusive: true, max: 3650 }, "days",
        "Days from the supplier's prepayment to delivery: the time the supplier prepayment is financed.")),
    var("delivery_date", D, Quote, None, NONE, "date YYYY-MM-DD",
        "Delivery date; decides the Russian VAT rate (22 % if in 2026 or later, else 20 %). Not before the quote date. When absent 20 % is used."),
    var("advance_from_client", N, Quote, Some("100"), PERCENT, "percent of the revenue",
        "Share of the estimated revenue the client pays in advance."),
    var("advance_to_supplier", N, Quote, Some("100"), PERCENT, "percent of the purchase",
        "Share of the purchase (with supplier VAT) prepaid to the supplier."),
    var("time_to_advance_on_receiving", I, Quote, Some("0"), DAYS, "days",
        "Days the client has to pay the balance after delivery (workbook K9): credit-sale interest runs for that long."),
    var("time_to_advance", I, Quote, Some("0"), DAYS, "days", NO_EFFECT_DAYS),
    var("advance_on_loading", N, Quote, Some("0"), PERCENT, "percent", NO_EFFECT),
    var("time_to_advance_loading", I, Quote, Some("0"), DAYS, "days", NO_EFFECT_DAYS),
    var("advance_on_going_to_country_destination", N, Quote, Some("0"), PERCENT, "percent", NO_EFFECT),
    var("time_to_advance_going_to_country_destination", I, Quote, Some("0"), DAYS, "days", NO_EFFECT_DAYS),
    var("advance_on_customs_clearance", N, Quote, Some("0"), PERCENT, "percent", NO_EFFECT),
    var("time_to_advance_on_customs_clearance", I, Quote, Some("0"), DAYS, "days", NO_EFFECT_DAYS),
    var("logistics_supplier_hub", N, Quote, Some("0"), NON_NEGATIVE_MONEY, "quote currency, whole quote",
        "Freight from the supplier to the hub (W2); first leg, spread over the products."),
    var("logistics_hub_customs", N, Quote, Some("0"), NON_NEGATIVE_MONEY, "quote currency, whole quote",
        "Freight from the hub to customs (W3); first leg."),
    var("logistics_customs_client", N, Quote, Some("0"), NON_NEGATIVE_MONEY, "quote currency, whole quote",
        "Freight from customs to the client (W4); last leg."),
    var("brokerage_hub", N, Quote, Some("0"), NON_NEGATIVE_MONEY, "quote currency, whole quote",
        "Brokerage at the hub (W5); first leg."),
    var("brokerage_customs", N, Quote, Some("0"), NON_NEGATIVE_MONEY, "quote currency, whole quote",
        "Customs brokerage (W6); last leg."),
    var("warehousing_at_customs", N, Quote, Some("0"), NON_NEGATIVE_MONEY, "quote currency, whole quote",
        "Warehousing at customs (W7); last leg."),
    var("customs_documentation", N, Quote, Some("0"), NON_NEGATIVE_MONEY, "quote currency, whole quote",
        "Customs documentation (W8); first leg."),
    var("brokerage_extra", N, Quote, Some("0"), NON_NEGATIVE_MONEY, "quote currency, whole quote",
        "Other brokerage costs (W9); last leg."),
    var("dm_fee_type", T, Quote, Some("fixed"), NONE, "fixed | %",
        "How the decision-maker fee is given: 'fixed' (an amount for the whole quote) or '%' (percent of cost)."),
    var("dm_fee_value", N, Quote, Some("0"), NON_NEGATIVE_MONEY, "quote currency if fixed, percent if %",
        "Decision-maker fee: an amount in the quote currency spread over the products by purchase value, or a percentage of the full cost."),
    var("rate_forex_risk", N, Quote, Some("3"), PERCENT, "percent",
        "Currency-risk reserve added to the sale price."),
    var("rate_fin_comm", N, Quote, Some("2"), PERCENT, "percent",
        "Financial agent's commission on payments to the supplier and on first-leg logistics."),
    var("rate_loan_interest_annual", N, Quote, Some("0.25"), FRACTION, "fraction per year (0.25 = 25 %)",
        "Annual interest of the money that finances the deal (simple interest, 365-day year)."),
    var("rate_insurance", N, Quote, Some("0.00047"), FRACTION, "fraction of the internal sale value",
        "Cargo insurance rate; the premium is rounded up to 0.1."),
    var("customs_logistics_pmt_due", I, Quote, Some("10"), Bounds { min: 0, min_exclusive: false, max: 365 }, "days",
        "Days for which customs duty, import VAT and logistics outlays are financed."),
    var("weight_in_kg", N, Both, Some("0"), Bounds { min: 0, min_exclusive: false, max: 1_000_000_000 }, "kg per unit",
        "Weight of one unit. When the quote has any weight, logistics (not insurance) are spread by weight; excise is per kg."),
    var("customs_code", T, Both, None, NONE, "10 digits",
        "Customs tariff code (TN VED). Checked for form (10 digits) only; it does not change the result."),
    required(var("supplier_country", T, Both, None, NONE, "one of the eleven countries",
        "Where the supplier sells from: Турция, Турция (транзитная зона), Россия, Китай, Литва, Латвия, Болгария, Польша, ЕС (между странами ЕС), ОАЭ, Прочие. Decides the supplier VAT removed from the price and the internal markup.")),
    var("supplier_discount", N, Both, Some("0"), PERCENT, "percent",
        "Supplier's discount on the price net of supplier VAT."),
    required(var("markup", N, Both, None, Bounds { min: 0, min_exclusive: false, max: 500 }, "percent",
        "The seller's markup (profit) on the product's cost (supply) or purchase value (other sale types).")),
    required(var("import_tariff", N, Both, None, PERCENT, "percent of the customs value",
        "Russian import duty rate; applies under DDP only.")),
    var("excise_tax", N, Both, Some("0"), Bounds { min: 0, min_exclusive: false, max: 1_000_000_000 }, "quote currency per kg",
        "Excise per kg of weight."),
    var("util_fee", N, Both, Some("0"), NON_NEGATIVE_MONEY, "money",
        "Recycling fee. Accepted for compatibility; has no effect on the result (as in the original engine)."),
    var("exchange_rate_base_price_to_quote", N, Item, None, Bounds { min: 0, min_exclusive: true, max: MONEY_MAX }, "purchase-currency units per 1 unit of the quote currency",
        "Optional explicit conversion of this item's price (the workbook's column Q): the price is DIVIDED by it. When absent, the rate comes from the request's rates (or is 1 for a price already in the quote currency)."),
];

/// The position of the declared variable `name` in [`VARIABLES`].
pub fn position(name: &str) -> Option<usize> {
    VARIABLES.iter().position(|v| v.name == name)
}

/// The declared variable `name` (a programming error if absent).
pub fn spec(name: &str) -> &'static Variable {
    position(name)
        .map(|at| &VARIABLES[at])
        .unwrap_or_else(|| panic!("undeclared variable {name}"))
}

/// Checks `min ≤ value ≤ max` with a message naming `field`.
pub fn check_bounds(value: Decimal, bounds: Bounds, field: impl Display) -> Result<(), Error> {
    let min = Decimal::from(bounds.min);
    let max = Decimal::from(bounds.max);
    if bounds.min_exclusive && value <= min {
        return Err(Error::invalid(if bounds.min == 0 {
            format!("{field} must be positive")
        } else {
            format!("{field} must be greater than {min}")
        }));
    }
    if value < min {
        return Err(Error::invalid(if bounds.min == 0 {
            format!("{field} must not be negative")
        } else {
            format!("{field} must be at least {min}")
        }));
    }
    if value > max {
        return Err(Error::invalid(format!("{field} must be at most {max}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Date, parse_decimal, parse_integer};

    #[test]
    fn names_are_unique_and_defaults_are_valid() {
        for (i, v) in VARIABLES.iter().enumerate() {
            assert!(
                VARIABLES[..i].iter().all(|w| w.name != v.name),
                "{} twice",
                v.name
            );
            assert!(
                !(v.required && v.default.is_some()),
                "{} required with a default",
                v.name
            );
            let Some(default) = v.default else { continue };
            match v.kind {
                Kind::Decimal => {
                    check_bounds(parse_decimal(default, v.name).unwrap(), v.bounds, v.name).unwrap()
                }
                Kind::Integer => {
                    let value = Decimal::from(parse_integer(default, v.name).unwrap());
                    check_bounds(value, v.bounds, v.name).unwrap()
                }
                Kind::Date => drop(Date::parse(default, v.name).unwrap()),
                Kind::Text => {}
            }
        }
    }
}
