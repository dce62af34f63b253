//! Turns a mapping value (parsed JSON) into the form `resolve` walks.

use super::callback::{is_marker, without_functions, Callback};
use super::{Callbacks, Chain, Config, Item, Mapping, Path, Scope, Shape};
use crate::mapping::value::{Object, Value};

/// Compiles any value. Shapes walkerOS would reject at run time compile to
/// items that resolve to undefined, as walkerOS's do; `settings` validation
/// reports them to the user before that.
pub fn compile(value: &Value) -> Mapping {
    let alternatives = match value {
        Value::Array(entries) => entries.iter().map(compile_chain).collect(),
        other => vec![compile_chain(other)],
    };
    Mapping { alternatives }
}

fn compile_chain(value: &Value) -> Chain {
    let items = match value {
        Value::Array(items) => items.iter().map(compile_item).collect(),
        other => vec![compile_item(other)],
    };
    Chain { items }
}

fn compile_item(value: &Value) -> Item {
    match value {
        // `{ key: '' }`: an empty key is falsy, so the whole value is taken.
        Value::String(path) if path.is_empty() => Item::Config(Box::default()),
        // A function where a mapping is expected has no keys.
        v if is_marker(v) => Item::Nothing,
        Value::String(path) => Item::Path(Path::new(path)),
        Value::Object(entries) if entries.is_empty() => Item::Nothing,
        Value::Object(entries) => compile_config(entries),
        Value::Null | Value::Undefined | Value::Opaque => Item::Fails,
        // Object.keys of a number or boolean is empty.
        Value::Bool(_) | Value::Number(_) => Item::Nothing,
        // A deeper array is an object to walkerOS: without keys when empty;
        // else its only option is the inherited `map` (Array.prototype.map,
        // a function with no entries), which gives `{}`.
        Value::Array(items) if items.is_empty() => Item::Nothing,
        Value::Array(_) => Item::Config(Box::new(Config {
            shape: Shape::Map(Vec::new()),
            ..Config::default()
        })),
    }
}

fn compile_config(entries: &Object) -> Item {
    let get = |k: &str| crate::mapping::value::lookup(entries, k).filter(|v| !v.is_undefined());
    let key = match get("key") {
        None => None,
        Some(v) if is_marker(v) => return Item::Fails,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(Path::new(s)),
        Some(v) if !v.is_truthy() => None,
        // walkerOS calls `key.split`, which throws on anything but a string.
        Some(_) => return Item::Fails,
    };
    let callbacks = Callbacks {
        condition: Callback::from_option(get("condition")),
        fn_: Callback::from_option(get("fn")),
        validate: Callback::from_option(get("validate")),
    };
    let callbacks = (callbacks != Callbacks::default()).then(|| Box::new(callbacks));
    let consent = get("consent").filter(|v| v.is_truthy()).map(object_entries);
    let shape = if let Some(l) = get("loop").filter(|v| v.is_truthy()) {
        // walkerOS destructures `[scope, mapping] = loop`, so any iterable
        // works: a string gives its first two characters.
        let pair: Vec<Value> = match l {
            Value::Array(pair) => pair.clone(),
            Value::String(s) if !is_marker(l) => s
                .chars()
                .take(2)
                .map(|c| Value::String(c.to_string()))
                .collect(),
            _ => return Item::Fails,
        };
        let at = |i: usize| pair.get(i).cloned().unwrap_or_default();
        let scope = match at(0) {
            Value::String(s) if s == "this" => Scope::This,
            other => Scope::Value(compile(&other)),
        };
        Shape::Loop(scope, compile(&at(1)))
    } else if let Some(m) = get("map").filter(|v| v.is_truthy()) {
        // walkerOS iterates `Object.entries(map)`, which any value has.
        Shape::Map(
            object_entries(m)
                .iter()
                .map(|(name, v)| (name.clone(), compile(v)))
                .collect(),
        )
    } else if let Some(s) = get("set").filter(|v| v.is_truthy()) {
        match s {
            Value::Array(items) => Shape::Set(items.iter().map(compile_chain).collect()),
            _ => return Item::Fails,
        }
    } else {
        Shape::Plain
    };
    Item::Config(Box::new(Config {
        key,
        value: get("value").map(without_functions).unwrap_or_default(),
        consent,
        shape,
        callbacks,
    }))
}

/// `Object.entries(value)` in JavaScript: an object's entries, a string's
/// UTF-16 units and an array's items by index; nothing for anything else
/// (a function has no keys: consent it holds requires nothing).
fn object_entries(value: &Value) -> Object {
    match value {
        Value::Object(entries) => entries.clone(),
        v if is_marker(v) => Vec::new(),
        Value::String(s) => s
            .encode_utf16()
            .enumerate()
            .map(|(i, unit)| {
                let unit = String::from_utf16_lossy(&[unit]);
                (i.to_string().into(), Value::String(unit))
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string().into(), v.clone()))
            .collect(),
        _ => Vec::new(),
    }
}
