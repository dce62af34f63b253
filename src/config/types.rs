//! HubSpot's four event property types, which a rule may state
//! (`propertyTypes`) and which otherwise a property's first value decides.

use serde::{Deserialize, Serialize};

use crate::mapping::value::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PropertyType {
    String,
    Number,
    Datetime,
    Enumeration,
}

impl PropertyType {
    /// In the order of the variants.
    pub const NAMES: [&'static str; 4] = ["string", "number", "datetime", "enumeration"];

    pub fn as_str(self) -> &'static str {
        PropertyType::NAMES[self as usize]
    }

    /// A type as HubSpot's answers name it; `None` for one this
    /// destination does not know (it then sends such values as they are).
    pub fn from_name(name: &str) -> Option<PropertyType> {
        serde_json::from_value(name.into()).ok()
    }

    /// The type a first value decides: numbers are numbers, booleans an
    /// enumeration of true/false (HubSpot has no boolean type), ISO 8601
    /// strings (which is what a JavaScript Date becomes) datetimes, and
    /// anything else a string.
    pub fn infer(value: &Value) -> PropertyType {
        match value {
            Value::Number(_) => PropertyType::Number,
            Value::Bool(_) => PropertyType::Enumeration,
            Value::String(s) if is_iso8601(s) => PropertyType::Datetime,
            _ => PropertyType::String,
        }
    }
}

/// `YYYY-MM-DD`, optionally followed by `THH:MM`, `:SS`, `.fff` and `Z` or
/// an offset: the ISO 8601 forms HubSpot reads as datetimes.
pub fn is_iso8601(s: &str) -> bool {
    // Its shape, with each digit as `d`, then the numbers' ranges. Only
    // ASCII digits become `d`, so positions in `shape` are positions in `s`.
    let shape: String = s
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    let n = |at: usize| s[at..at + 2].parse::<u32>().unwrap_or(0);
    let Some(time) = shape.strip_prefix("dddd-dd-dd") else {
        return false;
    };
    let date = (1..=12).contains(&n(5)) && (1..=31).contains(&n(8));
    if time.is_empty() {
        return date;
    }
    let Some(mut rest) = time.strip_prefix("Tdd:dd") else {
        return false;
    };
    let mut ok = date && n(11) <= 23 && n(14) <= 59;
    if let Some(after) = rest.strip_prefix(":dd") {
        ok &= n(17) <= 59;
        rest = after;
        if let Some(fraction) = rest.strip_prefix('.') {
            rest = fraction.trim_start_matches('d');
            ok &= rest.len() < fraction.len();
        }
    }
    let at = s.len() - rest.len();
    ok && match rest {
        "" | "Z" => true,
        "+dd:dd" | "-dd:dd" => n(at + 1) <= 23 && n(at + 4) <= 59,
        "+dddd" | "-dddd" => n(at + 1) <= 23 && n(at + 3) <= 59,
        _ => false,
    }
}
