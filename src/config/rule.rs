//! The parts of a walkerOS mapping rule this destination reads: `ignore`,
//! `silent` and `settings` (`eventName`, `identify`, `properties`). The
//! collector handles the other rule fields before `push` is called.

use crate::config::schema::RULE_SETTINGS;
use crate::config::settings::{check_property_name, given, mapping_at, read_typed};
use serde::Deserialize;

use crate::config::names;
use crate::config::types::PropertyType;
use crate::error::ConfigError;
use crate::mapping::value::Value;
use crate::mapping::Mapping;

/// The rule settings serde reads with their types.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Typed {
    event_name: Option<String>,
    property_types: std::collections::BTreeMap<String, PropertyType>,
}

#[derive(Clone, Debug, Default)]
pub struct Rule {
    pub ignore: bool,
    pub silent: bool,
    /// The name part, without the prefix.
    pub event_name: Option<String>,
    pub identify: Option<Mapping>,
    pub properties: Option<Mapping>,
    /// `propertyTypes`: the types stated for HubSpot property names.
    pub property_types: Vec<(String, PropertyType)>,
    /// The definition this rule's events name, where known before any
    /// event (its eventName, or the name the rule's key gives).
    pub definition: Option<String>,
    /// The HubSpot names of the keys of `properties.map`, known before any
    /// event: `definitions` checks or creates them at init.
    pub mapped_keys: Vec<String>,
}

impl Rule {
    /// The type stated for a property, if any.
    pub fn stated_type(&self, name: &str) -> Option<PropertyType> {
        self.property_types
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| *t)
    }

    /// `field` names the rule in messages, such as `mapping.order.complete`.
    pub fn from_value(value: &Value, field: &str, prefix: &str) -> Result<Rule, ConfigError> {
        if value.as_object().is_none() {
            return Err(ConfigError::new(
                field,
                format!("must be a mapping rule object, got {}", value.kind()),
                "write the rule as an object such as { \"settings\": { \"eventName\": \"purchase\" } }",
            ));
        }
        let mut rule = Rule {
            ignore: given(value, "ignore").is_some_and(Value::is_truthy),
            silent: given(value, "silent") == Some(&Value::Bool(true)),
            ..Rule::default()
        };
        let settings = match given(value, "settings") {
            None | Some(Value::Null) => return Ok(rule),
            Some(settings @ Value::Object(_)) => settings,
            Some(other) => {
                return Err(ConfigError::new(
                    format!("{field}.settings"),
                    format!("must be an object, got {}", other.kind()),
                    "use { eventName, identify, properties }",
                ))
            }
        };
        let field = format!("{field}.settings");
        let typed: Typed = read_typed(settings, &field, &RULE_SETTINGS)?;
        rule.event_name = typed
            .event_name
            .map(|name| event_name(&name, &format!("{field}.eventName"), prefix))
            .transpose()?;
        rule.identify = mapping_at(settings, &field, "identify")?;
        rule.properties = mapping_at(settings, &field, "properties")?;
        if let Some(Value::Object(map)) = given(settings, "properties").and_then(|p| p.get("map")) {
            rule.mapped_keys = map
                .iter()
                .filter_map(|(key, _)| names::property_name(key))
                .collect();
        }
        for (name, kind) in typed.property_types {
            check_property_name(&name, &format!("{field}.propertyTypes.{name}"))?;
            rule.property_types.push((name, kind));
        }
        Ok(rule)
    }
}

fn event_name(name: &str, field: &str, prefix: &str) -> Result<String, ConfigError> {
    // A pe{HubID}_ the name starts with, and the name after it.
    let carried = name
        .split_once('_')
        .filter(|(head, _)| names::is_valid_prefix(&format!("{head}_")));
    let part = match (prefix, carried) {
        (_, None) => name,
        // No prefix set (definitions learn it): any pe{HubID}_ is one.
        ("", Some((_, rest))) => rest,
        (prefix, Some((head, rest))) if prefix == format!("{head}_") => rest,
        // Another account's: the event would go to this one under a name
        // that starts with it.
        (prefix, Some((head, rest))) => {
            return Err(ConfigError::new(
                field,
                format!("is {name:?}, which starts with the prefix {head}_ of another HubSpot account, but settings.eventNamePrefix is {prefix:?}"),
                format!("use a name such as {rest:?}, without the prefix, or correct settings.eventNamePrefix"),
            ));
        }
    };
    if names::is_valid_name(part) {
        return Ok(part.to_string());
    }
    // A name HubSpot takes: cut to length, and starting with a letter.
    let suggestion = names::property_name(part).unwrap_or_else(|| "purchase".to_string());
    Err(ConfigError::new(
        field,
        format!("is {name:?}, which HubSpot rejects: names must match ^[a-z][a-z0-9_]*$ and have at most {} characters", names::MAX_NAME_LEN),
        format!("use a name such as {suggestion:?}"),
    ))
}
