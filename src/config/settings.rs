//! The destination's `settings`, validated once at `init`.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::config::names;
use crate::config::schema::{self, Field, Kind, OAUTH, SETTINGS};
pub use crate::config::schema::{DEFAULT_API_BASE, DEFAULT_TOKEN_PATH};
use crate::config::types::PropertyType;
use crate::error::ConfigError;
use crate::mapping::value::{js_number, Key, Object, Value};
use crate::mapping::{self, Mapping};

/// How requests are authorized. `Debug` shows no secret.
#[derive(Clone)]
pub enum Credentials {
    /// A private app's token, which does not expire.
    AccessToken(String),
    OAuth(OAuth),
}

/// An OAuth app's credentials, from which access tokens are fetched.
#[derive(Clone)]
pub struct OAuth {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// The token endpoint's path under `api_base`.
    pub token_path: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::AccessToken(_) => f.write_str("AccessToken(<secret>)"),
            Credentials::OAuth(o) => write!(
                f,
                "OAuth {{ client_id: {:?}, token_path: {:?}, client_secret: <secret>, refresh_token: <secret> }}",
                o.client_id, o.token_path
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub credentials: Credentials,
    /// Empty when left out: it is then learned from HubSpot's definitions.
    pub event_name_prefix: String,
    pub definitions: DefinitionsMode,
    pub email: Option<Mapping>,
    pub object_id: Option<Mapping>,
    pub utk: Option<Mapping>,
    pub identify: Option<Mapping>,
    /// Already stringified, in the order given.
    pub default_properties: Vec<(Key, String)>,
    /// The type each default property's value decides.
    pub default_property_types: Vec<(Key, PropertyType)>,
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
    /// Milliseconds a shutdown keeps delivering what is queued.
    pub shutdown_timeout: u32,
    /// Without a trailing slash.
    pub api_base: String,
    /// The spool's directory, if there is one.
    pub spool: Option<String>,
    /// Bytes of records not done yet the spool holds at most.
    pub spool_max_bytes: u32,
    /// Milliseconds between fsyncs of the spool; 0 fsyncs every write.
    pub spool_sync_interval: u32,
}

/// `settings.definitions`: what the destination does about HubSpot's
/// event definitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DefinitionsMode {
    Off,
    #[default]
    Check,
    Create,
}

/// The settings serde reads with their types; the mapping values and
/// `defaultProperties` are JavaScript-shaped, so they are read as `Value`s.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Typed {
    access_token: Option<String>,
    event_name_prefix: Option<String>,
    definitions: DefinitionsMode,
    batch: bool,
    batch_size: Option<u32>,
    flush_interval: Option<u32>,
    dedup_capacity: Option<u32>,
    rate_limit: Option<u32>,
    max_queue: Option<u32>,
    timeout: Option<u32>,
    shutdown_timeout: Option<u32>,
    api_base: Option<String>,
    spool: Option<String>,
    spool_max_bytes: Option<u32>,
    spool_sync_interval: Option<u32>,
}

/// `settings.oauth`, as serde reads it.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TypedOAuth {
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    token_path: Option<String>,
}

