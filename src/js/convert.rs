//! Conversions between JavaScript values and `Value` where JSON cannot
//! carry them: a mapping function's arguments and result, and mapping
//! results, which may hold `undefined` and values that are not plain data.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::mapping::value::Value;

/// Deeper than any event; stops a cyclic object from recursing forever.
const MAX_DEPTH: usize = 200;

pub fn from_js(value: &JsValue) -> Value {
    from_js_at(value, 0)
}

fn from_js_at(value: &JsValue, depth: usize) -> Value {
    if value.is_undefined() {
        return Value::Undefined;
    }
    if value.is_null() {
        return Value::Null;
    }
    if let Some(b) = value.as_bool() {
        return Value::Bool(b);
    }
    if let Some(n) = value.as_f64() {
        return Value::Number(n);
    }
    if let Some(s) = value.as_string() {
        return Value::String(s);
    }
    if depth >= MAX_DEPTH {
        return Value::Opaque;
    }
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        return Value::Array(array.iter().map(|v| from_js_at(&v, depth + 1)).collect());
    }
    if is_plain_object(value) {
        let object: &Object = value.unchecked_ref();
        return Value::Object(
            Object::entries(object)
                .iter()
                .map(|pair| {
                    let pair: Array = pair.unchecked_into();
                    let key = pair.get(0).as_string().unwrap_or_default();
                    (key.into(), from_js_at(&pair.get(1), depth + 1))
                })
                .collect(),
        );
    }
    Value::Opaque
}

/// walkerOS's `isObject`: `Object.prototype.toString` says `[object Object]`.
pub fn is_plain_object(value: &JsValue) -> bool {
    if !value.is_object() || value.is_function() {
        return false;
    }
    // Object.prototype.toString, reached from a fresh object.
    let to_string = Reflect::get(&Object::new(), &"toString".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    to_string
        .and_then(|f| f.call0(value).ok())
        .and_then(|s| s.as_string())
        .is_some_and(|s| s == "[object Object]")
}

pub fn to_js(value: &Value) -> JsValue {
    match value {
        Value::Undefined | Value::Opaque => JsValue::UNDEFINED,
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(*n),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(to_js).collect::<Array>().into(),
        Value::Object(entries) => {
            let object = Object::new();
            for (key, v) in entries {
                let v = to_js(v);
                if &**key == "__proto__" {
                    // An own property, as JSON.parse makes it, not a prototype.
                    let descriptor = Object::new();
                    let _ = Reflect::set(&descriptor, &"value".into(), &v);
                    for flag in ["writable", "enumerable", "configurable"] {
                        let _ = Reflect::set(&descriptor, &flag.into(), &JsValue::TRUE);
                    }
                    Object::define_property(&object, &JsValue::from_str(key), &descriptor);
                } else {
                    let _ = Reflect::set(&object, &JsValue::from_str(key), &v);
                }
            }
            object.into()
        }
    }
}
