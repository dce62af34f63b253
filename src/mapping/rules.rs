//! Which mapping rule an event gets: `getMappingEvent` of @walkeros/core
//! 4.2.1 (the parity tests compare the two), with own-key lookups only.

use crate::mapping::value::{Object, Value};
use crate::mapping::{Callback, Host, Threw};

/// The `mapping` config, compiled: entity → action → rule candidates.
#[derive(Clone, Debug, Default)]
pub struct RuleTable {
    entities: Vec<(String, Slot)>,
}

#[derive(Clone, Debug)]
enum Slot {
    /// A falsy entry (`null`, `false`, ...): treated as absent.
    Empty,
    /// An object of actions.
    Actions(Vec<(String, Slot)>),
    /// A rule, or an array of them (`many`), each with its condition.
    Rules {
        many: bool,
        conditions: Vec<Option<Callback>>,
    },
}

/// The matched rule: its keys (`*` where a wildcard matched) and, for an
/// array of rules, its index.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub entity: String,
    pub action: String,
    pub index: Option<usize>,
}

impl Match {
    /// walkerOS's `mappingKey`.
    pub fn key(&self) -> String {
        format!("{} {}", self.entity, self.action)
    }
}

impl RuleTable {
    pub fn compile(mapping: &Value) -> RuleTable {
        let entities = match mapping {
            Value::Object(entries) => entries
                .iter()
                .map(|(entity, actions)| (entity.to_string(), slot(actions, true)))
                .collect(),
            _ => Vec::new(),
        };
        RuleTable { entities }
    }

    /// The rule for `event` (its `name` is split on spaces). Rule conditions
    /// are called through `host` as `condition(event, ctx)`; one that throws
    /// makes the lookup fail, as in walkerOS.
    pub fn find(&self, event: &Value, host: &dyn Host) -> Result<Option<Match>, Threw> {
        let name = event.get("name").and_then(Value::as_str).unwrap_or("");
        let mut parts = name.split(' ');
        let (entity, action) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if entity.is_empty() || action.is_empty() || self.entities.is_empty() {
            return Ok(None);
        }
        let consent = event.get("consent").and_then(Value::as_object);
        let entity_key = key_or_wildcard(&self.entities, entity);
        if let Some(Slot::Actions(actions)) = get(&self.entities, entity_key) {
            let action_key = key_or_wildcard(actions, action);
            if let Some(index) = first(get(actions, action_key), event, consent, host)? {
                return Ok(Some(found(entity_key, action_key, index)));
            }
        }
        let fallback = match get(&self.entities, "*") {
            Some(Slot::Actions(actions)) => get(actions, "*"),
            _ => None,
        };
        Ok(first(fallback, event, consent, host)?.map(|index| found("*", "*", index)))
    }
}

fn found(entity: &str, action: &str, index: Option<usize>) -> Match {
    Match {
        entity: entity.to_string(),
        action: action.to_string(),
        index,
    }
}

fn get<'a>(slots: &'a [(String, Slot)], key: &str) -> Option<&'a Slot> {
    slots.iter().rev().find(|(k, _)| k == key).map(|(_, s)| s)
}

/// `key` where JavaScript's `mapping[key]` is truthy, else `*`.
fn key_or_wildcard<'a>(slots: &[(String, Slot)], key: &'a str) -> &'a str {
    match get(slots, key) {
        Some(Slot::Empty) | None => "*",
        Some(_) => key,
    }
}

/// An entity's slot (`actions`: an object of actions) or an action's.
fn slot(value: &Value, actions: bool) -> Slot {
    let condition = |rule: &Value| Callback::from_option(rule.get("condition"));
    match value {
        v if !v.is_truthy() => Slot::Empty,
        Value::Object(entries) if actions => Slot::Actions(
            entries
                .iter()
                .map(|(action, rules)| (action.to_string(), slot(rules, false)))
                .collect(),
        ),
        Value::Array(rules) => Slot::Rules {
            many: true,
            conditions: rules.iter().map(condition).collect(),
        },
        rule => Slot::Rules {
            many: false,
            conditions: vec![condition(rule)],
        },
    }
}

/// The first rule whose condition holds: `Some(index)` (`None` inside for a
/// single rule), or `None` when none does.
fn first(
    slot: Option<&Slot>,
    event: &Value,
    consent: Option<&Object>,
    host: &dyn Host,
) -> Result<Option<Option<usize>>, Threw> {
    let Some(Slot::Rules { many, conditions }) = slot else {
        return Ok(None);
    };
    for (index, condition) in conditions.iter().enumerate() {
        let holds = match condition {
            None => true,
            Some(Callback::Js(id)) => host.call(*id, event, true, consent)?.is_truthy(),
            Some(Callback::Broken) => return Err(Threw),
        };
        if holds {
            return Ok(Some(many.then_some(index)));
        }
    }
    Ok(None)
}
