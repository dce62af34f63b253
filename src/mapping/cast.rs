//! `castToProperty`: what walkerOS accepts as a property value.

use crate::mapping::value::Value;

/// A value is a property when it is a boolean, string, number (not NaN),
/// undefined, or an array or plain object made only of properties. Anything
/// else anywhere inside (null, a function, a Date) makes the whole value
/// undefined.
pub fn cast_to_property(value: Value) -> Value {
    if is_property(&value) {
        value
    } else {
        Value::Undefined
    }
}

fn is_property(value: &Value) -> bool {
    match value {
        Value::Undefined | Value::Bool(_) | Value::String(_) => true,
        Value::Number(n) => !n.is_nan(),
        Value::Null | Value::Opaque => false,
        Value::Array(items) => items.iter().all(is_property),
        Value::Object(entries) => entries.iter().all(|(_, v)| is_property(v)),
    }
}
