//! Resolves a compiled mapping against a value, as `getMappingValue` does.

use super::{cast_to_property, is_granted, Chain, Config, Item, Mapping, Scope, Shape};
use crate::value::{Object, Value};

/// Thrown inside one alternative; walkerOS catches it and moves on to the
/// next alternative.
struct Failed;

/// `getMappingValue(value, mapping, { consent })`. `consent` stands in when
/// the value carries none of its own.
pub fn resolve(value: &Value, mapping: &Mapping, consent: Option<&Object>) -> Value {
    if value.is_undefined() {
        return Value::Undefined;
    }
    let own = match value.get("consent") {
        Some(Value::Object(c)) => Some(c),
        // A truthy non-object consent grants nothing.
        Some(v) if v.is_truthy() => Some(&EMPTY),
        _ => None,
    };
    let consent = own.or(consent);
    for chain in &mapping.alternatives {
        if let Ok(result) = process(value, chain, consent) {
            if !result.is_undefined() {
                return result;
            }
        }
    }
    Value::Undefined
}

static EMPTY: Object = Vec::new();

fn process(value: &Value, chain: &Chain, consent: Option<&Object>) -> Result<Value, Failed> {
    let mut acc = Value::Undefined;
    for item in &chain.items {
        if acc.is_truthy() {
            break;
        }
        acc = one(value, item, consent)?;
    }
    Ok(acc)
}

fn one(value: &Value, item: &Item, consent: Option<&Object>) -> Result<Value, Failed> {
    match item {
        Item::Path(path) => Ok(cast_to_property(path.get(value, &Value::Undefined))),
        Item::Config(config) => configured(value, config, consent),
        Item::Nothing => Ok(Value::Undefined),
        Item::Fails => Err(Failed),
    }
}

fn configured(value: &Value, c: &Config, consent: Option<&Object>) -> Result<Value, Failed> {
    if let Some(required) = &c.consent {
        if !is_granted(required, consent) {
            // walkerOS returns the raw default here, without casting it.
            return Ok(c.value.clone());
        }
    }
    // The key or default result; `map`, `set` and a `loop` over an array
    // replace it, so it is only computed where it is kept.
    let base = || match &c.key {
        Some(path) => path.get(value, &c.value),
        None if c.value.is_undefined() => value.clone(),
        None => c.value.clone(),
    };
    let result = match &c.shape {
        Shape::Plain => base(),
        Shape::Loop(scope, inner) => {
            let items = match scope {
                Scope::This => Value::Array(vec![value.clone()]),
                Scope::Value(scope) => resolve(value, scope, consent),
            };
            match items {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .map(|item| resolve(item, inner, consent))
                        .filter(|v| !v.is_undefined())
                        .collect(),
                ),
                _ => base(),
            }
        }
        Shape::Map(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, m)| (name.clone(), resolve(value, m, consent)))
                .filter(|(_, v)| !v.is_undefined())
                .collect(),
        ),
        Shape::Set(chains) => Value::Array(
            chains
                .iter()
                .map(|chain| process(value, chain, consent))
                .collect::<Result<_, _>>()?,
        ),
    };
    match cast_to_property(result) {
        Value::Undefined => Ok(cast_to_property(c.value.clone())),
        v => Ok(v),
    }
}
