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

/// Reads what `serialize` wrote (the spool's records), in its order.
pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Properties, D::Error> {
    struct Entries;
    impl<'de> serde::de::Visitor<'de> for Entries {
        type Value = Properties;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of string values")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Properties, A::Error> {
            let mut out = Properties::new();
            while let Some((key, value)) = map.next_entry::<String, String>()? {
                out.push((key.into(), value));
            }
            Ok(out)
        }
    }
    d.deserialize_map(Entries)
}

/// A property value as a string: strings as they are (never re-read as
/// numbers, so "+49…" and "007" survive), numbers as JavaScript prints them,
/// booleans as "true"/"false", arrays joined with ";", objects as JSON.
pub fn stringify(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => crate::mapping::value::js_number(*n),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items.iter().map(stringify).collect::<Vec<_>>().join(";"),
        Value::Object(_) => value.to_json(),
        Value::Undefined | Value::Null | Value::Opaque => String::new(),
    }
}

/// The entries of a resolved `properties` object as strings (its strings
/// moved, not copied); null and undefined values are dropped, and a value
/// that is not an object has none.
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

/// The properties HubSpot gets: `props` (names normalised, the first of
/// two that normalise alike kept) then `defaults` not already there, at most
/// 50, in that order. Each change is a warning naming the event.
pub fn within_limits(
    mut props: Vec<Property>,
    defaults: &[Property],
    event: &str,
    notices: &mut Vec<Notice>,
) -> Vec<Property> {
    // Valid names are distinct (`merge` replaced repeats), so only one
    // renamed can take a name another has.
    let mut renamed = false;
    let mut i = 0;
    while i < props.len() {
        let key = props[i].0.clone();
        let name: Key = if names::is_valid_name(&key) {
            key.clone()
        } else if let Some(name) = names::property_name(&key) {
            renamed = true;
            name.into()
        } else {
            notices.push(Notice::warn(event, format!("property {key:?} dropped from event {event:?}: it has no letters or digits for a HubSpot property name")));
            props.remove(i);
            continue;
        };
        let taken = renamed
            .then(|| props[..i].iter().find(|(n, _)| *n == name))
            .flatten();
        if let Some((existing, _)) = taken {
            notices.push(Notice::warn(event, format!("property {key:?} dropped from event {event:?}: its HubSpot name {name:?} is already taken by {existing:?}")));
            props.remove(i);
            continue;
        }
        if name != key {
            notices.push(Notice::warn(event, format!("property {key:?} of event {event:?} sent as {name:?} (HubSpot names: a-z, 0-9 and _, starting with a letter, at most 50 characters)")));
            props[i].0 = name;
        }
        i += 1;
    }
    for (key, value) in defaults {
        if !props.iter().any(|(n, _)| n == key) {
            props.push((key.clone(), value.clone()));
        }
    }
    if props.len() > MAX_PROPERTIES {
        let dropped: Vec<Key> = props.drain(MAX_PROPERTIES..).map(|(k, _)| k).collect();
        notices.push(Notice::warn(event, format!("{} properties dropped from event {event:?} (HubSpot takes at most {MAX_PROPERTIES}; mapped ones are kept first): {}", dropped.len(), dropped.join(", "))));
    }
    props
}
