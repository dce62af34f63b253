//! The destination's `settings`, validated once at `init`.

use crate::config::schema::{self, DefaultValue, Kind, SETTINGS};
use crate::error::ConfigError;
use crate::hubspot::names;
use crate::mapping::value::{Object, Value};
use crate::mapping::{self, Mapping};

pub const DEFAULT_API_BASE: &str = "https://api.hubapi.com";
pub const DEFAULT_BATCH_SIZE: usize = 50;
pub const MAX_BATCH_SIZE: usize = 500;
pub const DEFAULT_FLUSH_INTERVAL: u32 = 5_000;
pub const MAX_DEDUP_CAPACITY: usize = 10_000_000;

pub const DEFAULT_RATE_LIMIT: u32 = 100;
pub const DEFAULT_MAX_QUEUE: usize = 10_000;
pub const DEFAULT_TIMEOUT: u32 = 10_000;

#[derive(Clone, Debug)]
pub struct Settings {
    pub access_token: String,
    pub event_name_prefix: String,
    pub email: Option<Mapping>,
    pub object_id: Option<Mapping>,
    pub utk: Option<Mapping>,
    pub identify: Option<Mapping>,
    /// Already stringified, in the order given.
    pub default_properties: Vec<crate::hubspot::properties::Property>,
    pub batch: bool,
    pub batch_size: usize,
    /// Milliseconds between timed flushes in batch mode; 0 for none.
    pub flush_interval: u32,
    /// Contacts remembered for upsert dedup.
    pub dedup_capacity: usize,
    /// CRM requests per 10 seconds until HubSpot's headers say otherwise.
    pub rate_limit: u32,
    /// Events held for delivery at most; the oldest go first beyond it.
    pub max_queue: usize,
    /// Milliseconds a request may take.
    pub timeout: u32,
    /// Without a trailing slash.
    pub api_base: String,
}

