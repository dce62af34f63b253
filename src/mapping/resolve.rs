//! Resolves a compiled mapping against a value, as `getMappingValue` does.

use std::cell::Cell;

use super::callback::{Callback, Host, Threw};
use super::{cast_to_property, is_granted, Chain, Config, Item, Mapping, Scope, Shape};
use crate::mapping::value::{Object, Value};

/// Thrown inside one alternative; walkerOS catches it and moves on to the
/// next alternative.
struct Failed;

/// A result, and what the caller needs to know of where it came from.
pub struct Resolved<'a> {
    pub value: Value,
    /// Where walkerOS would return part of the input itself rather than a
    /// new value: the path of keys from the input (empty for the input
    /// itself). Only meaningful for an object or array result; the caller
    /// reads the path from its own object.
    pub origin: Option<&'a [String]>,
    /// The input itself became (part of) the result: given only some of an
    /// event's fields (`Mapping::read_keys`), resolve again with all.
    pub took_input: bool,
}

/// `getMappingValue(value, mapping, { consent })`, calling the mapping's
/// functions through `host`, and where the result came from. `consent`
/// stands in when the value carries none of its own.
pub fn resolve_traced<'a>(
    value: &'a Value,
    mapping: &'a Mapping,
    consent: Option<&Object>,
    host: &'a dyn Host,
) -> Resolved<'a> {
    let run = Run {
        root: value,
        host,
        origin: Cell::new(None),
        took_input: Cell::new(false),
    };
    let result = run.resolve(value, mapping, consent);
    Resolved {
        value: result,
        origin: run.origin.get(),
        took_input: run.took_input.get(),
    }
}

struct Run<'a> {
    /// The value resolution started from (the event).
    root: &'a Value,
    host: &'a dyn Host,
    /// Where the last value produced came from in `root`, if taken whole.
    origin: Cell<Option<&'a [String]>>,
    /// `root` itself was taken as a value.
    took_input: Cell<bool>,
}

const EMPTY: &Object = &Vec::new();

impl<'a> Run<'a> {
    /// `segments` when `value` is the root, where a path found its result.
    fn at_root(&self, value: &Value, segments: &'a [String]) -> Option<&'a [String]> {
        std::ptr::eq(value, self.root).then_some(segments)
    }

    fn resolve(&self, value: &Value, mapping: &'a Mapping, consent: Option<&Object>) -> Value {
        if value.is_undefined() {
            return Value::Undefined;
        }
        let own = match value.get("consent") {
            Some(Value::Object(c)) => Some(c),
            // A truthy non-object consent grants nothing.
            Some(v) if v.is_truthy() => Some(EMPTY),
            _ => None,
        };
        self.resolve_with_consent(value, mapping, own.or(consent))
    }

    /// `resolve` once `value`'s own consent is looked up: a map's fields
    /// resolve against the same value, so they skip the lookup.
    fn resolve_with_consent(
        &self,
        value: &Value,
        mapping: &'a Mapping,
        consent: Option<&Object>,
    ) -> Value {
        for chain in &mapping.alternatives {
            if let Ok(result) = self.process(value, chain, consent) {
                if !result.is_undefined() {
                    return result;
                }
            }
        }
        Value::Undefined
    }

    fn process(
        &self,
        value: &Value,
        chain: &'a Chain,
        consent: Option<&Object>,
    ) -> Result<Value, Failed> {
        let mut acc = Value::Undefined;
        for item in &chain.items {
            if acc.is_truthy() {
                break;
            }
            acc = match item {
                Item::Path(path) => {
                    self.origin.set(self.at_root(value, path.segments()));
                    cast_to_property(path.get(value, &Value::Undefined))
                }
                Item::Config(config) => self.configured(value, config, consent)?,
                Item::Nothing => Value::Undefined,
                Item::Fails => return Err(Failed),
            };
        }
        Ok(acc)
    }

    fn call(
        &self,
        callback: Callback,
        value: &Value,
        consent: Option<&Object>,
    ) -> Result<Value, Threw> {
        match callback {
            Callback::Js(id) => self
                .host
                .call(id, value, std::ptr::eq(value, self.root), consent),
            // Not a function: calling it throws.
            Callback::Broken => Err(Threw),
        }
    }

    fn configured(
        &self,
        value: &Value,
        c: &'a Config,
        consent: Option<&Object>,
    ) -> Result<Value, Failed> {
        self.origin.set(None);
        let callbacks = c.callbacks.as_deref();
        if let Some(condition) = callbacks.and_then(|cb| cb.condition) {
            // A throwing condition counts as false.
            if !self
                .call(condition, value, consent)
                .is_ok_and(|v| v.is_truthy())
            {
                return Ok(Value::Undefined);
            }
        }
        if let Some(required) = &c.consent {
            if !is_granted(required, consent) {
                // walkerOS returns the raw default here, without casting it.
                return Ok(c.value.clone());
            }
        }
        // The key or default result; `map`, `set` and a `loop` over an array
        // replace it, so it is only computed where it is kept.
        // A throwing fn gives undefined; a key still overrides it.
        let fn_result = callbacks
            .and_then(|cb| cb.fn_)
            .map(|f| self.call(f, value, consent).unwrap_or_default());
        let mut origin = None;
        let mut base = || match (&c.key, &fn_result) {
            (Some(path), _) => {
                origin = self.at_root(value, path.segments());
                path.get(value, &c.value)
            }
            (None, Some(result)) => result.clone(),
            (None, None) if c.value.is_undefined() => {
                origin = self.at_root(value, &[]);
                self.took_input
                    .set(self.took_input.get() || origin.is_some());
                value.clone()
            }
            (None, None) => c.value.clone(),
        };
        let mut result = match &c.shape {
            Shape::Plain => base(),
            // The value itself as the only item: resolved in place, so a
            // callback or a whole-value result inside still sees the root.
            Shape::Loop(Scope::This, inner) => Value::Array(
                Some(self.resolve(value, inner, consent))
                    .into_iter()
                    .filter(|v| !v.is_undefined())
                    .collect(),
            ),
            Shape::Loop(Scope::Value(scope), inner) => match self.resolve(value, scope, consent) {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .map(|item| self.resolve(item, inner, consent))
                        .filter(|v| !v.is_undefined())
                        .collect(),
                ),
                _ => base(),
            },
            Shape::Map(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, m)| (name.clone(), self.resolve_with_consent(value, m, consent)))
                    .filter(|(_, v)| !v.is_undefined())
                    .collect(),
            ),
            Shape::Set(chains) => Value::Array(
                chains
                    .iter()
                    .map(|chain| self.process(value, chain, consent))
                    .collect::<Result<_, _>>()?,
            ),
        };
        if let Some(validate) = callbacks.and_then(|cb| cb.validate) {
            if !self
                .call(validate, &result, consent)
                .is_ok_and(|v| v.is_truthy())
            {
                result = Value::Undefined;
            }
        }
        // Set last: the inner mappings of `map`, `loop` and `set` record
        // origins of their own.
        self.origin.set(origin);
        match cast_to_property(result) {
            Value::Undefined => {
                self.origin.set(None);
                Ok(cast_to_property(c.value.clone()))
            }
            v => Ok(v),
        }
    }
}