impl Settings {
    /// Reads `settings` from the shell's tagged JSON text.
    pub fn parse(json: &str) -> Result<Settings, ConfigError> {
        let value = &Value::parse_tagged(json).map_err(|e| {
            ConfigError::new(
                "settings",
                format!("could not be read ({e})"),
                "pass a plain object",
            )
        })?;
        if !matches!(value, Value::Object(_) | Value::Undefined | Value::Null) {
            return Err(ConfigError::new(
                "settings",
                format!("must be an object, got {}", value.kind()),
                "set config.settings to { accessToken, eventNamePrefix, ... }",
            ));
        }
        let typed: Typed = read_typed(value, "settings", &SETTINGS)?;
        let credentials = credentials(typed.access_token, given(value, "oauth"))?;

        // With definitions on, HubSpot's own fullyQualifiedName tells it. An
        // empty one (an unset variable's `|| ""`) is none.
        let prefix = typed.event_name_prefix.filter(|p| !p.is_empty());
        let problem = match &prefix {
            None if typed.definitions == DefinitionsMode::Off => {
                "is missing (with settings.definitions \"off\" nothing can learn it)".to_string()
            }
            Some(p) if !names::is_valid_prefix(p) => {
                format!("is {p:?}, which is not of the form pe{{HubID}}_")
            }
            _ => String::new(),
        };
        if !problem.is_empty() {
            return Err(invalid(&SETTINGS, "settings.eventNamePrefix", problem));
        }

        let email = match given(value, "email") {
            None => Some(mapping::compile(&Value::from("user.email"))),
            // `false` or `null` switch email identity off.
            Some(Value::Bool(false)) | Some(Value::Null) => None,
            Some(_) => mapping_at(value, "settings", "email")?,
        };
        let (default_properties, default_property_types) = match given(value, "defaultProperties") {
            None => (Vec::new(), Vec::new()),
            Some(Value::Object(props)) => default_properties(props)?,
            Some(other) => return Err(wrong_type(&SETTINGS, "settings.defaultProperties", other)),
        };

        // Bounds and defaults come from the schema table, as the published
        // JSON Schema does.
        let whole = |key: &str, value: Option<u32>| -> Result<u32, ConfigError> {
            let field = schema::field(&SETTINGS, key);
            let Kind::Integer { min, max, default } = field.kind else {
                unreachable!("{key} is an integer setting");
            };
            match value {
                None => Ok(default as u32),
                Some(n) if (min..=max).contains(&u64::from(n)) => Ok(n),
                Some(n) => Err(invalid(
                    &SETTINGS,
                    &format!("settings.{key}"),
                    format!("{}, got {n}", field.kind.expected()),
                )),
            }
        };

        Ok(Settings {
            credentials,
            event_name_prefix: prefix.unwrap_or_default(),
            definitions: typed.definitions,
            email,
            object_id: mapping_at(value, "settings", "objectId")?,
            utk: mapping_at(value, "settings", "utk")?,
            identify: mapping_at(value, "settings", "identify")?,
            default_properties,
            default_property_types,
            batch: typed.batch,
            batch_size: whole("batchSize", typed.batch_size)? as usize,
            flush_interval: whole("flushInterval", typed.flush_interval)?,
            dedup_capacity: whole("dedupCapacity", typed.dedup_capacity)? as usize,
            rate_limit: whole("rateLimit", typed.rate_limit)?,
            max_queue: whole("maxQueue", typed.max_queue)? as usize,
            timeout: whole("timeout", typed.timeout)?,
            shutdown_timeout: whole("shutdownTimeout", typed.shutdown_timeout)?,
            api_base: typed
                .api_base
                .map_or(Ok(DEFAULT_API_BASE.to_string()), |u| api_base(&u))?,
            spool: match typed.spool {
                Some(dir) if dir.trim().is_empty() => {
                    return Err(invalid(&SETTINGS, "settings.spool", "is an empty string"))
                }
                dir => dir,
            },
            spool_max_bytes: whole("spoolMaxBytes", typed.spool_max_bytes)?,
            spool_sync_interval: whole("spoolSyncInterval", typed.spool_sync_interval)?,
        })
    }
}

