//! The specification's worked example (§12.4, scenario
//! `test_raschet_multi_currency_correct_rate_2711_30pct_100k`) in exact variant-E values.

mod golden_map;
mod support;

use import_calc::price;
use std::path::Path;

fn set(pairs: &mut Vec<(String, String)>, key: &str, value: &str) {
    pairs.retain(|(k, _)| k != key);
    pairs.push((key.into(), value.into()));
}

#[test]
fn worked_example_of_the_specification_in_exact_variant_e_values() {
    // §12.4: test_raschet_multi_currency_correct_rate_2711_30pct_100k = the 2711 scenario
    // with prices ×100, 30 % advance, K9 = 10 and a 10-day BI10 day count.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let scenario =
        golden_map::load_scenario(&dir.join("test_raschet_multi_currency_correct_rate_2711.json"));
    let mut request = support::request_from_json(&scenario.request);
    for item in &mut request.items {
        assert_eq!(item.unit_price, "1000.0");
        item.unit_price = "100000".into();
    }
    set(&mut request.variables, "advance_from_client", "30");
    set(&mut request.variables, "time_to_advance_on_receiving", "10");
    set(&mut request.variables, "customs_logistics_pmt_due", "10");
    let priced = price(&request).unwrap();
    let quote = [
        ("quote_level_total_purchase", "184281.1409"),
        ("quote_level_internal_sale_total", "191338.9133"),
        ("quote_level_insurance", "90.0000"),
        ("quote_level_logistics_first_leg", "2890.0001"),
        ("quote_level_purchase_with_supplier_vat", "203048.9006"),
        ("quote_level_customs_fee", "9664.8314"),
        ("quote_level_vat_on_import", "40778.7490"),
        ("quote_level_supplier_payment", "207109.8786"),
        ("quote_level_total_before_forwarding", "260501.2591"),
        ("quote_level_direct_cost", "198335.9724"),
        ("quote_level_forex_and_dm_reserve", "5950.0792"),
        ("quote_level_revenue_markup", "0.15"),
        ("quote_level_evaluated_revenue", "280843.7370"),
        ("quote_level_client_advance", "84253.1211"),
        ("quote_level_supplier_financing_need", "122856.7575"),
        ("quote_level_outlays_after_supplier_payment", "53391.3805"),
        ("quote_level_operational_financing_need", "53391.3805"),
        ("quote_level_supplier_financing_fv", "125381.2114"),
        ("quote_level_supplier_financing_cost", "2524.4539"),
        ("quote_level_operational_financing_fv", "53757.0749"),
        ("quote_level_operational_financing_cost", "365.6944"),
        ("quote_level_total_financing_cost", "2890.1483"),
        ("quote_level_credit_sales_amount", "176248.1380"),
        ("quote_level_credit_sales_fv", "177455.3170"),
        ("quote_level_credit_sales_interest", "1207.1790"),
        ("quote_level_total_cogs", "202433.2997"),
    ];
    for (key, expected) in quote {
        assert_eq!(priced.get(key), Some(expected), "{key}");
    }
    let row16 = [
        ("purchase_price_no_vat", "83333.3333"),
        ("purchase_price_after_discount", "83333.3333"),
        ("purchase_price_per_unit_quote_currency", "1694.1492"),
        ("purchase_price_total_quote_currency", "1694.1492"),
        ("internal_markup", "0.02"),
        ("internal_sale_price_per_unit", "1728.0322"),
        ("internal_sale_price_total", "1728.0322"),
        ("logistics_first_leg", "26.5686"),
        ("logistics_last_leg", "13.7899"),
        ("logistics_total", "40.3585"),
        ("customs_fee", "87.7300"),
        ("excise_tax_amount", "0.0000"),
        ("purchase_with_supplier_vat", "2032.9790"),
        ("vat_on_import", "368.4662"),
        ("financing_cost_initial", "26.5700"),
        ("financing_cost_credit", "11.0979"),
        ("cogs_per_product", "1859.9056"),
        ("cogs_per_unit", "1859.9056"),
        ("profit", "278.9858"),
        ("dm_fee", "0.0000"),
        ("sale_price_per_unit_excl_financial", "2138.8914"),
        ("sale_price_total_excl_financial", "2138.8914"),
        ("financial_agent_fee", "42.0041"),
        ("forex_reserve", "65.4269"),
        ("sales_price_per_unit_no_vat", "2246.3224"),
        ("sales_price_total_no_vat", "2246.3224"),
        ("sales_price_per_unit_with_vat", "2695.5869"),
        ("sales_price_total_with_vat", "2695.5869"),
        ("vat_from_sales", "449.2645"),
        ("vat_net_payable", "80.7983"),
        ("transit_commission", "0.0000"),
    ];
    for (key, expected) in row16 {
        assert_eq!(priced.lines[0].get(key), Some(expected), "{key}");
    }
    let bd = priced.lines[0].get("distribution_base").unwrap();
    assert!(bd.starts_with("0.00919328582255"), "{bd}");
    assert_eq!(priced.lines[0].unit_price, "2246.3224");
    assert_eq!(priced.lines[0].total, "2246.3224");
}
