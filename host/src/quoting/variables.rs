//! A request's variables and item attributes checked against what the plugin declares,
//! before it runs: unknown names, the wrong scope, the wrong kind, missing required ones.

use crate::contract::{QuoteRequest, Scope, VariableSpec, check_value};

/// A variable problem, with a stable code and a message naming the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableError {
    /// `unknown_variable`, `invalid_variable` or `missing_variable`.
    pub code: &'static str,
    pub message: String,
}

fn error(code: &'static str, message: String) -> VariableError {
    VariableError { code, message }
}

pub fn check(
    plugin: &str,
    specs: &[VariableSpec],
    request: &QuoteRequest,
) -> Result<(), VariableError> {
    let find = |name: &str| specs.iter().find(|spec| spec.name == name);
    let declared = || {
        specs
            .iter()
            .map(|spec| spec.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, value) in &request.variables {
        let spec = find(name).ok_or_else(|| {
            error(
                "unknown_variable",
                format!(
                    "variable '{name}' is not declared by plugin {plugin} (it declares: {})",
                    declared()
                ),
            )
        })?;
        if spec.scope == Scope::Item {
            return Err(error(
                "invalid_variable",
                format!(
                    "variable '{name}' is set per item, in items[].attributes, not on the quote"
                ),
            ));
        }
        check_value(spec.kind, value)
            .map_err(|reason| error("invalid_variable", format!("variable '{name}': {reason}")))?;
    }
    for (index, item) in request.items.iter().enumerate() {
        for (name, value) in &item.attributes {
            let place = format!("items[{index}].attributes.{name}");
            let spec = find(name).ok_or_else(|| {
                error(
                    "unknown_variable",
                    format!(
                        "{place} is not a variable of plugin {plugin} (it declares: {})",
                        declared()
                    ),
                )
            })?;
            if spec.scope == Scope::Quote {
                return Err(error(
                    "invalid_variable",
                    format!("{place}: variable '{name}' can only be set on the quote"),
                ));
            }
            check_value(spec.kind, value)
                .map_err(|reason| error("invalid_variable", format!("{place}: {reason}")))?;
        }
    }
    for spec in specs
        .iter()
        .filter(|spec| spec.required && spec.default.is_none())
    {
        let on_quote = request.variables.contains_key(&spec.name);
        let missing_item = request
            .items
            .iter()
            .position(|item| !item.attributes.contains_key(&spec.name));
        let missing = match spec.scope {
            Scope::Quote => (!on_quote).then(|| format!("variable '{}' is required", spec.name)),
            Scope::Item => missing_item.map(|index| format!("items[{index}].attributes.{} is required", spec.name)),
            Scope::Both => (!on_quote)
                .then_some(missing_item)
                .flatten()
                .map(|index| format!("variable '{}' is required on the quote or on every item (items[{index}] has none)", spec.name)),
        };
        if let Some(message) = missing {
            return Err(error("missing_variable", message));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{LineItem, ValueKind};

    fn spec(name: &str, kind: ValueKind, scope: Scope, required: bool) -> VariableSpec {
        VariableSpec {
            name: name.into(),
            kind,
            scope,
            required,
            default: None,
            description: String::new(),
        }
    }

    fn request(variables: &[(&str, &str)], attributes: &[&[(&str, &str)]]) -> QuoteRequest {
        QuoteRequest {
            currency: "RUB".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            variables: variables
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            items: attributes
                .iter()
                .map(|pairs| LineItem {
                    id: "1".into(),
                    sku: "A".into(),
                    name: String::new(),
                    quantity: "1".into(),
                    unit_price: "1".into(),
                    currency: "RUB".into(),
                    attributes: pairs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                })
                .collect(),
            rates: Vec::new(),
        }
    }

    #[test]
    fn variables_are_checked_by_name_scope_kind_and_presence() {
        let specs = [
            spec("markup", ValueKind::Decimal, Scope::Both, true),
            spec("country", ValueKind::Text, Scope::Quote, false),
            spec("weight", ValueKind::Decimal, Scope::Item, false),
        ];
        let check = |variables: &[(&str, &str)], attributes: &[&[(&str, &str)]]| {
            super::check("p", &specs, &request(variables, attributes)).map_err(|error| error.code)
        };
        assert_eq!(check(&[("markup", "10")], &[&[]]), Ok(()));
        assert_eq!(
            check(&[], &[&[("markup", "5")], &[("markup", "7")]]),
            Ok(())
        );
        assert_eq!(
            check(&[("markup", "10"), ("colour", "red")], &[&[]]),
            Err("unknown_variable")
        );
        assert_eq!(check(&[("markup", "ten")], &[&[]]), Err("invalid_variable"));
        assert_eq!(
            check(&[("markup", "1"), ("weight", "2")], &[&[]]),
            Err("invalid_variable")
        );
        assert_eq!(
            check(&[("markup", "1")], &[&[("country", "RU")]]),
            Err("invalid_variable")
        );
        assert_eq!(
            check(&[], &[&[("markup", "5")], &[]]),
            Err("missing_variable")
        );
        let message = super::check("p", &specs, &request(&[], &[&[("markup", "5")], &[]]))
            .unwrap_err()
            .message;
        assert!(message.contains("items[1]"), "{message}");
    }
}
