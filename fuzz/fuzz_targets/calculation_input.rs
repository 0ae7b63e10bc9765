//! A calculation body (`POST /api/quotes/calculate`, `plugin run --input`) on any bytes,
//! through what the host does before a plugin runs: JSON into `CalculationInput`, the
//! request (`into_request`), the variables checked against a plugin's declarations,
//! and the request as the plugin receives it. Nothing panics; a request keeps its
//! input, has unique ids, reads back the same once stored; what the plugin receives
//! keeps the contract (dates as `YYYY-MM-DD`); and a value `check_value` accepts is
//! what its kind promises.
#![no_main]

use std::collections::HashSet;

use chrono::NaiveDate;
use host_code::contract::{
    CalculationInput, QuoteRequest, Scope, ValueKind, VariableSpec, check_value,
};
use host_code::quoting::variables;
use host_code::runtime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(input) = serde_json::from_slice::<CalculationInput>(bytes) else {
        return;
    };
    let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let rates = input.rates.clone().unwrap_or_default();
    let effective_ids: Vec<String> = (input.items.iter().enumerate())
        .map(|(index, item)| match item.id.is_empty() {
            true => (index + 1).to_string(),
            false => item.id.clone(),
        })
        .collect();
    let unique = effective_ids.iter().collect::<HashSet<_>>().len() == effective_ids.len();
    let request = match input.clone().into_request(today, rates.clone()) {
        Ok(request) => request,
        Err(message) => {
            assert!(
                !unique || !message.contains("used by another item"),
                "{message}"
            );
            return;
        }
    };
    assert!(unique, "duplicate item ids accepted: {effective_ids:?}");
    keeps_the_input(&input, &request, &effective_ids, today);
    let stored = serde_json::to_vec(&request).unwrap();
    let read_back: QuoteRequest = serde_json::from_slice(&stored).unwrap();
    assert_eq!(
        read_back, request,
        "a stored request reads back differently"
    );
    receives_the_contract(&request);
    check_variables(&request);
    for text in values(&request) {
        check_values_keep_promises(text);
    }
});

fn keeps_the_input(
    input: &CalculationInput,
    request: &QuoteRequest,
    ids: &[String],
    today: NaiveDate,
) {
    assert_eq!(request.currency, input.currency);
    assert_eq!(request.date, input.date.unwrap_or(today));
    assert_eq!(request.variables, input.variables);
    assert_eq!(request.items.len(), input.items.len());
    for ((given, made), id) in input.items.iter().zip(&request.items).zip(ids) {
        assert_eq!(&made.id, id);
        assert_eq!((&made.sku, &made.name), (&given.sku, &given.name));
        assert_eq!(
            (&made.quantity, &made.unit_price),
            (&given.quantity, &given.unit_price)
        );
        assert_eq!(
            (&made.currency, &made.attributes),
            (&given.currency, &given.attributes)
        );
    }
}

/// The contract spells dates `YYYY-MM-DD`; the plugin must never get another spelling.
fn receives_the_contract(request: &QuoteRequest) {
    let received = runtime::request(request);
    assert!(
        check_value(ValueKind::Date, &received.date).is_ok(),
        "the plugin receives the quote date as {:?}",
        received.date
    );
    for rate in &received.rates {
        assert!(
            check_value(ValueKind::Date, &rate.date).is_ok(),
            "the plugin receives a rate date as {:?}",
            rate.date
        );
    }
    assert_eq!(received.items.len(), request.items.len());
    assert_eq!(received.variables.len(), request.variables.len());
}

/// A plugin declaring one variable of each kind, in each scope.
fn specs() -> Vec<VariableSpec> {
    let spec = |name: &str, kind, scope, required, default: Option<&str>| VariableSpec {
        name: name.into(),
        kind,
        scope,
        required,
        default: default.map(Into::into),
        description: String::new(),
    };
    vec![
        spec("markup", ValueKind::Decimal, Scope::Both, true, None),
        spec("discount", ValueKind::Decimal, Scope::Quote, false, None),
        spec("boxes", ValueKind::Integer, Scope::Item, false, None),
        spec("rush", ValueKind::Boolean, Scope::Quote, false, None),
        spec("ship_on", ValueKind::Date, Scope::Both, false, None),
        spec("note", ValueKind::Text, Scope::Item, false, None),
        spec("region", ValueKind::Text, Scope::Quote, true, Some("EU")),
    ]
}

/// Accepted variables are declared, in their scope, of their kind, and complete.
fn check_variables(request: &QuoteRequest) {
    let specs = specs();
    let outcome = variables::check("fuzz@1", &specs, request);
    let find = |name: &str| specs.iter().find(|spec| spec.name == name);
    let Ok(()) = outcome else {
        let code = outcome.unwrap_err().code;
        let known = ["unknown_variable", "invalid_variable", "missing_variable"];
        assert!(known.contains(&code), "unknown code {code}");
        return;
    };
    for (name, value) in &request.variables {
        let spec = find(name).expect("an undeclared variable was accepted");
        assert_ne!(
            spec.scope,
            Scope::Item,
            "an item variable on the quote: {name}"
        );
        assert!(check_value(spec.kind, value).is_ok(), "{name} = {value:?}");
    }
    for item in &request.items {
        for (name, value) in &item.attributes {
            let spec = find(name).expect("an undeclared attribute was accepted");
            assert_ne!(
                spec.scope,
                Scope::Quote,
                "a quote variable on an item: {name}"
            );
            assert!(check_value(spec.kind, value).is_ok(), "{name} = {value:?}");
        }
    }
    let markup_everywhere = request.variables.contains_key("markup")
        || request
            .items
            .iter()
            .all(|item| item.attributes.contains_key("markup"));
    assert!(
        markup_everywhere,
        "the required markup is missing somewhere"
    );
}

/// Every text of the request a plugin could be asked to read as a value.
fn values(request: &QuoteRequest) -> impl Iterator<Item = &str> {
    let items = request.items.iter().flat_map(|item| {
        [item.quantity.as_str(), item.unit_price.as_str()]
            .into_iter()
            .chain(item.attributes.values().map(String::as_str))
    });
    request.variables.values().map(String::as_str).chain(items)
}

/// What `check_value` accepts is a value of that kind, spelled as the contract says.
fn check_values_keep_promises(text: &str) {
    if check_value(ValueKind::Decimal, text).is_ok() {
        let decimal = rust_decimal::Decimal::from_str_exact(text);
        assert!(decimal.is_ok(), "decimal {text:?} does not parse");
        assert!(!text.contains(['e', 'E', '+', ',', '_', ' ']), "{text:?}");
    }
    if check_value(ValueKind::Integer, text).is_ok() {
        assert!(
            text.parse::<i64>().is_ok(),
            "integer {text:?} does not parse"
        );
    }
    if check_value(ValueKind::Date, text).is_ok() {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        assert_eq!(date.format("%Y-%m-%d").to_string(), text, "date {text:?}");
    }
    if check_value(ValueKind::Boolean, text).is_ok() {
        assert!(text == "true" || text == "false");
    }
}
