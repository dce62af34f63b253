//! A JavaScript-shaped value tree.
//!
//! walkerOS semantics distinguish `undefined` from `null` and keep object keys
//! in insertion order, which neither `serde_json::Value` (without extra
//! features) nor Rust maps give us, so events and mappings live in this type.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// Object entries in insertion order. Events have few keys per level, so a
/// vector beats a hash map on both memory and lookup time.
pub type Object = Vec<(String, Value)>;

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Object),
    /// Something JavaScript has but JSON data does not (a function, a Date, an
    /// inherited prototype member). walkerOS treats it as "not a property".
    Opaque,
}

impl Value {
    pub fn parse(json: &str) -> Result<Value, String> {
        crate::json_parse::parse(json).map_err(|e| e.to_string())
    }

    /// Parses JSON written by the JS shell's tagging encoder, which keeps
    /// what JSON cannot hold as strings starting with NUL: `undefined`,
    /// non-plain values, NaN, infinities and -0. A string that really starts
    /// with NUL arrives with a second one.
    pub fn parse_tagged(json: &str) -> Result<Value, String> {
        let mut value = Value::parse(json)?;
        value.untag();
        Ok(value)
    }

    fn untag(&mut self) {
        match self {
            Value::String(s) if s.starts_with('\0') => {
                *self = match &s[1..] {
                    "u" => Value::Undefined,
                    "o" => Value::Opaque,
                    "nan" => Value::Number(f64::NAN),
                    "inf" => Value::Number(f64::INFINITY),
                    "-inf" => Value::Number(f64::NEG_INFINITY),
                    "-0" => Value::Number(-0.0),
                    escaped if escaped.starts_with('\0') => Value::String(escaped.to_string()),
                    // Callback markers stay for the mapping compiler.
                    _ => return,
                }
            }
            Value::Array(items) => items.iter_mut().for_each(Value::untag),
            Value::Object(entries) => entries.iter_mut().for_each(|(_, v)| v.untag()),
            _ => {}
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_string())
    }

    /// True when JSON text carries this value exactly: no `undefined`,
    /// non-plain values, NaN, infinities or -0 anywhere inside.
    pub fn is_json_exact(&self) -> bool {
        match self {
            Value::Undefined | Value::Opaque => false,
            Value::Null | Value::Bool(_) | Value::String(_) => true,
            Value::Number(n) => n.is_finite() && !(*n == 0.0 && n.is_sign_negative()),
            Value::Array(items) => items.iter().all(Value::is_json_exact),
            Value::Object(entries) => entries.iter().all(|(_, v)| v.is_json_exact()),
        }
    }

    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined)
    }

    /// JavaScript truthiness.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Undefined | Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
            Value::Array(_) | Value::Object(_) | Value::Opaque => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Own-key lookup on an object; anything else has no keys.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|o| lookup(o, key))
    }

    /// The JavaScript `typeof`-like name used in error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Undefined => "undefined",
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Opaque => "non-plain value",
        }
    }
}

pub fn lookup<'a>(object: &'a Object, key: &str) -> Option<&'a Value> {
    // The last duplicate wins, as with JSON.parse.
    object.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl Serialize for Value {
    /// Serialises as JSON.stringify would: `undefined` and opaque members are
    /// left out of objects and become `null` inside arrays.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Undefined | Value::Null | Value::Opaque => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => {
                if !n.is_finite() {
                    serializer.serialize_unit()
                } else if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                    serializer.serialize_i64(*n as i64)
                } else {
                    serializer.serialize_f64(*n)
                }
            }
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(entries) => {
                let present = entries
                    .iter()
                    .filter(|(_, v)| !matches!(v, Value::Undefined | Value::Opaque));
                let mut map = serializer.serialize_map(None)?;
                for (k, v) in present {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}
