//! HubSpot event properties: every value a string, nothing lost in the cast.

use crate::config::names;
use crate::error::Notice;
use crate::mapping::value::{Key, Value};

/// A HubSpot property: its name (shared with the mapping that named it)
/// and its value as a string.
pub type Property = (Key, String);

/// Properties in the order they were mapped.
pub type Properties = Vec<Property>;

/// Writes properties as the JSON object HubSpot takes, in their order.
pub fn serialize<S: serde::Serializer>(props: &[Property], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(props.iter().map(|(k, v)| (&**k, v)))
}

/// A property value as a string: strings as they are (never re-read as
/// numbers, so "+49…" and "007" survive), numbers as JavaScript prints them,
/// booleans as "true"/"false", arrays joined with ";", objects as JSON.
pub fn stringify(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => crate::mapping::value::js_number(*n),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Undefined | Value::Null | Value::Opaque => String::new(),
                other => stringify(other),
            })
            .collect::<Vec<_>>()
            .join(";"),
        Value::Object(_) => value.to_json(),
        Value::Undefined | Value::Null | Value::Opaque => String::new(),
    }
}

/// `from_object` for a value that is not needed afterwards: its strings
/// are moved, not copied.
pub fn into_entries(value: Value) -> Vec<Property> {
    match value {
        Value::Object(entries) => entries
            .into_iter()
            .filter(|(_, v)| !matches!(v, Value::Undefined | Value::Null | Value::Opaque))
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, stringify(&other)),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The entries of a resolved `properties` object as strings; null and
/// undefined values are dropped.
pub fn from_object(value: &Value) -> Vec<Property> {
    match value {
        Value::Object(_) => into_entries(value.clone()),
        _ => Vec::new(),
    }
}

/// Adds `entries` to `props`, a later value replacing an earlier one in
/// place, as `{ ...props, ...entries }` does in JavaScript.
pub fn merge(props: &mut Vec<Property>, entries: Vec<Property>) {
    if props.is_empty() {
        // The usual case (no mapped `data`): nothing to replace.
        *props = entries;
        return;
    }
    for (key, value) in entries {
        match props.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => props.push((key, value)),
        }
    }
}

/// HubSpot's limit on properties per event occurrence.
pub const MAX_PROPERTIES: usize = 50;

/// The properties HubSpot gets: `mapped` (names normalised, the first of
/// two that normalise alike kept) then `defaults` not already there, at most
/// 50, in that order. Each change is a warning naming the event.
pub fn within_limits(
    mapped: Vec<Property>,
    defaults: &[Property],
    event: &str,
    notices: &mut Vec<Notice>,
) -> Vec<Property> {
    // The usual case: every name valid (so distinct: `merge` replaced
    // repeats), no defaults, not too many. Nothing to change.
    if defaults.is_empty()
        && mapped.len() <= MAX_PROPERTIES
        && mapped.iter().all(|(key, _)| names::is_valid_name(key))
    {
        return mapped;
    }
    renamed_and_limited(mapped, defaults, event, notices)
}

/// `within_limits` where something may change: out of line, so the usual
/// case stays small where it is inlined.
#[inline(never)]
fn renamed_and_limited(
    mapped: Vec<Property>,
    defaults: &[Property],
    event: &str,
    notices: &mut Vec<Notice>,
) -> Vec<Property> {
    let mut out: Vec<Property> = Vec::with_capacity(mapped.len() + defaults.len());
    for (key, value) in mapped {
        // Most keys are valid names already: those are moved, not copied.
        let (name, renamed_from) = if names::is_valid_name(&key) {
            (key, None)
        } else {
            match names::property_name(&key) {
                Some(name) => (name.into(), Some(key)),
                None => {
                    notices.push(Notice::warn(event, format!("property {key:?} dropped from event {event:?}: it has no letters or digits for a HubSpot property name")));
                    continue;
                }
            }
        };
        let key = renamed_from.as_deref().unwrap_or(&name);
        if let Some((existing, _)) = out.iter().find(|(n, _)| *n == name) {
            notices.push(Notice::warn(event, format!("property {key:?} dropped from event {event:?}: its HubSpot name {name:?} is already taken by {existing:?}")));
            continue;
        }
        if renamed_from.is_some() {
            notices.push(Notice::warn(event, format!("property {key:?} of event {event:?} sent as {name:?} (HubSpot names: a-z, 0-9 and _, starting with a letter, at most 50 characters)")));
        }
        out.push((name, value));
    }
    for (key, value) in defaults {
        if !out.iter().any(|(n, _)| n == key) {
            out.push((key.clone(), value.clone()));
        }
    }
    if out.len() > MAX_PROPERTIES {
        let dropped: Vec<Key> = out.drain(MAX_PROPERTIES..).map(|(k, _)| k).collect();
        notices.push(Notice::warn(event, format!("{} properties dropped from event {event:?} (HubSpot takes at most {MAX_PROPERTIES}; mapped ones are kept first): {}", dropped.len(), dropped.join(", "))));
    }
    out
}
