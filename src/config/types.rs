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
    pub const NAMES: [&'static str; 4] = ["string", "number", "datetime", "enumeration"];

    pub fn as_str(self) -> &'static str {
        match self {
            PropertyType::String => "string",
            PropertyType::Number => "number",
            PropertyType::Datetime => "datetime",
            PropertyType::Enumeration => "enumeration",
        }
    }

    /// A type as HubSpot's answers name it; `None` for one this
    /// destination does not know (it then sends such values as they are).
    pub fn from_name(name: &str) -> Option<PropertyType> {
        match name {
            "string" => Some(PropertyType::String),
            "number" => Some(PropertyType::Number),
            "datetime" => Some(PropertyType::Datetime),
            "enumeration" => Some(PropertyType::Enumeration),
            _ => None,
        }
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
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = b.get(from..from + n)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    };
    let in_range = |v: Option<u32>, lo: u32, hi: u32| v.is_some_and(|v| (lo..=hi).contains(&v));
    if b.len() < 10 || digits(0, 4).is_none() || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    if !in_range(digits(5, 2), 1, 12) || !in_range(digits(8, 2), 1, 31) {
        return false;
    }
    let mut at = 10;
    if at == b.len() {
        return true;
    }
    if b[at] != b'T' || !in_range(digits(at + 1, 2), 0, 23) || b.get(at + 3) != Some(&b':') {
        return false;
    }
    if !in_range(digits(at + 4, 2), 0, 59) {
        return false;
    }
    at += 6;
    if b.get(at) == Some(&b':') {
        if !in_range(digits(at + 1, 2), 0, 59) {
            return false;
        }
        at += 3;
        if b.get(at) == Some(&b'.') {
            let start = at + 1;
            at = start;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start {
                return false;
            }
        }
    }
    match b.get(at) {
        None => true,
        Some(b'Z') => at + 1 == b.len(),
        Some(b'+' | b'-') => {
            let rest = &s[at + 1..];
            let (h, m) = match rest.len() {
                5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
                4 => (&rest[..2], &rest[2..]),
                _ => return false,
            };
            let ok = |p: &str, hi: u32| p.parse::<u32>().is_ok_and(|v| v <= hi);
            ok(h, 23) && ok(m, 59) && h.bytes().chain(m.bytes()).all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}