impl Settings {
    pub fn parse(json: &str) -> Result<Settings, ConfigError> {
        let value = Value::parse_tagged(json).map_err(|e| {
            ConfigError::new(
                "settings",
                format!("could not be read ({e})"),
                "pass a plain object",
            )
        })?;
        Settings::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<Settings, ConfigError> {
        let entries = match value {
            Value::Object(entries) => entries,
            Value::Undefined | Value::Null => &Vec::new(),
            other => {
                return Err(ConfigError::new(
                    "settings",
                    format!("must be an object, got {}", other.kind()),
                    "set config.settings to { accessToken, eventNamePrefix, ... }",
                ))
            }
        };
        reject_unknown(entries, "settings", &schema::names(&SETTINGS))?;
        let get = |k: &str| crate::mapping::value::lookup(entries, k).filter(|v| !v.is_undefined());

        let access_token = match get("accessToken") {
            // It goes into a request header, where a line break could add
            // headers of its own; HubSpot tokens are visible ASCII.
            Some(Value::String(s)) if !s.trim().is_empty() && !is_header_safe(s.trim()) => {
                return Err(ConfigError::new(
                    "settings.accessToken",
                    "contains a character an access token cannot have (a space, line break, control or non-ASCII character)",
                    "copy the token again from your HubSpot private app, without anything around it",
                ))
            }
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Value::String(_)) | None => {
                return Err(ConfigError::new(
                    "settings.accessToken",
                    "is missing",
                    "set it to your HubSpot private app access token (scopes analytics.behavioral_events.send and crm.objects.contacts.write), for example from an environment variable",
                ))
            }
            // The value may be a secret in the wrong place: never echo it.
            Some(other) => {
                return Err(ConfigError::new(
                    "settings.accessToken",
                    format!("must be a string, got {}", other.kind()),
                    "set it to your HubSpot private app access token as a string",
                ))
            }
        };

        let event_name_prefix = match get("eventNamePrefix") {
            Some(Value::String(s)) if names::is_valid_prefix(s) => s.clone(),
            Some(Value::String(s)) => {
                return Err(ConfigError::new(
                    "settings.eventNamePrefix",
                    format!("is {s:?}, which is not of the form pe{{HubID}}_"),
                    "set it to \"pe\" followed by your HubSpot account ID and an underscore, such as \"pe12345678_\" (HubSpot shows it under Data Management > Custom Events)",
                ))
            }
            None => {
                return Err(ConfigError::new(
                    "settings.eventNamePrefix",
                    "is missing",
                    "set it to \"pe\" followed by your HubSpot account ID and an underscore, such as \"pe12345678_\"",
                ))
            }
            Some(other) => {
                return Err(ConfigError::new(
                    "settings.eventNamePrefix",
                    format!("must be a string, got {} ({})", other.kind(), other.show()),
                    "set it to a string such as \"pe12345678_\"",
                ))
            }
        };

        let email = match get("email") {
            None => Some(mapping::compile(&Value::from("user.email"))),
            // `false` or `null` switch email identity off.
            Some(Value::Bool(false)) | Some(Value::Null) => None,
            Some(v) => Some(compile_checked(v, "settings.email")?),
        };
        let object_id = get("objectId")
            .map(|v| compile_checked(v, "settings.objectId"))
            .transpose()?;
        let utk = get("utk")
            .map(|v| compile_checked(v, "settings.utk"))
            .transpose()?;
        let identify = get("identify")
            .map(|v| compile_checked(v, "settings.identify"))
            .transpose()?;

        let default_properties = match get("defaultProperties") {
            None => Vec::new(),
            Some(Value::Object(props)) => default_properties(props)?,
            Some(other) => {
                return Err(ConfigError::new(
                    "settings.defaultProperties",
                    format!("must be an object, got {}", other.kind()),
                    "set it to an object of HubSpot property names and values, such as { \"hs_touchpoint_source\": \"walkerOS\" }",
                ))
            }
        };

        let batch = match get("batch") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(ConfigError::new(
                    "settings.batch",
                    format!(
                        "must be true or false, got {} ({})",
                        other.kind(),
                        other.show()
                    ),
                    "set it to true to send events in batches, or leave it out",
                ))
            }
        };

        // Bounds and defaults come from the schema table, as the published
        // JSON Schema does.
        let whole = |key: &str, fix: &str| -> Result<f64, ConfigError> {
            let field = schema::field(&SETTINGS, key);
            let (Kind::Integer { min, max }, Some(DefaultValue::Int(default))) =
                (field.kind, field.default)
            else {
                unreachable!("{key} is an integer setting with a default");
            };
            let (min, max) = (min as f64, max as f64);
            match get(key) {
                None => Ok(default as f64),
                Some(Value::Number(n)) if n.fract() == 0.0 && *n >= min && *n <= max => Ok(*n),
                Some(other) => Err(ConfigError::new(
                    format!("settings.{key}"),
                    format!(
                        "must be a whole number from {min} to {max}, got {}",
                        other.show()
                    ),
                    fix.to_string(),
                )),
            }
        };
        let batch_size = whole(
            "batchSize",
            &format!("set it between 1 and {MAX_BATCH_SIZE} (HubSpot's batch limit), or leave it out for {DEFAULT_BATCH_SIZE}"),
        )? as usize;
        let flush_interval = whole(
            "flushInterval",
            &format!("set milliseconds, or leave it out for {DEFAULT_FLUSH_INTERVAL}; 0 flushes only at batchSize and on shutdown"),
        )? as u32;
        let dedup_capacity = whole(
            "dedupCapacity",
            &format!(
                "leave it out for {}, the number of contacts remembered (at most 64 bytes each)",
                crate::delivery::dedup::DEFAULT_CAPACITY
            ),
        )? as usize;
        let rate_limit = whole(
            "rateLimit",
            "set it to your app's CRM requests per 10 seconds (100 on Free and Starter, 190 on Professional and Enterprise), or leave it out for 100",
        )? as u32;
        let max_queue = whole("maxQueue", "leave it out for 10000 events")? as usize;
        let timeout = whole("timeout", "leave it out for 10000 ms")? as u32;

        let api_base = match get("apiBase") {
            None => DEFAULT_API_BASE.to_string(),
            Some(Value::String(s)) => api_base(s)?,
            Some(other) => {
                return Err(ConfigError::new(
                    "settings.apiBase",
                    format!("must be a URL string, got {}", other.kind()),
                    format!("leave it out for {DEFAULT_API_BASE}"),
                ))
            }
        };

        Ok(Settings {
            access_token,
            event_name_prefix,
            email,
            object_id,
            utk,
            identify,
            default_properties,
            batch,
            batch_size,
            flush_interval,
            dedup_capacity,
            rate_limit,
            max_queue,
            timeout,
            api_base,
        })
    }
}

