//! The one description of every setting and rule setting: names, types,
//! bounds, defaults and what each does. `settings` and `rule` validate
//! against it and the package's JSON Schemas (`/dev`, `walkerOS.json`, the
//! README tables) are generated from it, so they cannot disagree.

use serde::Serialize;
use serde_json::json;

pub const DEFAULT_API_BASE: &str = "https://api.hubapi.com";
/// The token endpoint HubSpot's migration guide names; `/oauth/v1/token`
/// still works for older apps until its sunset on 2027-02-16.
pub const DEFAULT_TOKEN_PATH: &str = "/oauth/2026-03/token";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A string matching this pattern, if any.
    String(Option<&'static str>),
    /// An http(s) URL.
    Url,
    Boolean,
    /// A whole number from `min` to `max`, `default` when unset.
    Integer {
        min: u64,
        max: u64,
        default: u64,
    },
    /// A walkerOS mapping value (path string, object form, or array of
    /// fallbacks); `off` when `false`/`null` switch the setting off.
    Mapping {
        off: bool,
    },
    /// An object of HubSpot property names to plain values.
    Properties,
    /// An object of these fields.
    Object(&'static [Field]),
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// An object of HubSpot property names to property types.
    PropertyTypes,
}

impl Kind {
    /// What a value of this kind must be, for error messages.
    pub fn expected(self) -> String {
        match self {
            Kind::String(_) => "must be a string".into(),
            Kind::Url => "must be a URL string".into(),
            Kind::Boolean => "must be true or false".into(),
            Kind::Integer { min, max, .. } => format!("must be a whole number from {min} to {max}"),
            Kind::Mapping { .. } => "must be a mapping value".into(),
            Kind::Properties | Kind::Object(_) => "must be an object".into(),
            Kind::Choice(options) => format!("must be one of \"{}\"", options.join("\", \"")),
            Kind::PropertyTypes => "must be an object of property names to \"string\", \"number\", \"datetime\" or \"enumeration\"".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// What an unset field means, if anything (an integer's is in its kind).
    pub default: Option<DefaultValue>,
    pub description: &'static str,
    /// What to do when the field is wrong, for error messages.
    pub fix: &'static str,
    /// The value may be a secret: never shown in messages.
    pub secret: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DefaultValue {
    Str(&'static str),
    Bool(bool),
    /// `{}`.
    EmptyObject {},
}

/// A field of the tables below is an optional string with no default,
/// shown in messages, unless it says otherwise.
const BASE: Field = Field {
    name: "",
    kind: Kind::String(None),
    required: false,
    default: None,
    description: "",
    fix: "",
    secret: false,
};

pub const SETTINGS: [Field; 21] = [
    Field {
        name: "accessToken",
        // Not `required` alone: the settings schema asks for it or `oauth`
        // with `oneOf`.
        secret: true,
        fix: "set it to your HubSpot private app access token (scopes analytics.behavioral_events.send and crm.objects.contacts.write) as a string, for example from an environment variable",
        description: "A private app's token (scopes: see Install): \"$env.HUBSPOT_ACCESS_TOKEN\" in a flow.json, process.env.… in code.",
        ..BASE
    },
    Field {
        name: "oauth",
        kind: Kind::Object(&OAUTH),
        // A string here may be a secret pasted in the wrong place.
        secret: true,
        fix: "set it to { clientId, clientSecret, refreshToken } of your HubSpot OAuth app, each a string (for example \"$env.HUBSPOT_CLIENT_SECRET\" in a flow.json)",
        description: "An OAuth app's { clientId, clientSecret, refreshToken, tokenPath? } instead of accessToken: docs/oauth.md.",
        ..BASE
    },
    Field {
        name: "eventNamePrefix",
        kind: Kind::String(Some("^pe[0-9]+_$")),
        fix: "set it to \"pe\" followed by your HubSpot account ID and an underscore, such as \"pe12345678_\" (HubSpot shows it under Data Management > Custom Events), or leave it out with definitions \"check\" or \"create\" to learn it from HubSpot",
        description: "pe{HubID}_ (e.g. pe12345678_), before every event name; learned from HubSpot unless definitions is \"off\".",
        ..BASE
    },
    Field {
        name: "definitions",
        kind: Kind::Choice(&["off", "check", "create"]),
        default: Some(DefaultValue::Str("check")),
        fix: "set it to \"off\", \"check\" or \"create\" (see docs/definitions.md)",
        description: "\"check\" warns at init what the rules' HubSpot definitions lack, \"create\" creates it, \"off\" neither (docs/definitions.md).",
        ..BASE
    },
    Field {
        name: "email",
        kind: Kind::Mapping { off: true },
        default: Some(DefaultValue::Str("user.email")),
        fix: "use a mapping value such as \"user.email\", or false to switch email identity off",
        description: "Mapping value for the contact's email on each event; false switches email identity off.",
        ..BASE
    },
    Field {
        name: "objectId",
        kind: Kind::Mapping { off: false },
        fix: "use a mapping value such as \"user.id\"",
        description: "Mapping value for the contact's HubSpot object id; sent along with any email.",
        ..BASE
    },
    Field {
        name: "utk",
        kind: Kind::Mapping { off: false },
        fix: "use a mapping value such as \"user.hutk\"",
        description: "Mapping value for the HubSpot user token (the hubspotutk cookie).",
        ..BASE
    },
    Field {
        name: "identify",
        kind: Kind::Mapping { off: false },
        fix: "use a mapping value resolving to { email, properties }",
        description: "Mapping value resolving to { email, properties }: the contact is upserted before the event, again when its properties change.",
        ..BASE
    },
    Field {
        name: "defaultProperties",
        kind: Kind::Properties,
        default: Some(DefaultValue::EmptyObject {}),
        fix: "set it to an object of HubSpot property names and values, such as { \"hs_touchpoint_source\": \"walkerOS\" }",
        description: "Properties sent with every event (strings, numbers or booleans); mapped properties win.",
        ..BASE
    },
    Field {
        name: "batch",
        kind: Kind::Boolean,
        default: Some(DefaultValue::Bool(false)),
        fix: "set it to true to send events in batches, or leave it out",
        description: "Queue events and contact upserts and send them with HubSpot's batch endpoints.",
        ..BASE
    },
    Field {
        name: "batchSize",
        kind: Kind::Integer { min: 1, max: 500, default: 50 },
        fix: "set it between 1 and 500 (HubSpot's batch limit), or leave it out for 50",
        description: "Events per batch request; single mode sends up to this many waiting events together.",
        ..BASE
    },
    Field {
        name: "flushInterval",
        kind: Kind::Integer { min: 0, max: 86_400_000, default: 5_000 },
        fix: "set milliseconds, or leave it out for 5000; 0 flushes only at batchSize and on shutdown",
        description: "Milliseconds between timed flushes in batch mode; 0 turns them off; the timer never keeps Node alive.",
        ..BASE
    },
    Field {
        name: "dedupCapacity",
        kind: Kind::Integer { min: 1, max: 10_000_000, default: 10_000 },
        fix: "leave it out for 10000, the number of contacts remembered (at most 64 bytes each)",
        description: "Contacts remembered for upsert dedup, least recently seen forgotten first (at most 64 bytes each).",
        ..BASE
    },
    Field {
        name: "rateLimit",
        kind: Kind::Integer { min: 1, max: 10_000, default: 100 },
        fix: "set it to your app's CRM requests per 10 seconds (100 on Free and Starter, 190 on Professional and Enterprise), or leave it out for 100",
        description: "CRM requests per 10 s until HubSpot's rate-limit headers say otherwise; event sends are exempt.",
        ..BASE
    },
    Field {
        name: "maxQueue",
        kind: Kind::Integer { min: 1, max: 10_000_000, default: 10_000 },
        fix: "leave it out for 10000 events",
        description: "Events held at most (then the oldest go to env.onDrop); a batch-mode push waits at half of it.",
        ..BASE
    },
    Field {
        name: "timeout",
        kind: Kind::Integer { min: 1, max: 600_000, default: 10_000 },
        fix: "leave it out for 10000 ms",
        description: "Milliseconds a request may take before it is aborted and retried.",
        ..BASE
    },
    Field {
        name: "shutdownTimeout",
        kind: Kind::Integer { min: 0, max: 600_000, default: 10_000 },
        fix: "set milliseconds from 0 to 600000, or leave it out for 10000",
        description: "Milliseconds a shutdown keeps sending before the rest goes to env.onDrop.",
        ..BASE
    },
    Field {
        name: "spool",
        fix: "set it to a directory this process alone writes to, such as \"/var/lib/walkeros/hubspot-spool\" (created if missing), or leave it out for no spool",
        description: "Directory of the disk spool (off when unset): accepted events survive a crash (docs/spool.md).",
        ..BASE
    },
    Field {
        name: "spoolMaxBytes",
        kind: Kind::Integer { min: 1_024, max: 4_294_967_295, default: 1_073_741_824 },
        fix: "set bytes from 1024 to 4294967295, or leave it out for 1073741824 (1 GiB)",
        description: "Spool bytes not yet delivered at most; beyond it the oldest upserts, then events (env.onDrop), go.",
        ..BASE
    },
    Field {
        name: "spoolSyncInterval",
        kind: Kind::Integer { min: 0, max: 60_000, default: 1_000 },
        fix: "set milliseconds from 0 to 60000, or leave it out for 1000; 0 fsyncs every write",
        description: "Milliseconds between fsyncs of the spool (0: every write): what a power loss can take.",
        ..BASE
    },
    Field {
        name: "apiBase",
        kind: Kind::Url,
        default: Some(DefaultValue::Str(DEFAULT_API_BASE)),
        fix: "leave it out for https://api.hubapi.com",
        description: "Where requests go; plain http:// only for 127.0.0.1, localhost and [::1].",
        ..BASE
    },
];

/// `settings.oauth`: an OAuth app's credentials and token endpoint.
pub const OAUTH: [Field; 4] = [
    Field {
        name: "clientId",
        required: true,
        fix: "set it to your HubSpot app's client ID (the app's Auth tab)",
        description: "The OAuth app's client ID.",
        ..BASE
    },
    Field {
        name: "clientSecret",
        required: true,
        secret: true,
        fix: "set it to your HubSpot app's client secret (the app's Auth tab), for example \"$env.HUBSPOT_CLIENT_SECRET\" in a flow.json",
        description: "The OAuth app's client secret; never logged.",
        ..BASE
    },
    Field {
        name: "refreshToken",
        required: true,
        secret: true,
        fix: "set it to the refresh token HubSpot gave when the account installed your app, for example \"$env.HUBSPOT_REFRESH_TOKEN\" in a flow.json",
        description: "The refresh token of the HubSpot account the app was installed in; never logged. A rotated one goes to env.onToken.",
        ..BASE
    },
    Field {
        name: "tokenPath",
        kind: Kind::String(Some("^/")),
        default: Some(DefaultValue::Str(DEFAULT_TOKEN_PATH)),
        fix: "leave it out for /oauth/2026-03/token, or set \"/oauth/v1/token\" for an app still on HubSpot's v1 endpoint (sunset 2027-02-16)",
        description: "The token endpoint's path under apiBase; /oauth/v1/token for older apps (until its sunset on 2027-02-16).",
        ..BASE
    },
];

/// A mapping rule's `settings`.
pub const RULE_SETTINGS: [Field; 4] = [
    Field {
        name: "eventName",
        kind: Kind::String(Some("^[a-z][a-z0-9_]*$")),
        fix: "set it to the HubSpot event name without the prefix, such as \"purchase_completed\"",
        description: "The HubSpot event name without the prefix (purchase_completed), at most 50 characters; by default the walkerOS name as order_complete.",
        ..BASE
    },
    Field {
        name: "properties",
        kind: Kind::Mapping { off: false },
        fix: "use a mapping value resolving to an object, such as { \"map\": { \"total\": \"data.total\" } }",
        description: "Mapping value resolving to an object: the event's properties, over defaultProperties and the mapped data.",
        ..BASE
    },
    Field {
        name: "identify",
        kind: Kind::Mapping { off: false },
        fix: "use a mapping value resolving to { email, properties }",
        description: "Like settings.identify, for this rule only; with silent: true the rule only upserts the contact.",
        ..BASE
    },
    Field {
        name: "propertyTypes",
        kind: Kind::PropertyTypes,
        fix: "use an object such as { \"revenue\": \"number\", \"paid_at\": \"datetime\" }; the types are string, number, datetime and enumeration",
        description: "HubSpot property types ({ revenue: \"number\" }); else the first value decides.",
        ..BASE
    },
];

/// The field a path such as `settings.oauth.clientId` ends in; the tables
/// above are the only callers' input, so a missing name is a programming
/// error.
pub fn field(fields: &[Field], path: &str) -> Field {
    let name = path.rsplit('.').next().unwrap_or(path);
    *fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no schema field {name}"))
}

/// `{ "settings": <JSON Schema>, "mapping": <JSON Schema> }`.
#[derive(Serialize)]
pub struct Schemas {
    settings: ObjectSchema,
    mapping: ObjectSchema,
}

/// A JSON Schema of an object whose properties keep the table's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectSchema {
    /// The JSON Schema version and a title, at the top level only.
    #[serde(rename = "$schema", skip_serializing_if = "Option::is_none")]
    schema: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'static str>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(serialize_with = "in_order")]
    properties: Vec<(&'static str, serde_json::Value)>,
    required: Vec<&'static str>,
    additional_properties: bool,
    /// The settings: exactly one of `accessToken` and `oauth`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    one_of: Vec<serde_json::Value>,
}

fn in_order<S: serde::Serializer>(
    fields: &[(&'static str, serde_json::Value)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(fields.iter().map(|(k, v)| (k, v)))
}

pub fn schemas() -> Schemas {
    Schemas {
        settings: ObjectSchema {
            one_of: vec![
                json!({ "required": ["accessToken"], "not": { "required": ["oauth"] } }),
                json!({ "required": ["oauth"], "not": { "required": ["accessToken"] } }),
            ],
            ..object_schema(
                Some("HubSpot destination settings (config.settings)"),
                &SETTINGS,
            )
        },
        mapping: object_schema(
            Some("HubSpot settings of a mapping rule (mapping[entity][action].settings)"),
            &RULE_SETTINGS,
        ),
    }
}

fn object_schema(title: Option<&'static str>, fields: &[Field]) -> ObjectSchema {
    ObjectSchema {
        schema: title.map(|_| "http://json-schema.org/draft-07/schema#"),
        title,
        kind: "object",
        properties: fields.iter().map(|f| (f.name, field_schema(f))).collect(),
        required: fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect(),
        additional_properties: false,
        one_of: Vec::new(),
    }
}

fn field_schema(field: &Field) -> serde_json::Value {
    let mut schema = match field.kind {
        Kind::String(None) => json!({ "type": "string", "minLength": 1 }),
        Kind::String(Some(pattern)) => {
            json!({ "type": "string", "minLength": 1, "pattern": pattern })
        }
        Kind::Url => json!({ "type": "string", "format": "uri" }),
        Kind::Boolean => json!({ "type": "boolean" }),
        Kind::Integer { min, max, default } => {
            json!({ "type": "integer", "minimum": min, "maximum": max, "default": default })
        }
        Kind::Mapping { off } => {
            let mut any: Vec<_> = ["string", "object", "array"]
                .map(|t| json!({ "type": t }))
                .into();
            if off {
                any.extend([json!({ "const": false }), json!({ "type": "null" })]);
            }
            json!({ "anyOf": any })
        }
        Kind::Object(fields) => serde_json::to_value(object_schema(None, fields)).unwrap(),
        Kind::Properties => json!({
            "type": "object",
            "additionalProperties": { "type": ["string", "number", "boolean", "null"] },
        }),
        Kind::Choice(options) => json!({ "type": "string", "enum": options }),
        Kind::PropertyTypes => json!({
            "type": "object",
            "additionalProperties": { "type": "string", "enum": crate::config::types::PropertyType::NAMES },
        }),
    };
    schema["description"] = json!(field.description);
    if let Some(default) = field.default {
        schema["default"] = json!(default);
    }
    schema
}
