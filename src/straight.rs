//! The usual event under a rule of plain paths, written as the JSON of its
//! HubSpot event occurrence straight from its entry's values: no value
//! tree, no plan, no string per property. What does not fit the usual case
//! (anything planning would warn about, a value that must be cast first)
//! is left to planning (`direct::Direct::plan`), which writes the same JSON
//! through `plan::EventInput` (tests/straight.rs holds the two together).

use crate::direct::{Direct, Leaf};
use crate::json;
use crate::names;
use crate::properties::MAX_PROPERTIES;
use crate::rule::Rule;
use crate::settings::Settings;
use crate::slots::Raw;
use crate::time;
use crate::uuid;

/// What a rule's events have in common, rendered once.
#[derive(Clone, Debug, PartialEq)]
pub struct Straight {
    /// `{"eventName":"pe1_purchase"` where the rule names the event; else
    /// each event's name is derived from its walkerOS name.
    head: Option<String>,
    prefix: String,
    name: usize,
    id: usize,
    timestamp: usize,
    /// `,"email":` and the like, with the node each is read from.
    identities: Vec<(&'static str, usize)>,
    /// `"order_id":` and the like, with the node each is read from.
    properties: Vec<(String, usize)>,
    /// `defaultProperties` as `"key":"value"` members.
    defaults: Vec<String>,
}

impl Straight {
    /// `None` for a rule whose events planning always has more to say about
    /// (ignored or silent ones), or whose properties it would rename, drop
    /// or cut.
    pub fn compile(settings: &Settings, rule: Option<&Rule>, direct: &Direct) -> Option<Straight> {
        if rule.is_some_and(|r| r.ignore || r.silent) {
            return None;
        }
        let mut properties = Vec::new();
        for (key, node) in direct.properties.iter().flatten() {
            if !names::is_valid_name(key) || properties.iter().any(|(k, _)| k == key) {
                return None;
            }
            properties.push((key.clone(), *node));
        }
        let defaults = &settings.default_properties;
        if properties.len() + defaults.len() > MAX_PROPERTIES
            || defaults
                .iter()
                .any(|(key, _)| properties.iter().any(|(k, _)| k == key))
        {
            return None;
        }
        let member = |key: &str| {
            let mut out = String::new();
            json::push_key(&mut out, key);
            out
        };
        let head = rule.and_then(|r| r.event_name.as_deref()).map(|part| {
            let mut head = String::from("{\"eventName\":");
            json::push_str(
                &mut head,
                &names::qualify(&settings.event_name_prefix, part),
            );
            head
        });
        let identities = [
            (",\"email\":", direct.email),
            (",\"objectId\":", direct.object_id),
            (",\"utk\":", direct.utk),
        ];
        Some(Straight {
            head,
            prefix: settings.event_name_prefix.clone(),
            name: direct.name,
            id: direct.id,
            timestamp: direct.timestamp,
            identities: identities
                .into_iter()
                .filter_map(|(key, node)| Some((key, node?)))
                .collect(),
            properties: properties
                .into_iter()
                .map(|(key, node)| (member(&key), node))
                .collect(),
            defaults: defaults
                .iter()
                .map(|(key, value)| {
                    let mut out = member(key);
                    json::push_str(&mut out, value);
                    out
                })
                .collect(),
        })
    }

    /// The event occurrence's JSON, as `EventInput::to_json` writes it;
    /// `None` where planning has something to say about the event (or a
    /// value is given as JSON, which planning reads or refuses).
    pub fn write(&self, leaves: &[Leaf]) -> Option<String> {
        let Leaf::Raw(Raw::Str(name)) = leaves[self.name] else {
            return None;
        };
        if name.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(256 + 32 * self.properties.len());
        match &self.head {
            Some(head) => out.push_str(head),
            None => {
                // A name that changes on the way warns, through planning.
                let (part, false) = names::event_name(name).ok()? else {
                    return None;
                };
                out.push_str("{\"eventName\":");
                json::push_str(&mut out, &names::qualify(&self.prefix, &part));
            }
        }

        let mut identified = false;
        for (key, node) in &self.identities {
            match leaves[*node] {
                Leaf::Raw(Raw::Str(text)) => {
                    // What planning's `identity` keeps of a string.
                    let text = text.trim();
                    if !text.is_empty() {
                        out.push_str(key);
                        json::push_str(&mut out, text);
                        identified = true;
                    }
                }
                Leaf::Number(n) => {
                    out.push_str(key);
                    push_number(&mut out, n);
                    identified = true;
                }
                Leaf::Raw(Raw::Json { .. }) => return None,
                Leaf::Absent | Leaf::Raw(Raw::Bool(_) | Raw::Null) => {}
            }
        }
        if !identified {
            return None;
        }

        match leaves[self.id] {
            Leaf::Raw(Raw::Str(id)) if !id.is_empty() => {
                out.push_str(",\"uuid\":\"");
                out.push_str(&uuid::event_uuid(id, name));
                out.push('"');
            }
            Leaf::Raw(Raw::Json { .. }) => return None,
            _ => {}
        }
        match leaves[self.timestamp] {
            Leaf::Absent => {}
            // A time Date cannot hold warns, through planning.
            Leaf::Number(ms) => {
                out.push_str(",\"occurredAt\":\"");
                out.push_str(&time::iso8601(ms)?);
                out.push('"');
            }
            Leaf::Raw(_) => return None,
        }

        out.push_str(",\"properties\":{");
        let mut first = true;
        for (member, node) in &self.properties {
            let leaf = leaves[*node];
            if matches!(leaf, Leaf::Absent | Leaf::Raw(Raw::Null)) {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(member);
            match leaf {
                Leaf::Raw(Raw::Str(text)) => json::push_str(&mut out, text),
                Leaf::Number(n) => push_number(&mut out, n),
                Leaf::Raw(Raw::Bool(b)) => out.push_str(if b { "\"true\"" } else { "\"false\"" }),
                // Arrays and objects are cast and joined by planning.
                Leaf::Raw(Raw::Json { .. }) => return None,
                Leaf::Absent | Leaf::Raw(Raw::Null) => {}
            }
        }
        for default in &self.defaults {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(default);
        }
        out.push_str("}}");
        Some(out)
    }
}

/// A number as a JSON string, as JavaScript's `String(n)` writes it (its
/// characters need no escaping).
fn push_number(out: &mut String, n: f64) {
    out.push('"');
    crate::js_number::push(out, n);
    out.push('"');
}
