//! Behaviour of the rules beyond the golden files: totals, rates, the two-tier rule, the
//! defect decisions (README) and input errors.

use import_calc::{Error, Item, Priced, Rate, Request, price};

fn item(id: &str, price: &str, currency: &str, attributes: &[(&str, &str)]) -> Item {
    Item {
        id: id.into(),
        sku: format!("SKU-{id}"),
        name: format!("product {id}"),
        quantity: "2".into(),
        unit_price: price.into(),
        currency: currency.into(),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn rate(base: &str, quote: &str, rate: &str) -> Rate {
    Rate {
        base: base.into(),
        quote: quote.into(),
        rate: rate.into(),
        date: "2025-06-02".into(),
    }
}

/// A two-product EUR quote from a Russian seller: one TRY item from Turkey, one EUR item.
fn base() -> Request {
    let variables = [
        ("delivery_time", "30"),
        ("advance_from_client", "50"),
        ("logistics_supplier_hub", "1500"),
        ("brokerage_customs", "200"),
        ("markup", "15"),
        ("import_tariff", "5"),
        ("supplier_country", "Турция"),
    ];
    Request {
        currency: "EUR".into(),
        date: "2025-06-02".into(),
        variables: variables
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        items: vec![
            item("a", "1000", "TRY", &[]),
            item("b", "250", "EUR", &[("supplier_country", "Болгария")]),
        ],
        rates: vec![rate("EUR", "TRY", "49.1889")],
    }
}

fn set(pairs: &mut Vec<(String, String)>, key: &str, value: &str) {
    pairs.retain(|(k, _)| k != key);
    pairs.push((key.into(), value.into()));
}

fn priced(request: &Request) -> Priced {
    price(request).unwrap_or_else(|e| panic!("{e}"))
}

fn line<'a>(priced: &'a Priced, index: usize, key: &str) -> &'a str {
    priced.lines[index]
        .get(key)
        .unwrap_or_else(|| panic!("no {key}"))
}

