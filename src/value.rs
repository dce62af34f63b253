//! A JavaScript-shaped value tree.
//!
//! walkerOS semantics distinguish `undefined` from `null` and keep object keys
//! in insertion order, which neither `serde_json::Value` (without extra
//! features) nor Rust maps give us, so events and mappings live in this type.

/// Object keys: shared, so copying a key (the core rebuilds events from
/// their projection's keys) costs no allocation.
pub type Key = std::rc::Rc<str>;

/// Object entries in insertion order. Events have few keys per level, so a
/// vector beats a hash map on both memory and lookup time.
pub type Object = Vec<(Key, Value)>;

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

    /// The JSON text `JSON.stringify` writes for this value: `undefined` and
    /// opaque members are left out of objects and become `null` in arrays,
    /// as do NaN and the infinities; numbers are written as JavaScript
    /// prints them (`1e+21`, `0.000001`).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Value::Undefined | Value::Null | Value::Opaque => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) if n.is_finite() => crate::js_number::push(out, *n),
            Value::Number(_) => out.push_str("null"),
            Value::String(s) => crate::json::push_str(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(entries) => {
                out.push('{');
                let present = entries
                    .iter()
                    .filter(|(_, v)| !matches!(v, Value::Undefined | Value::Opaque));
                for (i, (key, value)) in present.enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    crate::json::push_key(out, key);
                    value.write_json(out);
                }
                out.push('}');
            }
        }
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
    object
        .iter()
        .rev()
        .find(|(k, _)| &**k == key)
        .map(|(_, v)| v)
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
