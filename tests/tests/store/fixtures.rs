//! Store fixtures: a pricing output, a quote, an organization.

use crate::store::{NewQuote, Pricing, Quote, QuoteStatus, QuoteUpdate, StatusChange, Store};
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

/// Creates an untitled quote of `org` with `total` in `currency`, and accepts it (through
/// sent: the store applies the status rule) when `accepted`.
pub async fn priced_quote(
    store: &dyn Store,
    org: Uuid,
    currency: &str,
    total: &str,
    accepted: bool,
) -> Quote {
    let mut quote = store
        .create_quote(NewQuote {
            organization_id: org,
            title: None,
            pricing: pricing(currency, total),
        })
        .await
        .expect("create quote");
    let steps = [
        (QuoteStatus::Draft, QuoteStatus::Sent),
        (QuoteStatus::Sent, QuoteStatus::Accepted),
    ];
    for (from, to) in steps.into_iter().take(if accepted { 2 } else { 0 }) {
        let update = QuoteUpdate {
            title: None,
            status: Some(StatusChange { from, to }),
        };
        quote = store
            .update_quote(org, quote.id, update)
            .await
            .expect("move quote on");
    }
    quote
}

/// A fresh organization with a random name.
pub async fn new_org(store: &dyn Store) -> Uuid {
    store
        .create_organization(&format!("org-{}", Uuid::new_v4()))
        .await
        .expect("create org")
        .id
}
