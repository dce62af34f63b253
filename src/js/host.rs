//! Calls the JavaScript functions of a mapping config for the Rust resolver,
//! through the shell's `call` (`caller` in js/config.js), which gives them
//! walkerOS's arguments and hands the result back as tagged JSON text.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::mapping::value::{Object as Entries, Value};
use crate::mapping::{Host, Threw};

pub struct JsHost {
    /// `call(id, value, consent, root, collector, logger, event)`: the
    /// result's tagged JSON text, or undefined when the function threw.
    pub call: Function,
    /// The caller's own event object.
    pub root: JsValue,
    pub collector: JsValue,
    pub logger: JsValue,
    /// walkerOS's `ctx.event` for the functions, when the caller gives one
    /// (`getMappingValue`'s context); else the root when it is an object.
    pub event: JsValue,
}

impl JsHost {
    /// A host whose functions get `ctx.event` from `root`.
    pub fn new(call: Function, root: JsValue, collector: JsValue, logger: JsValue) -> JsHost {
        JsHost {
            call,
            root,
            collector,
            logger,
            event: JsValue::UNDEFINED,
        }
    }
}

impl Host for JsHost {
    fn call(
        &self,
        id: u32,
        value: &Value,
        is_root: bool,
        consent: Option<&Entries>,
    ) -> Result<Value, Threw> {
        let value = if is_root {
            self.root.clone()
        } else {
            to_js(value)
        };
        let consent = consent.map_or(JsValue::UNDEFINED, |c| to_js(&Value::Object(c.clone())));
        let args = [
            id.into(),
            value,
            consent,
            self.root.clone(),
            self.collector.clone(),
            self.logger.clone(),
            self.event.clone(),
        ];
        let result = self
            .call
            .apply(&JsValue::UNDEFINED, &args.iter().collect::<Array>())
            .map_err(|_| Threw)?;
        let text = result.as_string().ok_or(Threw)?;
        // Nested deeper than serde_json reads: not plain data, as a function's
        // result that cannot be written as JSON is.
        Ok(Value::parse_tagged(&text).unwrap_or(Value::Opaque))
    }
}

/// A mapping function's argument: a JavaScript copy of `value`, its
/// undefined members kept (JSON would leave them out).
fn to_js(value: &Value) -> JsValue {
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