/// Validates and compiles a mapping value found at `field`.
pub fn compile_checked(value: &Value, field: &str) -> Result<Mapping, ConfigError> {
    mapping::validate(value, field)?;
    Ok(mapping::compile(value))
}

/// Fails on the first key of `entries` that is not in `known`, suggesting
/// the known name it most resembles.
pub fn reject_unknown(entries: &Object, field: &str, known: &[&str]) -> Result<(), ConfigError> {
    for (key, value) in entries {
        if value.is_undefined() || known.contains(&&**key) {
            continue;
        }
        let closest = known
            .iter()
            .min_by_key(|k| edit_distance(&k.to_lowercase(), &key.to_lowercase()))
            .filter(|k| edit_distance(&k.to_lowercase(), &key.to_lowercase()) <= 3);
        let fix = match closest {
            Some(k) => format!("did you mean {k:?}? Known names: {}", known.join(", ")),
            None => format!("remove it; known names: {}", known.join(", ")),
        };
        return Err(ConfigError::new(
            format!("{field}.{key}"),
            "is not a known setting",
            fix,
        ));
    }
    Ok(())
}

fn default_properties(
    props: &Object,
) -> Result<Vec<crate::hubspot::properties::Property>, ConfigError> {
    let mut out = Vec::with_capacity(props.len());
    for (name, value) in props {
        let field = format!("settings.defaultProperties.{name}");
        if !names::is_valid_name(name) {
            return Err(ConfigError::new(
                field,
                "is not a valid HubSpot property name",
                "use lowercase letters, digits and underscores, starting with a letter, at most 50 characters",
            ));
        }
        match value {
            Value::Undefined | Value::Null => {}
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                out.push((name.clone(), crate::hubspot::properties::stringify(value)))
            }
            other => return Err(ConfigError::new(
                field,
                format!("must be a string, number or boolean, got {}", other.kind()),
                "use a plain value; map values from the event with a rule's settings.properties",
            )),
        }
    }
    Ok(out)
}

/// Plain http is only allowed to loopback hosts, so the token never crosses
/// a network in clear text.
fn api_base(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let (scheme, rest) = trimmed.split_once("://").unwrap_or(("", trimmed));
    let authority = rest.split('/').next().unwrap_or("");
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    let bad = |problem: String| {
        Err(ConfigError::new(
            "settings.apiBase",
            problem,
            format!("use an https:// URL (default {DEFAULT_API_BASE}); plain http:// is only allowed for 127.0.0.1, localhost or [::1]"),
        ))
    };
    if host.is_empty() || authority.contains('@') {
        return bad(format!("{url:?} is not a URL with a host"));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(trimmed.to_string()),
        "http" if is_loopback(host) => Ok(trimmed.to_string()),
        "http" => bad(format!(
            "{url:?} would send the access token unencrypted to {host}"
        )),
        _ => bad(format!("{url:?} is not an http(s) URL")),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host == "::1"
        || host.strip_prefix("127.").is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('.').collect();
            parts.len() == 3 && parts.iter().all(|p| p.parse::<u8>().is_ok())
        })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Whether a token is visible ASCII only.
fn is_header_safe(token: &str) -> bool {
    token.bytes().all(|b| b.is_ascii_graphic())
}
