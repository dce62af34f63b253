//! What one walkerOS event becomes in HubSpot: a contact upsert, an event
//! occurrence, both or neither, with the reasons. Pure: no state, no I/O.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::config::names;
use crate::config::rule::Rule;
use crate::config::settings::{DefinitionsMode, Settings};
use crate::config::types::PropertyType;
use crate::error::Notice;
use crate::hubspot::properties::{self, Properties};
use crate::hubspot::time;
use crate::mapping::value::{Key, Value};
use crate::mapping::{resolve_traced, Host, Mapping};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub upsert: Option<ContactUpsert>,
    pub send: Option<EventInput>,
    pub notices: Vec<Notice>,
    /// Why no event is sent, for `stats()`, where the plan sends none.
    pub skipped: Option<&'static str>,
    /// A mapping took the event itself as a value: planned from only some
    /// of its fields, it is planned again from all of them.
    pub took_event: bool,
}

/// A contact to create or update, found by email.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactUpsert {
    pub email: String,
    #[serde(
        serialize_with = "properties::serialize",
        deserialize_with = "properties::deserialize"
    )]
    pub properties: Properties,
    /// The spool journal records this upsert stands for (several once
    /// upserts of one email are merged); kept out of every JSON text, as a
    /// record names its id itself.
    #[serde(skip)]
    pub spool_ids: Vec<u64>,
}

/// One custom behavioral event occurrence, as HubSpot's send endpoints
/// take it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventInput {
    /// Empty while the prefix is not known yet (it is learned from
    /// HubSpot's definitions); set before the event is sent.
    pub event_name: String,
    /// The name without the prefix: the definition's name.
    #[serde(skip)]
    pub name: String,
    /// Each property's type (stated by the rule, or decided by its value),
    /// in the properties' order; empty with definitions off.
    #[serde(skip)]
    pub types: Vec<PropertyType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utk: Option<String>,
    /// Derived from the walkerOS event id: HubSpot keeps the first
    /// occurrence with a given uuid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<String>,
    #[serde(
        serialize_with = "properties::serialize",
        deserialize_with = "properties::deserialize"
    )]
    pub properties: Properties,
    /// The spool journal record of this input, 0 for none. Never sent:
    /// HubSpot must not see it, and a record names its id itself.
    #[serde(skip)]
    pub spool_id: u64,
}

/// Plans one event. `rule` is the matched mapping rule, `data` the
/// collector's mapped `data` for it (undefined when there is none).
pub fn plan(
    settings: &Settings,
    event: &Value,
    rule: Option<&Rule>,
    data: &Value,
    host: &dyn Host,
) -> Plan {
    let mut plan = Plan::default();
    let took_event = std::cell::Cell::new(false);
    let resolve = |mapping: &Mapping| {
        let resolved = resolve_traced(event, mapping, None, host);
        took_event.set(took_event.get() || resolved.took_input);
        resolved.value
    };
    plan.skipped = plan_into(&mut plan, settings, event, rule, data, &resolve).err();
    plan.took_event = took_event.get();
    plan
}

