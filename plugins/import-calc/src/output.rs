//! Turns a calculation into the result: line and quote breakdowns under the golden files'
//! field names (specification §9), the line and quote totals, and warnings.

use crate::engine::{self, Calculation, ProductResult};
use crate::request::{Error, Line, Priced, Request};
use crate::tables::Region;
use crate::values::{fixed4, plain};
use rust_decimal::Decimal;

/// Prices a quote: line `unit_price`/`total` are `AJ`/`AK` (sale price excluding VAT);
/// the quote's `subtotal`, `tax`, `total` are `Σ AK`, `Σ AN` (output VAT), `Σ AL`.
pub fn price(request: &Request) -> Result<Priced, Error> {
    let calc = engine::calculate(request)?;
    let lines: Vec<Line> = calc
        .products
        .iter()
        .map(|p| Line {
            id: p.inputs.id.clone(),
            unit_price: fixed4(p.sale.aj),
            total: fixed4(p.sale.ak),
            breakdown: line_breakdown(p),
        })
        .collect();
    let sum = |f: fn(&ProductResult) -> Decimal| calc.products.iter().map(f).sum::<Decimal>();
    Ok(Priced {
        currency: request.currency.clone(),
        lines,
        subtotal: fixed4(sum(|p| p.sale.ak)),
        tax: fixed4(sum(|p| p.sale.an)),
        total: fixed4(sum(|p| p.sale.al)),
        breakdown: quote_breakdown(&calc),
        warnings: warnings(&calc),
    })
}

/// Fields of a line pushed after the two tables: the ratios and the extra golden fields.
const LINE_EXTRA_FIELDS: usize = 6;

/// Per-product outputs: the 30 fields of §9.1, the two extra golden fields, and three
/// inputs as applied.
fn line_breakdown(p: &ProductResult) -> Vec<(String, String)> {
    let (buy, legs, duties, sale) = (&p.purchase, &p.legs, &p.duties, &p.sale);
    let money = [
        ("purchase_price_no_vat", buy.n),
        ("purchase_price_after_discount", buy.p),
        ("purchase_price_per_unit_quote_currency", buy.r),
        ("purchase_price_total_quote_currency", buy.s),
    ];
    let rest = [
        ("internal_sale_price_per_unit", p.ax),
        ("internal_sale_price_total", p.ay),
        ("logistics_first_leg", legs.t),
        ("logistics_last_leg", legs.u),
        ("logistics_total", legs.v),
        ("customs_fee", duties.y),
        ("excise_tax_amount", duties.z),
        ("financing_cost_initial", p.ba),
        ("financing_cost_credit", p.bb),
        ("cogs_per_product", p.ab),
        ("cogs_per_unit", sale.aa),
        ("profit", sale.af),
        ("dm_fee", sale.ag),
        ("sale_price_per_unit_excl_financial", sale.ad),
        ("sale_price_total_excl_financial", sale.ae),
        ("forex_reserve", sale.ah),
        ("financial_agent_fee", sale.ai),
        ("sales_price_per_unit_no_vat", sale.aj),
        ("sales_price_total_no_vat", sale.ak),
        ("sales_price_per_unit_with_vat", sale.am),
        ("sales_price_total_with_vat", sale.al),
        ("vat_from_sales", sale.an),
        ("vat_on_import", duties.ao),
        ("vat_net_payable", sale.ap),
        ("transit_commission", sale.aq),
    ];
    // Allocated at its final size: the strings are allocated in between, so a growing
    // vector could not extend in place.
    let mut out = Vec::with_capacity(money.len() + rest.len() + LINE_EXTRA_FIELDS);
    out.extend(money.iter().map(|(k, v)| (k.to_string(), fixed4(*v))));
    out.push(("distribution_base".into(), plain(p.bd)));
    out.extend(rest.iter().map(|(k, v)| (k.to_string(), fixed4(*v))));
    out.push(("internal_markup".into(), plain(p.inputs.internal_markup)));
    out.push(("purchase_with_supplier_vat".into(), fixed4(duties.az)));
    out.push(("supplier_vat_rate".into(), plain(buy.m)));
    let q = p.inputs.conversion.q().unwrap_or_default();
    out.push(("exchange_rate_base_price_to_quote".into(), plain(q)));
    out.push(("logistics_distribution_base".into(), plain(p.bc)));
    out
}

