//! The OpenAPI document (`/api/openapi.json`): what each route declares, then what only
//! the configuration knows (the input limits, the dashboard's months, whether rate
//! limits apply) and the answers every route shares (a path, query or body that does
//! not parse, 401, 429, 500, 503), so the document states what the server accepts and
//! every status a route answers.

use crate::config::Config;
use crate::quoting::limits::{InputLimits, MAX_PLUGIN_REF_CHARS};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "quote-host", description = "Price B2B quotes with your own sandboxed WebAssembly rule sets."),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
    tags(
        (name = "keys", description = "Who you are and your organization's API keys"),
        (name = "plugins", description = "Your pricing rule sets"),
        (name = "quotes", description = "Price, store, list, export and verify quotes"),
        (name = "documents", description = "Quote documents (PDF, XLSX) and the branding on them"),
        (name = "exchange-rates", description = "Central Bank of Russia rates used for pricing"),
        (name = "operations", description = "Health, metrics, activity"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document's frame (info, tags, security), before the routes are merged in.
pub fn frame() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// A currency as calculations take it (ISO 4217).
const CURRENCY_PATTERN: &str = "^[A-Z]{3}$";
/// `name` or `name@version`, as a plugin reference.
const PLUGIN_REF_PATTERN: &str = "^[a-z0-9][a-z0-9_-]{0,63}(@[0-9]{1,9})?$";

/// The served document: the routes' `openapi` with the configured limits and the
/// shared answers.
pub fn document(openapi: &utoipa::openapi::OpenApi, config: &Config) -> Value {
    let mut document = serde_json::to_value(openapi).expect("the OpenAPI document serializes");
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        constrain_bodies(schemas, &config.input_limits);
        let months = config.dashboard.chart_months;
        constrain(
            schemas,
            "DashboardStats",
            "accepted_by_month",
            json!({"minItems": months, "maxItems": months}),
        );
    }
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|path| path.values_mut())
            .filter_map(Value::as_object_mut)
        {
            state_parameters(operation, config.http.max_page_size);
            add_shared_answers(operation, config.rate_limits.enabled);
        }
    }
    document
}

/// A list's `limit` goes up to `http.max_page_size`; a `cursor` is never empty; a body
/// that is not JSON is raw bytes.
fn state_parameters(operation: &mut Map<String, Value>, max_page_size: u32) {
    let parameters = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten();
    for parameter in parameters {
        match parameter["name"].as_str() {
            Some("limit") => parameter["schema"]["maximum"] = json!(max_page_size),
            Some("cursor") => parameter["schema"]["minLength"] = json!(1),
            _ => {}
        }
    }
    let raw_bodies = operation
        .get_mut("requestBody")
        .and_then(|body| body.get_mut("content"))
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
        .filter(|(media_type, _)| *media_type != "application/json");
    for (_, content) in raw_bodies {
        content["schema"] = json!({"type": "string", "format": "binary", "minLength": 1});
    }
}

/// Sets `keywords` on the property `field` of `schema`, if both exist.
fn constrain(schemas: &mut Map<String, Value>, schema: &str, field: &str, keywords: Value) {
    let property = schemas
        .get_mut(schema)
        .and_then(|schema| schema.get_mut("properties"))
        .and_then(|properties| properties.get_mut(field))
        .and_then(Value::as_object_mut);
    if let (Some(property), Value::Object(keywords)) = (property, keywords) {
        property.extend(keywords);
    }
}

/// The bounds of `quoting::limits` on the schemas of a calculation, and what else a body
/// must be that its Rust type does not say.
fn constrain_bodies(schemas: &mut Map<String, Value>, limits: &InputLimits) {
    let text = |max: usize| json!({"maxLength": max});
    let pairs = |max_entries: usize| {
        json!({
            "maxProperties": max_entries,
            "propertyNames": {"type": "string", "maxLength": limits.max_key_chars},
            "additionalProperties": {"type": "string", "maxLength": limits.max_value_chars},
        })
    };
    for schema in ["CalculationInput", "NewQuoteBody"] {
        constrain(
            schemas,
            schema,
            "currency",
            json!({"pattern": CURRENCY_PATTERN}),
        );
        constrain(
            schemas,
            schema,
            "items",
            json!({"maxItems": limits.max_items}),
        );
        constrain(schemas, schema, "variables", pairs(limits.max_variables));
        constrain(
            schemas,
            schema,
            "plugin",
            json!({"maxLength": MAX_PLUGIN_REF_CHARS, "pattern": PLUGIN_REF_PATTERN}),
        );
    }
    // `rates` is for the CLI harness only; the server refuses it and supplies its own.
    if let Some(input) = schemas.get_mut("CalculationInput") {
        if let Some(properties) = input.get_mut("properties").and_then(Value::as_object_mut) {
            properties.remove("rates");
        }
        input["additionalProperties"] = json!(false);
    }
    constrain(schemas, "LineItem", "id", text(limits.max_item_id_chars));
    constrain(schemas, "LineItem", "sku", text(limits.max_sku_chars));
    constrain(schemas, "LineItem", "name", text(limits.max_name_chars));
    constrain(
        schemas,
        "LineItem",
        "currency",
        json!({"pattern": CURRENCY_PATTERN}),
    );
    constrain(
        schemas,
        "LineItem",
        "attributes",
        pairs(limits.max_attributes),
    );
    // An update changes something: a title (`null` clears it), a status, or both.
    if let Some(patch) = schemas.get_mut("QuotePatch") {
        patch["minProperties"] = json!(1);
    }
}

fn error_answer(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    })
}

/// Adds the answers every route of its kind gives, where the route does not already
/// describe them itself.
fn add_shared_answers(operation: &mut Map<String, Value>, throttled: bool) {
    let public = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|requirements| {
            requirements
                .iter()
                .all(|requirement| requirement.as_object().is_some_and(Map::is_empty))
        });
    let parameters_in = |place: &str| {
        operation
            .get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|parameters| parameters.iter().any(|p| p["in"] == place))
    };
    let json_body = operation
        .get("requestBody")
        .and_then(|body| body.pointer("/content/application~1json"))
        .is_some();
    let mut answers: Vec<(&str, &str)> = Vec::new();
    if parameters_in("path") {
        answers.push(("400", "invalid_path: a path segment does not parse"));
    }
    if parameters_in("query") {
        answers.push(("400", "invalid_query: the query string does not parse"));
    }
    if json_body {
        answers.push((
            "400",
            "invalid_json or invalid_body: the body is not the JSON described",
        ));
        answers.push((
            "413",
            "payload_too_large: the body is over `http.max_body_bytes`",
        ));
        answers.push((
            "415",
            "unsupported_media_type: send `Content-Type: application/json`",
        ));
    }
    if !public {
        answers.push(("401", "missing_api_key or invalid_api_key"));
        if throttled {
            answers.push(("429", "rate_limited: retry after `Retry-After` seconds"));
        }
        answers.push((
            "503",
            "database_unavailable or another capacity limit: retry after `Retry-After` seconds",
        ));
    }
    answers.push((
        "500",
        "internal: a fault on the server's side, logged with the request id",
    ));
    let responses = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    for (status, reason) in answers {
        let answer = responses.entry(status).or_insert_with(|| error_answer(""));
        let described = answer["description"].as_str().unwrap_or_default();
        answer["description"] = match described {
            "" => json!(reason),
            // Several shared reasons for one status are listed together; a route's own
            // description of it stays first.
            _ if described.contains(reason) => continue,
            _ => json!(format!("{described}; {reason}")),
        };
    }
}
