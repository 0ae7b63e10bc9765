//! The two-tier lookup of the request's inputs: an item attribute overrides the quote
//! variable, which overrides the default.
//!
//! The request's keys are indexed once (which also refuses repeated and misplaced keys),
//! so reading a product's dozen inputs does not scan its attributes a dozen times, and
//! the name of the field an input came from is only written out in an error.

use crate::request::{Error, Request};
use crate::values::{Date, parse_decimal, parse_integer};
use crate::variables::{Scope, VARIABLES, Variable, check_bounds, position};
use rust_decimal::Decimal;
use std::fmt;

/// Where each declared variable sits in one list of pairs (its position), if given.
type Slots = [Option<usize>; VARIABLES.len()];

/// The request with its keys indexed.
pub struct Lookup<'a> {
    request: &'a Request,
    variables: Slots,
    items: Vec<Slots>,
}

/// The place an input came from, as error messages name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldName<'n> {
    /// `items[i].attributes.name`.
    Attribute(usize, &'n str),
    /// `variables.name`.
    Variable(&'n str),
    /// `name (default)`.
    Default(&'n str),
    /// `items[i].name`: a field of the item itself (`quantity`, `unit_price`, `currency`).
    Item(usize, &'n str),
}

impl fmt::Display for FieldName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldName::Attribute(index, name) => write!(f, "items[{index}].attributes.{name}"),
            FieldName::Variable(name) => write!(f, "variables.{name}"),
            FieldName::Default(name) => write!(f, "{name} (default)"),
            FieldName::Item(index, name) => write!(f, "items[{index}].{name}"),
        }
    }
}

/// A value and where it came from.
pub struct Found<'a> {
    pub text: &'a str,
    pub field: FieldName<'a>,
}

impl<'a> Lookup<'a> {
    /// Indexes the request; refuses a key given twice in one list, a per-item variable
    /// among the quote's variables and a quote variable among an item's attributes.
    pub fn new(request: &'a Request) -> Result<Self, Error> {
        let variables = index(
            &request.variables,
            Scope::Item,
            || "variables".into(),
            |key| format!("variables.{key}: '{key}' is set per item, as an item attribute"),
        )?;
        let items = request
            .items
            .iter()
            .enumerate()
            .map(|(index_of_item, item)| {
                let place = || format!("items[{index_of_item}].attributes");
                index(&item.attributes, Scope::Quote, place, |key| {
                    format!(
                        "{}.{key}: '{key}' applies to the whole quote; set it as a quote \
                         variable",
                        place()
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            request,
            variables,
            items,
        })
    }

    /// The declared variable and its value: the item's attribute (item/both scope), else
    /// the quote variable (quote/both scope), else the default. Blank text counts as absent.
    fn locate(&self, item: Option<usize>, name: &'a str) -> (&'static Variable, Option<Found<'a>>) {
        let at = position(name).unwrap_or_else(|| panic!("undeclared variable {name}"));
        let spec = &VARIABLES[at];
        let given = |pairs: &'a [(String, String)], slots: &Slots| {
            slots[at]
                .map(|position| pairs[position].1.as_str())
                .filter(|text| !text.trim().is_empty())
        };
        if let (Some(index), Scope::Item | Scope::Both) = (item, spec.scope)
            && let Some(text) = given(&self.request.items[index].attributes, &self.items[index])
        {
            let field = FieldName::Attribute(index, name);
            return (spec, Some(Found { text, field }));
        }
        if spec.scope != Scope::Item
            && let Some(text) = given(&self.request.variables, &self.variables)
        {
            let field = FieldName::Variable(name);
            return (spec, Some(Found { text, field }));
        }
        let default = spec.default.map(|text| Found {
            text,
            field: FieldName::Default(name),
        });
        (spec, default)
    }

    /// The text value, or `None` when optional and absent.
    pub fn text_opt(&self, item: Option<usize>, name: &'a str) -> Option<Found<'a>> {
        self.locate(item, name).1
    }

    /// The text value of a variable that has a default or is required.
    pub fn text(&self, item: Option<usize>, name: &'a str) -> Result<Found<'a>, Error> {
        let (spec, found) = self.locate(item, name);
        found.ok_or_else(|| missing(spec, item))
    }

    /// The decimal value, checked against the variable's bounds; `None` when optional and
    /// absent.
    pub fn decimal_opt(
        &self,
        item: Option<usize>,
        name: &'a str,
    ) -> Result<Option<Decimal>, Error> {
        let (spec, found) = self.locate(item, name);
        let Some(found) = found else {
            return match spec.required {
                true => Err(missing(spec, item)),
                false => Ok(None),
            };
        };
        let value = parse_decimal(found.text, found.field)?;
        check_bounds(value, spec.bounds, found.field)?;
        Ok(Some(value))
    }

    /// The decimal value of a variable that has a default or is required.
    pub fn decimal(&self, item: Option<usize>, name: &'a str) -> Result<Decimal, Error> {
        self.decimal_opt(item, name)?
            .ok_or_else(|| missing(self.locate(item, name).0, item))
    }

    /// The whole-number value, checked against the variable's bounds.
    pub fn integer(&self, item: Option<usize>, name: &'a str) -> Result<i64, Error> {
        let (spec, found) = self.locate(item, name);
        let found = found.ok_or_else(|| missing(spec, item))?;
        let value = parse_integer(found.text, found.field)?;
        check_bounds(Decimal::from(value), spec.bounds, found.field)?;
        Ok(value)
    }

    /// The date value; `None` when absent.
    pub fn date_opt(&self, item: Option<usize>, name: &'a str) -> Result<Option<Date>, Error> {
        self.text_opt(item, name)
            .map(|found| Date::parse(found.text, found.field))
            .transpose()
    }
}

/// The slots of one list of pairs. `place` (written only on error) prefixes the repeated-key error, `misplaced`
/// words the refusal of a declared variable of the `refused` scope.
fn index(
    pairs: &[(String, String)],
    refused: Scope,
    place: impl Fn() -> String,
    misplaced: impl Fn(&str) -> String,
) -> Result<Slots, Error> {
    let mut slots = [None; VARIABLES.len()];
    // Undeclared keys (which the host refuses before a call) are rare: a plain list.
    let mut undeclared: Vec<&str> = Vec::new();
    for (at, (key, _)) in pairs.iter().enumerate() {
        let declared = position(key);
        let repeated = match declared {
            Some(variable) => slots[variable].replace(at).is_some(),
            None => {
                let seen = undeclared.contains(&key.as_str());
                undeclared.push(key);
                seen
            }
        };
        if repeated {
            return Err(Error::invalid(format!(
                "{}.{key} is given more than once",
                place()
            )));
        }
        if declared.is_some_and(|variable| VARIABLES[variable].scope == refused) {
            return Err(Error::invalid(misplaced(key)));
        }
    }
    Ok(slots)
}

fn missing(spec: &Variable, item: Option<usize>) -> Error {
    let name = spec.name;
    match (item, spec.scope) {
        (Some(index), Scope::Both) => Error::invalid(format!(
            "items[{index}].{name} is required: set the item attribute or the quote variable '{name}'"
        )),
        (Some(index), _) => Error::invalid(format!("items[{index}].attributes.{name} is required")),
        (None, _) => Error::invalid(format!("variables.{name} is required")),
    }
}
