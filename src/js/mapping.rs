//! The mapping engine for JavaScript callers (`walkeros-destination-hubspot/
//! mapping`): `getMappingValue`, `getMappingEvent`, and named mappings
//! resolved together.

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use crate::js::host::JsHost;
use crate::js::wasm::{self, to_js};
use crate::mapping::rules::RuleTable;
use crate::mapping::value::{Key, Value};
use crate::mapping::{self, Mapping};

fn parse_tagged(json: &str, what: &str) -> Result<Value, JsError> {
    Value::parse_tagged(json).map_err(|e| wasm::unreadable(what, e))
}

fn consent_of(json: Option<String>) -> Result<Option<Value>, JsError> {
    json.map(|c| parse_tagged(&c, "consent")).transpose()
}

/// `getMappingValue(value, mapping, { consent })` as @walkeros/core resolves
/// it. `value` and `mapping` are tagged JSON text (functions in `mapping` as
/// markers `call` calls them by); `root` is the caller's value itself, and
/// `collector`, `logger` and `event` are what the functions get.
///
/// Returns `[result, path]`: `path` (keys from `root`) is set when walkerOS
/// returns part of `root` itself, which the shell then reads from `root`:
/// the result here is a copy.
#[wasm_bindgen(js_name = getMappingValue)]
#[allow(clippy::too_many_arguments)]
pub fn get_mapping_value(
    value: &str,
    mapping: &str,
    consent: Option<String>,
    call: Function,
    root: JsValue,
    collector: JsValue,
    logger: JsValue,
    event: JsValue,
) -> Result<JsValue, JsError> {
    let value = parse_tagged(value, "value")?;
    let compiled = mapping::compile(&parse_tagged(mapping, "mapping")?);
    let consent = consent_of(consent)?;
    let host = JsHost {
        event,
        ..JsHost::new(call, root, collector, logger)
    };
    let consent = consent.as_ref().and_then(Value::as_object);
    let resolved = mapping::resolve_traced(&value, &compiled, consent, &host);
    // Primitives are equal to the caller's anyway.
    let path = match (&resolved.value, resolved.origin) {
        (Value::Object(_) | Value::Array(_), Some(keys)) => to_js(keys),
        _ => JsValue::UNDEFINED,
    };
    Ok(Array::of2(&resolved.value.to_tagged_json().into(), &path).into())
}

/// `getMappingEvent(event, mapping)`: the matched rule as `[entityKey,
/// actionKey, index]` (index undefined unless the slot is an array), or
/// undefined. Throws when a rule condition throws, as walkerOS does.
#[wasm_bindgen(js_name = getMappingEvent)]
pub fn get_mapping_event(
    event: &str,
    mapping: &str,
    call: Function,
    root: JsValue,
    collector: JsValue,
) -> Result<JsValue, JsError> {
    let event = parse_tagged(event, "event")?;
    let table = RuleTable::compile(&parse_tagged(mapping, "mapping")?);
    let host = JsHost::new(call, root, collector, JsValue::UNDEFINED);
    let found = table
        .find(&event, &host)
        .map_err(|_| JsError::new("a mapping rule condition threw"))?;
    Ok(found.map_or(JsValue::UNDEFINED, |m| {
        to_js(&(m.entity, m.action, m.index))
    }))
}

/// Named mappings compiled once and resolved together per event: one
/// boundary crossing for a whole rule's values.
#[wasm_bindgen]
pub struct MappingSet {
    mappings: Vec<(Key, Mapping)>,
    call: Function,
}

#[wasm_bindgen]
impl MappingSet {
    /// `mappings` is tagged JSON text of `{ name: mappingValue, ... }`.
    #[wasm_bindgen(constructor)]
    pub fn new(mappings: &str, call: Function) -> Result<MappingSet, JsError> {
        let Value::Object(entries) = parse_tagged(mappings, "mappings")? else {
            return Err(JsError::new(
                "compileMappings takes an object of names to mapping values",
            ));
        };
        let mappings = entries
            .iter()
            .map(|(name, value)| (name.clone(), mapping::compile(value)))
            .collect();
        Ok(MappingSet { mappings, call })
    }

    /// The event's top-level fields the mappings read.
    pub fn reads(&self) -> JsValue {
        let mut keys = vec!["consent".to_string()];
        for (_, m) in &self.mappings {
            m.read_keys(&mut keys);
        }
        to_js(&keys)
    }

    /// Resolves every mapping against the event (JSON text of the fields
    /// `reads` names; `root` is the event object itself): `{ name: value,
    /// ... }`, undefined results left out.
    pub fn resolve(
        &self,
        event: &str,
        consent: Option<String>,
        root: JsValue,
        collector: JsValue,
    ) -> Result<String, JsError> {
        let event = parse_tagged(event, "event")?;
        let consent = consent_of(consent)?;
        let consent = consent.as_ref().and_then(Value::as_object);
        let host = JsHost::new(self.call.clone(), root, collector, JsValue::UNDEFINED);
        let resolve_all = |event: &Value| {
            let mut took_event = false;
            let results: Vec<(Key, Value)> = self
                .mappings
                .iter()
                .map(|(name, m)| {
                    let resolved = mapping::resolve_traced(event, m, consent, &host);
                    took_event |= resolved.took_input;
                    (name.clone(), resolved.value)
                })
                .filter(|(_, v)| !v.is_undefined())
                .collect();
            (results, took_event)
        };
        let (mut results, took_event) = resolve_all(&event);
        // A mapping took the event itself: resolve again with all of it.
        if took_event {
            if let Some(whole) = wasm::whole_event(&host.root) {
                results = resolve_all(&whole).0;
            }
        }
        Ok(Value::Object(results).to_tagged_json())
    }
}
