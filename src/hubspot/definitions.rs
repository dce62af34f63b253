//! HubSpot's event definitions API (`/events/v3/event-definitions`): the
//! requests that read and create definitions and properties, what the
//! answers mean, and values in the form a property's type takes. Pure: the
//! `delivery` module keeps what is known and does the I/O.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::config::types::{is_iso8601, PropertyType};
use crate::hubspot::api::{self, Request};
use crate::mapping::value::js_number;

pub const DEFINITIONS_PATH: &str = "/events/v3/event-definitions";
/// The scope every definitions call needs.
pub const SCOPE: &str = "behavioral_events.event_definitions.read_write";
/// HubSpot's safe length for labels (older guides allowed 50).
const MAX_LABEL: usize = 50;

/// A property as a definition has it: its type and, for an enumeration,
/// the option values.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertySpec {
    pub name: String,
    pub kind: PropertyType,
    pub options: Vec<String>,
}

impl PropertySpec {
    /// A property this destination creates: booleans are an enumeration
    /// of "true" and "false", as HubSpot has no boolean type.
    pub fn new(name: &str, kind: PropertyType) -> PropertySpec {
        let options = match kind {
            PropertyType::Enumeration => vec!["true".to_string(), "false".to_string()],
            _ => Vec::new(),
        };
        PropertySpec {
            name: name.to_string(),
            kind,
            options,
        }
    }
}

/// "purchase_completed" → "Purchase completed". Names are ASCII (a-z,
/// 0-9, _): no Unicode case tables needed.
fn label(name: &str) -> String {
    let mut label = name.replace('_', " ");
    if let Some(first) = label.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    label.truncate(MAX_LABEL);
    label
}

/// A property as the create calls take it.
fn property_body(spec: &PropertySpec) -> serde_json::Value {
    let mut body = json!({ "name": spec.name, "label": label(&spec.name), "type": spec.kind });
    if !spec.options.is_empty() {
        let options = spec.options.iter().enumerate().map(|(i, value)| {
            json!({ "label": value, "value": value, "displayOrder": i + 1, "hidden": false })
        });
        body["options"] = options.collect();
    }
    body
}

/// `GET /events/v3/event-definitions/{name}`. The spec has no
/// `includeProperties` here, but the clients in production send it and it
/// costs nothing.
pub fn read(name: &str) -> Request {
    Request::get(format!("{DEFINITIONS_PATH}/{name}?includeProperties=true"))
}

/// `POST /events/v3/event-definitions`: a definition of contact events,
/// labelled after its name.
pub fn create(name: &str, properties: &[PropertySpec]) -> Request {
    let body = json!({
        "label": label(name),
        "name": name,
        "description": "Created by walkerOS (walkeros-destination-hubspot)",
        "primaryObject": "CONTACT",
        "includeDefaultProperties": false,
        "propertyDefinitions": properties.iter().map(property_body).collect::<Vec<_>>(),
    });
    Request::post(DEFINITIONS_PATH, body.to_string())
}

/// `POST /events/v3/event-definitions/{name}/property`.
pub fn create_property(name: &str, property: &PropertySpec) -> Request {
    let path = format!("{DEFINITIONS_PATH}/{name}/property");
    Request::post(path, property_body(property).to_string())
}

/// A definition as HubSpot answers it (the fields read here).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    pub name: String,
    pub fully_qualified_name: String,
    #[serde(default)]
    pub properties: Vec<PropertyAnswer>,
}

/// A property as HubSpot answers it.
#[derive(Clone, Debug, Deserialize)]
pub struct PropertyAnswer {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub options: Vec<OptionAnswer>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct OptionAnswer {
    pub value: String,
}

impl PropertyAnswer {
    /// The property as delivery keeps it; `None` for an archived one or
    /// a type this destination does not know.
    pub fn spec(&self) -> Option<PropertySpec> {
        let kind = PropertyType::from_name(&self.kind)?;
        (!self.archived).then(|| PropertySpec {
            name: self.name.clone(),
            kind,
            options: self.options.iter().map(|o| o.value.clone()).collect(),
        })
    }
}

impl Definition {
    /// The `pe{HubID}_` part of the fully qualified name.
    pub fn prefix(&self) -> Option<&str> {
        self.fully_qualified_name.strip_suffix(self.name.as_str())
    }

    /// Its properties of a type this destination knows.
    pub fn specs(&self) -> Vec<PropertySpec> {
        self.properties
            .iter()
            .filter_map(PropertyAnswer::spec)
            .collect()
    }
}

/// What an answer of the definitions API means.
#[derive(Debug)]
pub enum Answer<T> {
    Done(T),
    /// 409 "already exists": another collector (or an earlier run) made it.
    Exists,
    /// 400 or 404 "does not exist".
    Missing,
    /// 403: the token lacks the definitions scope.
    Forbidden,
    Failed(String),
}

/// Reads an answer whose success body is a `T`; `Err` when it is worth
/// trying again later (rate limit, server trouble), with why.
pub fn read_answer<T: DeserializeOwned>(status: u16, body: &str) -> Result<Answer<T>, String> {
    if (200..300).contains(&status) {
        return Ok(serde_json::from_str(body).map_or_else(
            |e| {
                Answer::Failed(format!(
                    "HubSpot answered {status} with a body that could not be read: {e}"
                ))
            },
            Answer::Done,
        ));
    }
    // HubSpot's message, which tells a conflict or a 404 apart, is in it.
    let reason = api::describe(status, body);
    Ok(match status {
        409 if reason.contains("already exists") => Answer::Exists,
        400 | 404 if reason.contains("does not exist") => Answer::Missing,
        403 => Answer::Forbidden,
        408 | 429 | 500..=599 => return Err(reason),
        _ => Answer::Failed(reason),
    })
}

/// `text` (a value planned as `from`) in the form a `to` property takes,
/// or `None` when it cannot be: numbers as JavaScript writes them,
/// datetimes as ISO 8601 or milliseconds since the epoch (the forms
/// HubSpot's send endpoint reads), enumerations only as one of `options`.
pub fn convert(
    text: &str,
    from: PropertyType,
    to: PropertyType,
    options: &[String],
) -> Option<String> {
    // An empty text does not parse; "inf" and "NaN" do, but are no numbers.
    let number = || text.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    match to {
        PropertyType::String => Some(text.to_string()),
        PropertyType::Number => number().map(js_number),
        PropertyType::Datetime if from == PropertyType::Number => {
            number().filter(|n| n.fract() == 0.0).map(js_number)
        }
        PropertyType::Datetime => {
            let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
            (digits || is_iso8601(text)).then(|| text.to_string())
        }
        PropertyType::Enumeration => {
            (options.is_empty() || options.iter().any(|o| o == text)).then(|| text.to_string())
        }
    }
}
