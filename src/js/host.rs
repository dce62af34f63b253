//! Calls the JavaScript functions of a mapping config for the Rust resolver,
//! with walkerOS's arguments: `fn(value, { event, mapping, collector, logger,
//! consent })`.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::js::convert::{from_js, is_plain_object, to_js};
use crate::mapping::value::{Object as Entries, Value};
use crate::mapping::{Host, Threw};

/// `callbacks` is the shell's registry: `{ fn, item, key, bare }` per
/// function, where `item` is the config object holding it, `key` the option
/// name and `bare` marks rule conditions called without a collector (which
/// walkerOS calls with no context).
pub struct JsHost {
    pub callbacks: Array,
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
    pub fn new(callbacks: Array, root: JsValue, collector: JsValue, logger: JsValue) -> JsHost {
        JsHost {
            callbacks,
            root,
            collector,
            logger,
            event: JsValue::UNDEFINED,
        }
    }

    fn context(&self, item: &JsValue, consent: Option<&Entries>) -> JsValue {
        let ctx = Object::new();
        let event = if !self.event.is_undefined() && !self.event.is_null() {
            self.event.clone()
        } else if is_plain_object(&self.root) {
            self.root.clone()
        } else {
            Object::new().into()
        };
        let collector_field = |name: &str| {
            if self.collector.is_object() {
                Reflect::get(&self.collector, &name.into()).unwrap_or(JsValue::UNDEFINED)
            } else {
                JsValue::UNDEFINED
            }
        };
        let consent = match consent {
            Some(c) => to_js(&Value::Object(c.clone())),
            None => collector_field("consent"),
        };
        let logger = match collector_field("logger") {
            l if l.is_object() => l,
            _ => self.logger.clone(),
        };
        for (name, value) in [
            ("event", event),
            ("mapping", item.clone()),
            ("collector", self.collector.clone()),
            ("logger", logger),
            ("consent", consent),
        ] {
            let _ = Reflect::set(&ctx, &name.into(), &value);
        }
        ctx.into()
    }

    /// walkerOS logs `mapping fn failed` (and likewise for `condition` and
    /// `validate`) with the event and the error.
    fn report(&self, key: &str, error: &JsValue) {
        let Ok(error_fn) = Reflect::get(&self.logger, &"error".into()) else {
            return;
        };
        let Ok(error_fn) = error_fn.dyn_into::<Function>() else {
            return;
        };
        let context = Object::new();
        let _ = Reflect::set(&context, &"event".into(), &self.root);
        let _ = Reflect::set(&context, &"error".into(), error);
        let _ = error_fn.call2(
            &self.logger,
            &format!("mapping {key} failed").into(),
            &context,
        );
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
        let entry = self.callbacks.get(id);
        let field = |name: &str| Reflect::get(&entry, &name.into()).unwrap_or(JsValue::UNDEFINED);
        let key = field("key").as_string().unwrap_or_else(|| "fn".into());
        let Ok(function) = field("fn").dyn_into::<Function>() else {
            return Err(Threw);
        };
        let arg = if is_root {
            self.root.clone()
        } else {
            to_js(value)
        };
        let ctx = if field("bare").is_truthy() {
            JsValue::UNDEFINED
        } else {
            self.context(&field("item"), consent)
        };
        match function.call2(&JsValue::UNDEFINED, &arg, &ctx) {
            Ok(result) if is_thenable(&result) => {
                let error = js_sys::Error::new(&format!(
                    "the mapping {key} returned a Promise; walkeros-destination-hubspot calls mapping functions synchronously"
                ));
                self.report(&key, &error);
                Err(Threw)
            }
            Ok(result) => Ok(from_js(&result)),
            Err(error) => {
                self.report(&key, &error);
                Err(Threw)
            }
        }
    }
}

fn is_thenable(value: &JsValue) -> bool {
    value.is_object() && Reflect::get(value, &"then".into()).is_ok_and(|then| then.is_function())
}
