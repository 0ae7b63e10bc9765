//! Store fixtures: a pricing output, a quote, an organization.

use crate::store::{NewQuote, Pricing, Quote, Store};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

/// A pricing output with the given total (subtotal = total, tax 0).
pub fn pricing(currency: &str, total: &str) -> Pricing {
    let total: Decimal = total.parse().unwrap();
    Pricing {
        currency: currency.into(),
        subtotal: total,
        tax: Decimal::ZERO,
        total,
        request: json!({"items": [{"sku": "A-1", "qty": 2}], "currency": currency}),
        result: json!({"lines": [{"sku": "A-1", "amount": total.to_string()}]}),
        plugin_name: "pricing".into(),
        plugin_version: 1,
        plugin_sha256: "ab".repeat(32),
        rates: json!({"USD/RUB": "81.2345"}),
        fuel_used: 12_345,
    }
}

/// Creates a quote of `org` with `total` in RUB.
pub async fn new_quote(store: &dyn Store, org: Uuid, total: &str) -> Quote {
    store
        .create_quote(NewQuote {
            organization_id: org,
            title: Some("t".into()),
            pricing: pricing("RUB", total),
        })
        .await
        .expect("create quote")
}

/// A fresh organization with a random name.
pub async fn new_org(store: &dyn Store) -> Uuid {
    store
        .create_organization(&format!("org-{}", Uuid::new_v4()))
        .await
        .expect("create org")
        .id
}
