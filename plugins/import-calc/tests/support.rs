//! Shared by the integration tests: quote-host's request JSON → the rules' plain request.

use import_calc::{Item, Rate, Request};
use serde_json::Value;

/// quote-host's request JSON → the rules' plain request.
pub fn request_from_json(json: &Value) -> Request {
    let string = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let pairs = |v: &Value| -> Vec<(String, String)> {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), string(v)))
            .collect()
    };
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    Request {
        currency: string(&json["currency"]),
        date: string(&json["date"]),
        variables: pairs(&json["variables"]),
        items: list(&json["items"])
            .iter()
            .map(|item| Item {
                id: string(&item["id"]),
                sku: string(&item["sku"]),
                name: string(&item["name"]),
                quantity: string(&item["quantity"]),
                unit_price: string(&item["unit_price"]),
                currency: string(&item["currency"]),
                attributes: pairs(&item["attributes"]),
            })
            .collect(),
        rates: list(&json["rates"])
            .iter()
            .map(|rate| Rate {
                base: string(&rate["base"]),
                quote: string(&rate["quote"]),
                rate: string(&rate["rate"]),
                date: string(&rate["date"]),
            })
            .collect(),
    }
}
