//! A JavaScript-shaped value tree.
//!
//! walkerOS semantics distinguish `undefined` from `null`, know values JSON
//! cannot hold (functions, Dates) and keep object keys in insertion order,
//! so events and mappings live in this type. It is read from and written to
//! JSON with serde.

use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};

/// Object keys: shared, so copying a key (a mapped property keeps the name
/// its mapping gave it) costs no allocation.
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
    /// Reads JSON text. Object keys keep their order, as in JavaScript.
    pub fn parse(json: &str) -> Result<Value, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
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

    /// The JSON text `JSON.stringify` writes for this value (see the
    /// `Serialize` impl).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The JSON text the JS shell reads back with what JSON cannot hold
    /// tagged, as `parse_tagged` reads it: `undefined` (and values that are
    /// not plain data, which JavaScript gets back as `undefined`) in arrays,
    /// NaN, the infinities and -0 become strings starting with NUL, and a
    /// string that starts with NUL gets a second one.
    pub fn to_tagged_json(&self) -> String {
        serde_json::to_string(&Json(self, true)).unwrap_or_default()
    }

    /// A value's JSON text for messages, cut short so a huge value cannot
    /// flood a log line.
    pub fn show(&self) -> String {
        const MAX: usize = 80;
        let json = self.to_json();
        if json.len() <= MAX {
            return json;
        }
        let end = (0..=MAX)
            .rev()
            .find(|&i| json.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}…", &json[..end])
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

/// 2^53: integers below it are exact in an f64 and written without a point.
const MAX_SAFE: f64 = 9_007_199_254_740_992.0;

/// `String(n)` for a finite number, as JavaScript writes it (`1e+21`,
/// `0.000001`).
pub fn js_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < MAX_SAFE {
        // -0 prints as 0, as in JavaScript.
        return (n as i64).to_string();
    }
    ryu_js::Buffer::new().format(n).to_string()
}

/// As `JSON.stringify` writes it: `undefined` and opaque members are left
/// out of objects and are `null` in arrays, as are NaN and the infinities.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Json(self, false).serialize(serializer)
    }
}

/// A value as JSON, or (`true`) in `Value::to_tagged_json`'s form.
struct Json<'a>(&'a Value, bool);

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Json(value, tagged) = *self;
        match value {
            Value::Undefined | Value::Opaque if tagged => serializer.serialize_str("\0u"),
            Value::Number(n) if tagged && n.is_nan() => serializer.serialize_str("\0nan"),
            Value::Number(n) if tagged && n.is_infinite() => {
                serializer.serialize_str(if *n > 0.0 { "\0inf" } else { "\0-inf" })
            }
            Value::Number(n) if tagged && *n == 0.0 && n.is_sign_negative() => {
                serializer.serialize_str("\0-0")
            }
            Value::String(s) if tagged && s.starts_with('\0') => {
                serializer.serialize_str(&format!("\0{s}"))
            }
            Value::Undefined | Value::Null | Value::Opaque => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) if !n.is_finite() => serializer.serialize_unit(),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < MAX_SAFE => {
                serializer.serialize_i64(*n as i64)
            }
            Value::Number(n) => {
                // serde_json writes floats in Rust's notation (1e21, not
                // 1e+21): JavaScript's text goes in as it is.
                let text = serde_json::value::RawValue::from_string(js_number(*n))
                    .map_err(serde::ser::Error::custom)?;
                text.serialize(serializer)
            }
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => serializer.collect_seq(items.iter().map(|v| Json(v, tagged))),
            // Absent, as walkerOS leaves undefined results out of objects.
            Value::Object(entries) => serializer.collect_map(
                entries
                    .iter()
                    .filter(|(_, v)| !matches!(v, Value::Undefined | Value::Opaque))
                    .map(|(k, v)| (&**k, Json(v, tagged))),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Object = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(key) = map.next_key_seed(KeyVisitor)? {
            entries.push((key, map.next_value()?));
        }
        Ok(Value::Object(entries))
    }
}

/// Reads an object key straight into a `Key`: one allocation, not a
/// `String` and then a `Key`.
struct KeyVisitor;

impl<'de> DeserializeSeed<'de> for KeyVisitor {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, s: &str) -> Result<Key, E> {
        Ok(Key::from(s))
    }
}