fn invalid(request: &Request) -> String {
    match price(request) {
        Err(Error::InvalidInput(message)) => message,
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

#[test]
fn totals_are_the_sums_of_the_lines_and_every_number_is_plain_text() {
    let priced = priced(&base());
    assert_eq!(priced.currency, "EUR");
    let sum = |key: &str| -> f64 {
        (0..2)
            .map(|i| line(&priced, i, key).parse::<f64>().unwrap())
            .sum()
    };
    let close = |a: f64, b: &str| (a - b.parse::<f64>().unwrap()).abs() < 1e-9;
    assert!(close(sum("sales_price_total_no_vat"), &priced.subtotal));
    assert!(close(sum("vat_from_sales"), &priced.tax));
    assert!(close(sum("sales_price_total_with_vat"), &priced.total));
    let plain = |s: &str| {
        let digits = s.strip_prefix('-').unwrap_or(s);
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
        !whole.is_empty() && (whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit())
    };
    for l in &priced.lines {
        assert!(plain(&l.unit_price) && plain(&l.total));
        for (key, value) in &l.breakdown {
            assert!(plain(value), "{key} = {value}");
        }
    }
    for (key, value) in &priced.breakdown {
        assert!(
            key == "quote_level_seller_region" || plain(value),
            "{key} = {value}"
        );
    }
    for value in [&priced.subtotal, &priced.tax, &priced.total] {
        assert!(plain(value));
    }
    // Two units each: unit price × quantity = line total.
    assert_eq!(line(&priced, 1, "exchange_rate_base_price_to_quote"), "1");
    assert_eq!(
        line(&priced, 0, "exchange_rate_base_price_to_quote"),
        "49.1889"
    );
}

#[test]
fn inverse_and_cross_rates_give_the_same_prices_as_the_direct_rate() {
    let direct = priced(&base());
    let mut inverse = base();
    inverse.rates = vec![rate("TRY", "EUR", "0.02")];
    let mut direct_50 = base();
    direct_50.rates = vec![rate("EUR", "TRY", "50")];
    let (inverse, direct_50) = (priced(&inverse), priced(&direct_50));
    assert_eq!(inverse.lines[0].breakdown, direct_50.lines[0].breakdown);
    let mut cross = base();
    cross.rates = vec![rate("TRY", "RUB", "2"), rate("EUR", "RUB", "100")];
    assert_eq!(priced(&cross).total, direct_50.total);
    assert_ne!(direct.total, direct_50.total);
}

#[test]
fn a_missing_rate_names_the_pair() {
    let mut request = base();
    request.rates.clear();
    match price(&request) {
        Err(Error::MissingRate(message)) => assert!(message.starts_with("EUR/TRY"), "{message}"),
        other => panic!("{other:?}"),
    }
    // An explicit workbook divisor on the item needs no rate.
    request.items[0]
        .attributes
        .push(("exchange_rate_base_price_to_quote".into(), "49.1889".into()));
    assert_eq!(priced(&request).total, priced(&base()).total);
}

#[test]
fn item_attribute_overrides_quote_variable_which_overrides_the_default() {
    let mut request = base();
    request.items[1]
        .attributes
        .push(("markup".into(), "40".into()));
    request.items[0]
        .attributes
        .push(("supplier_discount".into(), "".into())); // empty = absent
    let priced = priced(&request);
    let profit = |i| line(&priced, i, "profit").parse::<f64>().unwrap();
    let cogs = |i| line(&priced, i, "cogs_per_product").parse::<f64>().unwrap();
    assert!((profit(0) / cogs(0) - 0.15).abs() < 1e-6);
    assert!((profit(1) / cogs(1) - 0.40).abs() < 1e-6);
    assert_eq!(
        line(&priced, 0, "purchase_price_after_discount"),
        line(&priced, 0, "purchase_price_no_vat")
    );
    assert_eq!(line(&priced, 1, "supplier_vat_rate"), "0.2");
    assert_eq!(line(&priced, 1, "internal_markup"), "0.04");
}

#[test]
fn revenue_estimate_uses_the_mean_markup_whatever_the_item_order() {
    // §10 F4 fixed: the engine used product 1's markup.
    let mut request = base();
    request.items[1]
        .attributes
        .push(("markup".into(), "45".into()));
    let first = priced(&request);
    request.items.reverse();
    let second = priced(&request);
    let key = "quote_level_evaluated_revenue";
    assert_eq!(first.get(key), second.get(key));
    assert_eq!(first.get("quote_level_revenue_markup"), Some("0.3"));
}

#[test]
fn percentage_dm_fee_adds_up_to_the_share_of_the_full_cost() {
    // §10 F6 fixed: AG = BD · AB13 · p.
    let mut request = base();
    set(&mut request.variables, "dm_fee_type", "%");
    set(&mut request.variables, "dm_fee_value", "5");
    let priced = priced(&request);
    let fees: f64 = (0..2)
        .map(|i| line(&priced, i, "dm_fee").parse::<f64>().unwrap())
        .sum();
    let ab13: f64 = priced
        .get("quote_level_total_cogs")
        .unwrap()
        .parse()
        .unwrap();
    assert!((fees - ab13 * 0.05).abs() < 0.001, "{fees} vs {ab13}");
}

#[test]
fn logistics_follow_weight_when_weighed_and_insurance_follows_value() {
    // §10 F5 fixed. Item a is the cheaper one but carries all the weight.
    let mut request = base();
    request.items[0]
        .attributes
        .push(("weight_in_kg".into(), "10".into()));
    let priced = priced(&request);
    assert_eq!(line(&priced, 0, "logistics_distribution_base"), "1");
    assert_eq!(line(&priced, 1, "logistics_last_leg"), "0.0000");
    assert_eq!(line(&priced, 0, "logistics_last_leg"), "200.0000");
    // Item b still pays its value share of the insurance premium.
    assert_ne!(line(&priced, 1, "logistics_first_leg"), "0.0000");
    assert!(
        priced
            .warnings
            .iter()
            .any(|w| w.contains("items[1]") && w.contains("weight"))
    );
}

#[test]
fn sale_types_seller_regions_and_vat_dates() {
    let mut transit = base();
    set(&mut transit.variables, "offer_sale_type", "транзит");
    let p = priced(&transit);
    assert_ne!(line(&p, 0, "transit_commission"), "0.0000");
    let s: f64 = line(&p, 0, "purchase_price_total_quote_currency")
        .parse()
        .unwrap();
    let profit: f64 = line(&p, 0, "profit").parse().unwrap();
    assert!((profit - s * 0.15).abs() < 0.0001);

    let mut export = base();
    set(&mut export.variables, "offer_sale_type", "экспорт");
    let p = priced(&export);
    assert_eq!(line(&p, 0, "vat_on_import"), "0.0000");
    assert_eq!(line(&p, 0, "financial_agent_fee"), "0.0000");
    assert_eq!(line(&p, 0, "transit_commission"), "0.0000");

    let mut turkish = base();
    set(
        &mut turkish.variables,
        "seller_company",
        "GESTUS DIŞ TİCARET LİMİTED ŞİRKETİ",
    );
    let p = priced(&turkish);
    assert_eq!(p.get("quote_level_vat_rate"), Some("0"));
    assert_eq!(p.tax, "0.0000");
    assert_eq!(line(&p, 0, "internal_markup"), "0");
    assert_eq!(line(&p, 1, "internal_markup"), "0.02");

    let mut later = base();
    set(&mut later.variables, "delivery_date", "2026-01-10");
    assert_eq!(priced(&later).get("quote_level_vat_rate"), Some("0.22"));
    assert_eq!(priced(&base()).get("quote_level_vat_rate"), Some("0.2"));

    let mut late = base();
    late.date = "2025-12-20".into();
    assert!(
        priced(&late)
            .warnings
            .iter()
            .any(|w| w.contains("delivery_date is not set"))
    );

    let mut chinese = base();
    set(&mut chinese.variables, "seller_company", "UPDOOR Limited");
    assert!(matches!(price(&chinese), Err(Error::Unsupported(_))));
}

#[test]
fn inputs_without_effect_are_accepted_and_warned_about() {
    let mut request = base();
    set(&mut request.variables, "advance_on_loading", "30");
    set(&mut request.variables, "util_fee", "12");
    let p = priced(&request);
    assert_eq!(p.total, priced(&base()).total);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.starts_with("advance_on_loading = 30 has no effect"))
    );
}