/// `plan`, with `resolve` giving each mapping's value for this event; `Err`
/// says why no event is sent.
fn plan_into(
    plan: &mut Plan,
    settings: &Settings,
    event: &Value,
    rule: Option<&Rule>,
    data: &Value,
    resolve: &dyn Fn(&Mapping) -> Value,
) -> Result<(), &'static str> {
    let name = match event.get("name") {
        Some(Value::String(name)) => name.as_str(),
        _ => "",
    };
    let notices = &mut plan.notices;
    // Events no rule matched have a rule with nothing set (no allocation).
    let no_rule = Rule::default();
    let rule = rule.unwrap_or(&no_rule);
    if rule.ignore {
        return Err("ignored");
    }
    if name.is_empty() {
        let message = format_args!(
            "event skipped: it has no name (walkerOS events are named \"entity action\")"
        );
        notices.push(warn("", message));
        return Err("no_name");
    }

    if let Some(identify) = rule.identify.as_ref().or(settings.identify.as_ref()) {
        plan.upsert = contact_upsert(&resolve(identify), name, notices);
    }
    if rule.silent {
        return Err("silent");
    }

    let identity_of = |m: &Option<Mapping>| m.as_ref().and_then(|m| identity(resolve(m)));
    let (email, object_id, utk) = (
        identity_of(&settings.email),
        identity_of(&settings.object_id),
        identity_of(&settings.utk),
    );
    if email.is_none() && object_id.is_none() && utk.is_none() {
        let off = if settings.email.is_some() {
            ""
        } else {
            " (switched off)"
        };
        notices.push(warn(name, format_args!("event {name:?} skipped: no contact identity (none of settings.email{off}, settings.objectId and settings.utk resolved to a value). HubSpot ties every event to a contact")));
        return Err("no_identity");
    }

    let part: Cow<str> = match &rule.event_name {
        Some(part) => Cow::Borrowed(part),
        None => match names::event_name(name) {
            Ok((part, changed)) => {
                if changed {
                    notices.push(warn(name, format_args!("event {name:?} sent as {part:?}: HubSpot names allow only a-z, 0-9 and _, at most {} characters", names::MAX_NAME_LEN)));
                }
                Cow::Owned(part)
            }
            Err(part) => {
                notices.push(warn(name, format_args!("event {name:?} skipped: {part:?} cannot be made a HubSpot event name (it must start with a letter); set settings.eventName on its mapping rule")));
                return Err("invalid_name");
            }
        },
    };

    // Mapped properties come first, so they are the ones kept when there
    // are more than HubSpot takes; the collector's mapped `data` is below
    // the rule's `properties`.
    let typed = settings.definitions != DefinitionsMode::Off;
    // Each value's own type, before it becomes text: `data`'s, then the
    // rule's (later keys win, as in `merge`).
    let mut kinds: Vec<(Key, PropertyType)> = Vec::new();
    if typed {
        collect_kinds(data, &mut kinds);
    }
    let mut mapped = properties::into_entries(data.clone());
    if let Some(mapping) = &rule.properties {
        match resolve(mapping) {
            resolved @ Value::Object(_) => {
                if typed {
                    collect_kinds(&resolved, &mut kinds);
                }
                properties::merge(&mut mapped, properties::into_entries(resolved))
            }
            Value::Undefined => {}
            other => notices.push(warn(name, format_args!("settings.properties resolved to {} instead of an object; no mapped properties sent", other.kind()))),
        }
    }
    let props = properties::within_limits(mapped, &settings.default_properties, name, notices);

    let types = if typed {
        props
            .iter()
            .map(|(name, _)| {
                rule.stated_type(name)
                    .or_else(|| kind_of(name, &kinds))
                    .or_else(|| kind_of(name, &settings.default_property_types))
                    .unwrap_or(PropertyType::String)
            })
            .collect()
    } else {
        Vec::new()
    };

    let timestamp = event.get("timestamp").filter(|t| !t.is_undefined());
    let occurred_at = timestamp.and_then(|t| match t {
        Value::Number(ms) => time::iso8601(*ms),
        _ => None,
    });
    if let (Some(timestamp), None) = (timestamp, &occurred_at) {
        notices.push(warn(name, format_args!("occurredAt left out for event {name:?}: timestamp {} is not a time in milliseconds, so HubSpot uses the time it receives the event", timestamp.show())));
    }
    let uuid = match event.get("id") {
        Some(Value::String(id)) if !id.is_empty() => {
            Some(crate::hubspot::uuid::event_uuid(id, name))
        }
        _ => None,
    };
    let event_name = match settings.event_name_prefix.as_str() {
        "" => String::new(),
        prefix => names::qualify(prefix, &part),
    };
    plan.send = Some(EventInput {
        event_name,
        name: part.into_owned(),
        types,
        email,
        object_id,
        utk,
        uuid,
        occurred_at,
        properties: props,
        spool_id: 0,
    });
    Ok(())
}

/// A warning about one event: rare, so out of line and cold, which keeps
/// `plan_into` (run for every event) small for V8 to optimise.
#[cold]
#[inline(never)]
fn warn(name: &str, message: std::fmt::Arguments) -> Notice {
    Notice::warn(name, message.to_string())
}

/// Adds the types of an object's values, by key.
fn collect_kinds(value: &Value, out: &mut Vec<(Key, PropertyType)>) {
    if let Value::Object(entries) = value {
        out.extend(
            entries
                .iter()
                .filter(|(_, v)| !matches!(v, Value::Undefined | Value::Null | Value::Opaque))
                .map(|(k, v)| (k.clone(), PropertyType::infer(v))),
        );
    }
}

/// The type of the last value whose key is, or is renamed to, `name`.
fn kind_of(name: &str, kinds: &[(Key, PropertyType)]) -> Option<PropertyType> {
    kinds.iter().rev().find_map(|(key, kind)| {
        let same = **key == *name
            || (!names::is_valid_name(key) && names::property_name(key).as_deref() == Some(name));
        same.then_some(*kind)
    })
}

/// A usable identity value: a non-empty string, or a number (HubSpot object
/// ids are numeric).
fn identity(value: Value) -> Option<String> {
    match value {
        // Most identities need no trimming: the resolved string is kept.
        Value::String(s) if s.len() == s.trim().len() => (!s.is_empty()).then_some(s),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) if n.is_finite() => Some(crate::mapping::value::js_number(n)),
        _ => None,
    }
}

#[inline(never)]
fn contact_upsert(
    resolved: &Value,
    name: &str,
    notices: &mut Vec<Notice>,
) -> Option<ContactUpsert> {
    if !matches!(resolved, Value::Object(_) | Value::Undefined) {
        // A path to the email itself, say: a mistake, not an anonymous event.
        notices.push(Notice::warn(
            name,
            format!("no contact upsert for event {name:?}: identify resolved to {} instead of an object {{ email, properties }}", resolved.kind()),
        ));
        return None;
    }
    let Some(email) = resolved.get("email").cloned().and_then(identity) else {
        if !resolved.is_undefined() {
            // Anonymous events are normal where identify is set for the
            // whole destination, so this is not a warning.
            notices.push(Notice::info(
                name,
                format!("no contact upsert for event {name:?}: identify resolved no email"),
            ));
        }
        return None;
    };
    let properties = match resolved.get("properties") {
        None | Some(Value::Undefined) => Vec::new(),
        Some(props @ Value::Object(_)) => properties::into_entries(props.clone()),
        Some(other) => {
            notices.push(Notice::warn(
                name,
                format!("identify's properties resolved to {} instead of an object for event {name:?}: the contact is upserted without them", other.kind()),
            ));
            Vec::new()
        }
    };
    Some(ContactUpsert {
        email,
        properties,
        spool_ids: Vec::new(),
    })
}