/// Quote-level outputs: the 14 fields of §9.2 and the quote totals of the workbook.
fn quote_breakdown(calc: &Calculation) -> Vec<(String, String)> {
    let f = &calc.financing;
    let amounts = [
        ("quote_level_total_purchase", calc.s13),
        ("quote_level_internal_sale_total", calc.ay13),
        ("quote_level_insurance", calc.ins),
        ("quote_level_logistics_first_leg", f.t13),
        ("quote_level_logistics_last_leg", f.u13),
        ("quote_level_logistics_total", f.v13),
        ("quote_level_customs_fee", f.y13),
        ("quote_level_excise_tax", f.z13),
        ("quote_level_purchase_with_supplier_vat", f.az13),
        ("quote_level_vat_on_import", f.ao13),
        ("quote_level_direct_cost", f.bj2),
        ("quote_level_forex_and_dm_reserve", f.bj3),
        ("quote_level_supplier_payment", f.bh6),
        ("quote_level_total_before_forwarding", f.bh4),
        ("quote_level_evaluated_revenue", f.bh2),
        ("quote_level_client_advance", f.bh3),
        ("quote_level_supplier_financing_need", f.bh7),
        ("quote_level_outlays_after_supplier_payment", f.bh8),
        ("quote_level_intermediate_client_payments", f.bh9),
        ("quote_level_operational_financing_need", f.bh10),
        ("quote_level_supplier_financing_fv", f.bi7),
        ("quote_level_supplier_financing_cost", f.bj7),
        ("quote_level_operational_financing_fv", f.bi10),
        ("quote_level_operational_financing_cost", f.bj10),
        ("quote_level_total_financing_cost", f.bj11),
        ("quote_level_credit_sales_amount", f.bl3),
        ("quote_level_credit_sales_fv", f.bl4),
        ("quote_level_credit_sales_interest", f.bl5),
        ("quote_level_total_cogs", calc.ab13),
    ];
    let mut out = Vec::with_capacity(amounts.len() + 3);
    out.extend(amounts.iter().map(|(k, v)| (k.to_string(), fixed4(*v))));
    out.push(("quote_level_revenue_markup".into(), plain(f.ac12)));
    out.push(("quote_level_vat_rate".into(), plain(calc.quote.vat_ru)));
    out.push((
        "quote_level_seller_region".into(),
        calc.quote.region.code().into(),
    ));
    out
}

fn warnings(calc: &Calculation) -> Vec<String> {
    let quote = &calc.quote;
    let mut out = Vec::new();
    for (name, value) in &quote.ignored_advances {
        if !value.is_zero() {
            out.push(format!(
                "{name} = {} has no effect: intermediate client payments are not part of this \
                 rule set (only advance_from_client is)",
                plain(*value)
            ));
        }
    }
    if quote.region == Region::Ru && quote.delivery_date.is_none() {
        let delivery = quote.quote_date.plus_days(quote.delivery_time);
        if delivery.year >= 2026 {
            out.push(format!(
                "delivery_date is not set, so Russian VAT is 20 %; the quote date plus \
                 delivery_time is {delivery}, when the rate is 22 %: set delivery_date to apply it"
            ));
        }
    }
    let is_unweighed = |p: &&ProductResult| p.inputs.weight.is_zero();
    let unweighed_count = calc.products.iter().filter(is_unweighed).count();
    // Named only when the warning is given: most quotes weigh all or none of their items.
    if unweighed_count > 0 && unweighed_count < calc.products.len() {
        let unweighed: Vec<String> = calc
            .products
            .iter()
            .enumerate()
            .filter(|(_, p)| is_unweighed(p))
            .map(|(index, _)| format!("items[{index}]"))
            .collect();
        out.push(format!(
            "logistics are spread by weight, and {} have no weight_in_kg: they carry no share of \
             logistics (insurance is still spread by value)",
            unweighed.join(", ")
        ));
    }
    out
}