/// Exactly one of `accessToken` and `oauth`.
fn credentials(
    access_token: Option<String>,
    oauth: Option<&Value>,
) -> Result<Credentials, ConfigError> {
    let access_token = access_token
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    match (access_token, oauth) {
        (_, Some(other)) if other.as_object().is_none() => {
            Err(wrong_type(&SETTINGS, "settings.oauth", other))
        }
        (Some(_), Some(_)) => Err(ConfigError::new(
            "settings",
            "has both accessToken and oauth",
            "keep accessToken for a private app, or oauth ({ clientId, clientSecret, refreshToken }) for an OAuth app, not both",
        )),
        (None, None) => Err(ConfigError::new(
            "settings.accessToken",
            "is missing (and so is settings.oauth)",
            "set accessToken to your HubSpot private app access token, or oauth to { clientId, clientSecret, refreshToken } of your HubSpot OAuth app",
        )),
        (Some(token), None) => {
            unresolved(&token, "settings.accessToken")?;
            // It goes into a request header, where a line break could add
            // headers of its own; HubSpot tokens are visible ASCII.
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ConfigError::new(
                    "settings.accessToken",
                    "contains a character an access token cannot have (a space, line break, control or non-ASCII character)",
                    "copy the token again from your HubSpot private app, without anything around it",
                ));
            }
            Ok(Credentials::AccessToken(token))
        }
        (None, Some(oauth)) => {
            let typed: TypedOAuth = read_typed(oauth, "settings.oauth", &OAUTH)?;
            let required = |key: &str, value: Option<String>| {
                let value = value.map(|v| v.trim().to_string()).unwrap_or_default();
                if value.is_empty() {
                    return Err(invalid(&OAUTH, &format!("settings.oauth.{key}"), "is missing"));
                }
                unresolved(&value, &format!("settings.oauth.{key}"))?;
                Ok(value)
            };
            let path = typed.token_path.unwrap_or(DEFAULT_TOKEN_PATH.to_string());
            if !path.starts_with('/') || path.contains(['?', '#']) || !path.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid(
                    &OAUTH,
                    "settings.oauth.tokenPath",
                    format!("is {path:?}, which is not a path starting with / (without a query)"),
                ));
            }
            Ok(Credentials::OAuth(OAuth {
                client_id: required("clientId", typed.client_id)?,
                client_secret: required("clientSecret", typed.client_secret)?,
                refresh_token: required("refreshToken", typed.refresh_token)?,
                token_path: path,
            }))
        }
    }
}

/// A credential that is still a flow.json `$env.` (or `$secret.`)
/// reference: only the walkerOS CLI resolves those, and sent as it is it
/// would only earn a 401. The reference names a variable, not a secret.
fn unresolved(value: &str, field: &str) -> Result<(), ConfigError> {
    let Some(name) = value
        .strip_prefix("$env.")
        .or_else(|| value.strip_prefix("$secret."))
    else {
        return Ok(());
    };
    let name = name.split(':').next().unwrap_or(name);
    Err(ConfigError::new(
        field,
        format!("is {value:?}, a flow.json reference nothing resolved"),
        format!("in code, pass the value itself (process.env.{name}); in a flow.json, run it with the walkerOS CLI (walkeros push, bundle or run) with {name} set"),
    ))
}

/// Reads `value` (an object of `table`'s fields, at `at`) with serde: a
/// name the table does not list fails first, suggesting the closest; then a
/// typed field that is null or of the wrong type, with its name, what it
/// must be and the table's fix. Mapping values are left for the caller.
pub(crate) fn read_typed<T: DeserializeOwned>(
    value: &Value,
    at: &str,
    table: &[Field],
) -> Result<T, ConfigError> {
    let entries = value.as_object().map_or(&[][..], Vec::as_slice);
    let listed = |k: &Key| table.iter().any(|f| f.name == &**k);
    if let Some((key, _)) = entries
        .iter()
        .find(|(k, v)| !v.is_undefined() && !listed(k))
    {
        return Err(unknown(key, at, table));
    }
    // serde reads null as unset; here it is a mistake, as in JavaScript. So
    // is what JSON writes as null or leaves out (NaN, the infinities, a Date),
    // which would otherwise quietly get the default.
    let null = |f: &&Field| {
        !matches!(f.kind, Kind::Mapping { .. } | Kind::Properties)
            && value.get(f.name).is_some_and(|v| match v {
                Value::Null | Value::Opaque => true,
                Value::Number(n) => !n.is_finite(),
                _ => false,
            })
    };
    if let Some(field) = table.iter().find(null) {
        return Err(wrong_type(
            table,
            &format!("{at}.{}", field.name),
            value.get(field.name).unwrap_or(&Value::Null),
        ));
    }
    // As JSON: `undefined` members are left out, so they read as unset.
    let read = |value: &Value| serde_json::from_str::<T>(&value.to_json());
    read(value).map_err(|_| {
        // Every field has a default, so the field at fault is the first
        // that fails on its own.
        match entries
            .iter()
            .find(|(k, v)| read(&Value::Object(vec![(k.clone(), v.clone())])).is_err())
        {
            Some((key, found)) => wrong_type(table, &format!("{at}.{key}"), found),
            // serde's message may quote a secret: not shown.
            None => ConfigError::new(
                at,
                "could not be read",
                "pass a plain object of the settings this table lists",
            ),
        }
    })
}

