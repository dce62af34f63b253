//! `getByPath`: dot paths with numeric indexes and `*` over arrays.

use crate::mapping::value::{lookup, Value};

/// A dot path split once, when the mapping is compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    segments: Vec<String>,
}

impl Path {
    pub fn new(path: &str) -> Path {
        Path {
            segments: path.split('.').map(str::to_string).collect(),
        }
    }

    /// Resolves the path; `fallback` stands in for an `undefined` result (per
    /// item under `*`), as walkerOS's `getByPath(value, key, default)` does.
    pub fn get(&self, value: &Value, fallback: &Value) -> Value {
        get(value, &self.segments, fallback)
    }

    pub fn segments(&self) -> &[String] {
        &self.segments
    }
}

/// `value[segment]...` as JavaScript evaluates it on plain objects and
/// arrays, own keys and indexes only, plus the inherited members a JSON
/// config can reach: `length` on arrays and `Object.prototype`'s functions.
fn get(value: &Value, segments: &[String], fallback: &Value) -> Value {
    let Some((segment, rest)) = segments.split_first() else {
        return value.clone();
    };
    let found = match (value, segment.as_str()) {
        (Value::Array(items), "*") => {
            // An empty rest still looks up the key "" on each item.
            let empty = [String::new()];
            let rest = if rest.is_empty() { &empty[..] } else { rest };
            return Value::Array(items.iter().map(|item| get(item, rest, fallback)).collect());
        }
        (Value::Array(items), "length") if rest.is_empty() => {
            return Value::Number(items.len() as f64)
        }
        (Value::Array(items), index) => array_index(index).and_then(|i| items.get(i)),
        (Value::Object(entries), key) => match lookup(entries, key) {
            None if rest.is_empty() && is_object_prototype_member(key) => return Value::Opaque,
            found => found,
        },
        _ => None,
    };
    match found {
        Some(Value::Undefined) | None => fallback.clone(),
        Some(next) => get(next, rest, fallback),
    }
}

/// A canonical array index ("0", "12"; not "01", "-1" or "1.0").
fn array_index(segment: &str) -> Option<usize> {
    let digits = segment.bytes().all(|b| b.is_ascii_digit());
    if digits && (segment == "0" || !segment.starts_with('0')) {
        segment.parse().ok()
    } else {
        None
    }
}

fn is_object_prototype_member(key: &str) -> bool {
    matches!(
        key,
        "constructor"
            | "hasOwnProperty"
            | "isPrototypeOf"
            | "propertyIsEnumerable"
            | "toLocaleString"
            | "toString"
            | "valueOf"
            | "__defineGetter__"
            | "__defineSetter__"
            | "__lookupGetter__"
            | "__lookupSetter__"
    )
}
