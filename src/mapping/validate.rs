//! Checks a mapping value's shape up front, so a typo in a config is an
//! error at `init` instead of a value that silently resolves to nothing.

use super::callback::is_marker;
use crate::error::ConfigError;
use crate::mapping::value::Value;

const CONFIG_KEYS: [&str; 9] = [
    "key",
    "value",
    "map",
    "loop",
    "set",
    "consent",
    "condition",
    "fn",
    "validate",
];

const FIX: &str = "use a path string such as \"user.email\", a value object ({ key, value, map, loop, set, consent }), or an array of them as fallbacks";

pub fn validate(value: &Value, field: &str) -> Result<(), ConfigError> {
    nested(value, field, 2)
}

/// Arrays nest `arrays` deep: fallbacks, each a chain of items.
fn nested(value: &Value, field: &str, arrays: u8) -> Result<(), ConfigError> {
    match value {
        Value::Array(items) if arrays > 0 => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| nested(item, &format!("{field}[{i}]"), arrays - 1)),
        item => validate_item(item, field),
    }
}

fn validate_item(value: &Value, field: &str) -> Result<(), ConfigError> {
    match value {
        v if is_marker(v) => Err(ConfigError::new(
            field,
            "is a function, which walkerOS resolves to nothing in this place",
            "wrap it as { fn: yourFunction }",
        )),
        Value::String(_) => Ok(()),
        Value::Object(entries) => {
            for (key, v) in entries {
                if !CONFIG_KEYS.contains(&&**key) {
                    return Err(ConfigError::new(
                        format!("{field}.{key}"),
                        "is not a mapping value option",
                        format!("use one of {}", CONFIG_KEYS.join(", ")),
                    ));
                }
                validate_option(key, v, &format!("{field}.{key}"))?;
            }
            Ok(())
        }
        other => Err(ConfigError::new(
            field,
            format!(
                "is {} ({}), not a mapping value",
                other.kind(),
                other.show()
            ),
            FIX,
        )),
    }
}

fn validate_option(key: &str, v: &Value, field: &str) -> Result<(), ConfigError> {
    let wrong = |expected: &str| {
        Err(ConfigError::new(
            field,
            format!("must be {expected}, got {} ({})", v.kind(), v.show()),
            format!("set {field} to {expected}"),
        ))
    };
    match key {
        "key" if !matches!(v, Value::String(_)) => wrong("a path string"),
        "consent" if !matches!(v, Value::Object(_)) => {
            wrong("an object of consent states such as { \"marketing\": true }")
        }
        "map" => match v {
            Value::Object(fields) => fields
                .iter()
                .try_for_each(|(name, m)| validate(m, &format!("{field}.{name}"))),
            _ => wrong("an object of property names to mapping values"),
        },
        "loop" => match v {
            Value::Array(pair) if pair.len() == 2 => {
                if pair[0] != Value::String("this".into()) {
                    validate(&pair[0], &format!("{field}[0]"))?;
                }
                validate(&pair[1], &format!("{field}[1]"))
            }
            _ => wrong("a pair [scope, mapping] such as [\"nested\", \"data.name\"]"),
        },
        "set" => match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| validate(item, &format!("{field}[{i}]"))),
            _ => wrong("an array of mapping values"),
        },
        "condition" | "fn" | "validate" if !is_marker(v) => Err(ConfigError::new(
            field,
            format!("must be a function, got {} ({})", v.kind(), v.show()),
            "pass a JavaScript function (JSON configs cannot hold functions), or remove it",
        )),
        _ => Ok(()),
    }
}