/// A member that is there and not `undefined`.
pub(crate) fn given<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_undefined())
}

/// The mapping value at `at`.`key`, validated and compiled, if given.
pub(crate) fn mapping_at(
    value: &Value,
    at: &str,
    key: &str,
) -> Result<Option<Mapping>, ConfigError> {
    let Some(found) = given(value, key) else {
        return Ok(None);
    };
    mapping::validate(found, &format!("{at}.{key}"))?;
    Ok(Some(mapping::compile(found)))
}

/// "`field` `problem`", with the fix of `table`'s field that `field` ends in.
fn invalid(table: &[Field], field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::new(field, problem, schema::field(table, field).fix)
}

/// "`field` must be …, got …". The value is shown unless it may be a
/// secret.
fn wrong_type(table: &[Field], field: &str, found: &Value) -> ConfigError {
    let described = schema::field(table, field);
    let shown = if described.secret {
        found.kind().to_string()
    } else {
        shown(found)
    };
    let problem = format!("{}, got {shown}", described.kind.expected());
    ConfigError::new(field, problem, described.fix)
}

/// A value's kind, and the value where it has one to show.
fn shown(value: &Value) -> String {
    match value {
        Value::Undefined | Value::Opaque => value.kind().to_string(),
        // NaN and the infinities, which JSON would show as null.
        Value::Number(n) => format!("number ({})", js_number(*n)),
        _ => format!("{} ({})", value.kind(), value.show()),
    }
}

/// `at`.`key` is not in `table`: the fix suggests the name it most
/// resembles.
fn unknown(key: &str, at: &str, table: &[Field]) -> ConfigError {
    let known: Vec<&str> = table.iter().map(|f| f.name).collect();
    let distance = |k: &&&str| edit_distance(&k.to_ascii_lowercase(), &key.to_ascii_lowercase());
    let fix = match known
        .iter()
        .min_by_key(distance)
        .filter(|k| distance(k) <= 3)
    {
        Some(k) => format!("did you mean {k:?}? Known names: {}", known.join(", ")),
        None => format!("remove it; known names: {}", known.join(", ")),
    };
    ConfigError::new(format!("{at}.{key}"), "is not a known setting", fix)
}

/// The default properties as strings, and the type each value decides.
type Defaults = (Vec<(Key, String)>, Vec<(Key, PropertyType)>);

fn default_properties(props: &Object) -> Result<Defaults, ConfigError> {
    let mut out: Defaults = (Vec::new(), Vec::new());
    for (name, value) in props {
        let field = format!("settings.defaultProperties.{name}");
        check_property_name(name, &field)?;
        let text = match value {
            Value::Undefined | Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Number(n) if n.is_finite() => js_number(*n),
            Value::Bool(b) => b.to_string(),
            other => return Err(ConfigError::new(
                field,
                format!("must be a string, number or boolean, got {}", shown(other)),
                "use a plain value; map values from the event with a rule's settings.properties",
            )),
        };
        out.0.push((name.clone(), text));
        out.1.push((name.clone(), PropertyType::infer(value)));
    }
    Ok(out)
}

/// A key at `field` that names a HubSpot property.
pub(crate) fn check_property_name(name: &str, field: &str) -> Result<(), ConfigError> {
    if names::is_valid_name(name) {
        return Ok(());
    }
    Err(ConfigError::new(
        field,
        "is not a valid HubSpot property name",
        "use the property's HubSpot name: lowercase letters, digits and underscores, starting with a letter, at most 50 characters",
    ))
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