/// A change that makes the base request invalid.
type Change = fn(&mut Request);

#[test]
fn invalid_inputs_name_the_field() {
    let cases: Vec<(Change, &str)> = vec![
        (
            |r| r.items[1].quantity = "0".into(),
            "items[1].quantity must be positive",
        ),
        (
            |r| r.items[0].quantity = "1.5".into(),
            "items[0].quantity must be a whole number of units",
        ),
        (
            |r| r.items[0].unit_price = "-3".into(),
            "items[0].unit_price must be positive",
        ),
        (
            |r| r.items[0].unit_price = "1e3".into(),
            "items[0].unit_price: '1e3' is not a decimal number",
        ),
        (
            |r| set(&mut r.variables, "rate_forex_risk", "abc"),
            "variables.rate_forex_risk: 'abc' is not a decimal number",
        ),
        (
            |r| set(&mut r.variables, "advance_from_client", "120"),
            "variables.advance_from_client must be at most 100",
        ),
        (
            |r| set(&mut r.variables, "delivery_time", "0"),
            "variables.delivery_time must be positive",
        ),
        (
            |r| r.items[1].attributes = vec![("supplier_country".into(), "Марс".into())],
            "items[1].attributes.supplier_country: unknown supplier country 'Марс'",
        ),
        (
            |r| r.variables.retain(|(k, _)| k != "markup"),
            "items[0].markup is required: set the item attribute or the quote variable 'markup'",
        ),
        (
            |r| r.variables.retain(|(k, _)| k != "delivery_time"),
            "variables.delivery_time is required",
        ),
        (
            |r| set(&mut r.variables, "seller_company", "ACME"),
            "variables.seller_company: unknown seller company 'ACME'",
        ),
        (
            |r| set(&mut r.variables, "offer_incoterms", "XYZ"),
            "variables.offer_incoterms: 'XYZ' is not one of DDP, DAP, CIF, FOB, EXW",
        ),
        (
            |r| set(&mut r.variables, "delivery_date", "2025-01-01"),
            "variables.delivery_date (2025-01-01) must not precede the quote date (2025-06-02)",
        ),
        (
            |r| {
                r.items[0]
                    .attributes
                    .push(("offer_incoterms".into(), "DAP".into()))
            },
            "items[0].attributes.offer_incoterms: 'offer_incoterms' applies to the whole quote; set it as a quote variable",
        ),
        (
            |r| {
                r.items[0]
                    .attributes
                    .push(("customs_code".into(), "12345".into()))
            },
            "items[0].attributes.customs_code: '12345' is not a 10-digit customs code",
        ),
        (
            |r| r.items[0].attributes.push(("markup".into(), "-1".into())),
            "items[0].attributes.markup must not be negative",
        ),
        (|r| r.items.clear(), "items must not be empty"),
        (
            |r| r.date = "02.06.2025".into(),
            "date: '02.06.2025' is not a date (YYYY-MM-DD)",
        ),
    ];
    for (change, message) in cases {
        let mut request = base();
        change(&mut request);
        assert_eq!(invalid(&request), message);
    }
}

#[test]
fn the_same_request_gives_the_same_result() {
    let (a, b) = (priced(&base()), priced(&base()));
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}
