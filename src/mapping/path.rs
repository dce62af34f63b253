//! `getByPath`: dot paths with numeric indexes and `*` over arrays.

use crate::mapping::value::Value;

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
        get_segments(value, &self.segments, fallback)
    }

    pub fn segments(&self) -> &[String] {
        &self.segments
    }
}

fn get_segments(value: &Value, segments: &[String], fallback: &Value) -> Value {
    let mut current = value;
    for (index, segment) in segments.iter().enumerate() {
        if segment == "*" {
            if let Value::Array(items) = current {
                let rest = &segments[index + 1..];
                // An empty rest still looks up the key "" on each item.
                let rest_owned;
                let rest = if rest.is_empty() {
                    rest_owned = [String::new()];
                    &rest_owned[..]
                } else {
                    rest
                };
                return Value::Array(
                    items
                        .iter()
                        .map(|item| get_segments(item, rest, fallback))
                        .collect(),
                );
            }
        }
        match member(current, segment) {
            Member::Found(next) => current = next,
            Member::Length(n) => {
                return if index + 1 == segments.len() {
                    Value::Number(n as f64)
                } else {
                    fallback.clone()
                }
            }
            Member::Opaque => {
                return if index + 1 == segments.len() {
                    Value::Opaque
                } else {
                    fallback.clone()
                }
            }
            Member::Missing => return fallback.clone(),
        }
    }
    current.clone()
}

enum Member<'a> {
    Found(&'a Value),
    Length(usize),
    Opaque,
    Missing,
}

/// `current[segment]` as JavaScript evaluates it on plain objects and arrays,
/// own keys and indexes only, plus the inherited members a JSON config can
/// reach: `length` on arrays and `Object.prototype`'s functions.
fn member<'a>(current: &'a Value, segment: &str) -> Member<'a> {
    match current {
        Value::Object(entries) => match crate::mapping::value::lookup(entries, segment) {
            Some(Value::Undefined) => Member::Missing,
            Some(v) => Member::Found(v),
            None if is_object_prototype_member(segment) => Member::Opaque,
            None => Member::Missing,
        },
        Value::Array(items) => {
            if segment == "length" {
                return Member::Length(items.len());
            }
            match array_index(segment).and_then(|i| items.get(i)) {
                Some(Value::Undefined) | None => Member::Missing,
                Some(v) => Member::Found(v),
            }
        }
        _ => Member::Missing,
    }
}

/// A canonical array index ("0", "12"; not "01", "-1" or "1.0").
fn array_index(segment: &str) -> Option<usize> {
    let canonical = !segment.is_empty()
        && segment.bytes().all(|b| b.is_ascii_digit())
        && (segment == "0" || !segment.starts_with('0'));
    if canonical {
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
