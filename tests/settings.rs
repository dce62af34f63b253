//! Settings validation: every bad input names its field and a fix.

use walkeros_destination_hubspot::config::settings::{
    Credentials, Settings, DEFAULT_API_BASE, DEFAULT_TOKEN_PATH,
};
use wasm_bindgen_test::wasm_bindgen_test;

const OK: &str = r#""accessToken":"pat-secret","eventNamePrefix":"pe123_""#;

fn parse(extra: &str) -> Result<Settings, String> {
    let json = if extra.is_empty() {
        format!("{{{OK}}}")
    } else {
        format!("{{{OK},{extra}}}")
    };
    Settings::parse(&json).map_err(|e| e.to_string())
}

fn fails(json: &str, field: &str) -> String {
    let message = Settings::parse(json).map(|_| ()).unwrap_err().to_string();
    assert!(message.contains(field), "{message:?} should name {field}");
    assert!(message.contains("Fix: "), "{message:?} should give a fix");
    message
}

#[wasm_bindgen_test]
fn defaults() {
    let s = parse("").unwrap();
    assert!(matches!(&s.credentials, Credentials::AccessToken(t) if t == "pat-secret"));
    assert!(s.email.is_some());
    assert!(s.object_id.is_none());
    assert!(!s.batch);
    assert_eq!(s.batch_size, 50);
    assert_eq!(s.api_base, DEFAULT_API_BASE);
}

#[wasm_bindgen_test]
fn required_fields() {
    fails(
        r#"{"eventNamePrefix":"pe1_"}"#,
        "settings.accessToken is missing",
    );
    fails(
        r#"{"accessToken":"x","definitions":"off"}"#,
        "settings.eventNamePrefix is missing",
    );
    // With definitions on, HubSpot's definitions tell the prefix.
    let learned = Settings::parse(r#"{"accessToken":"x"}"#).unwrap();
    assert_eq!(learned.event_name_prefix, "");
    fails(
        r#"{"accessToken":"x","definitions":"always"}"#,
        "settings.definitions must be one of \"off\", \"check\", \"create\"",
    );
    fails(
        r#"{"accessToken":"x","eventNamePrefix":"pe_"}"#,
        "settings.eventNamePrefix",
    );
    fails(
        r#"{"accessToken":"x","eventNamePrefix":"pe12"}"#,
        "settings.eventNamePrefix",
    );
    fails("[]", "settings must be an object");
}

#[wasm_bindgen_test]
fn a_wrongly_typed_token_is_never_echoed() {
    let message = fails(
        r#"{"accessToken":["pat-secret"],"eventNamePrefix":"pe1_"}"#,
        "settings.accessToken must be a string",
    );
    assert!(!message.contains("pat-secret"));
}

#[wasm_bindgen_test]
fn a_token_that_cannot_go_in_a_header_is_refused_unechoed() {
    for bad in [
        "pat-secret\\r\\nX-Injected: 1",
        "pat secret",
        "pat-secr\\u00e9t",
        "pat-\\u0000secret",
    ] {
        let message = fails(
            &format!(r#"{{"accessToken":"{bad}","eventNamePrefix":"pe1_"}}"#),
            "settings.accessToken contains a character an access token cannot have",
        );
        assert!(!message.contains("secret"), "{message}");
    }
    // Around it, spaces are trimmed as before.
    let trimmed = Settings::parse(r#"{"accessToken":"  pat-secret\n","eventNamePrefix":"pe1_"}"#)
        .unwrap()
        .credentials;
    assert!(matches!(&trimmed, Credentials::AccessToken(t) if t == "pat-secret"));
}

#[wasm_bindgen_test]
fn batch_size_range() {
    assert_eq!(parse(r#""batchSize":1"#).unwrap().batch_size, 1);
    assert_eq!(parse(r#""batchSize":500"#).unwrap().batch_size, 500);
    for bad in ["0", "501", "2.5", "\"50\"", "-1", "null"] {
        let message = parse(&format!(r#""batchSize":{bad}"#)).unwrap_err();
        assert!(
            message.contains("settings.batchSize must be a whole number from 1 to 500"),
            "{message}"
        );
    }
}

#[wasm_bindgen_test]
fn unknown_names_suggest_the_closest() {
    let message = parse(r#""eventNamePrefx":"pe1_""#).unwrap_err();
    assert!(
        message.contains("settings.eventNamePrefx is not a known setting"),
        "{message}"
    );
    assert!(
        message.contains("did you mean \"eventNamePrefix\""),
        "{message}"
    );
    let message = parse(r#""zzzzzzzzzz":1"#).unwrap_err();
    assert!(message.contains("remove it"), "{message}");
}

#[wasm_bindgen_test]
fn wrong_types() {
    assert!(parse(r#""batch":"true""#)
        .unwrap_err()
        .contains("settings.batch must be true or false"));
    assert!(parse(r#""defaultProperties":"x""#)
        .unwrap_err()
        .contains("settings.defaultProperties must be an object"));
    assert!(parse(r#""defaultProperties":{"a":{"b":1}}"#)
        .unwrap_err()
        .contains("settings.defaultProperties.a must be a string, number or boolean"));
    assert!(parse(r#""email":true"#)
        .unwrap_err()
        .contains("settings.email is boolean"));
    assert!(parse(r#""objectId":{"path":"user.id"}"#)
        .unwrap_err()
        .contains("settings.objectId.path is not a mapping value option"));
    assert!(parse(r#""identify":{"map":{"email":{"loop":"x"}}}"#)
        .unwrap_err()
        .contains("settings.identify.map.email.loop must be a pair"));
    assert!(parse(r#""apiBase":5"#)
        .unwrap_err()
        .contains("settings.apiBase must be a URL string"));
}

/// What the shell tags as not JSON data (NaN, as `Number(process.env.X)`
/// gives for an unset variable; the infinities; a Date or other non-plain
/// value) is a wrong type, not a setting left out that gets its default.
#[wasm_bindgen_test]
fn values_json_cannot_hold_are_wrong_types() {
    for (setting, tagged, shown) in [
        ("timeout", "nan", "number (NaN)"),
        ("batchSize", "inf", "number (Infinity)"),
        ("flushInterval", "-inf", "number (-Infinity)"),
        ("maxQueue", "o", "non-plain value"),
        ("batch", "o", "non-plain value"),
        ("spool", "o", "non-plain value"),
    ] {
        let message = parse(&format!(r#""{setting}":"\u0000{tagged}""#)).unwrap_err();
        assert!(
            message.contains(&format!("settings.{setting} must be")) && message.contains(shown),
            "{setting}: {message}"
        );
    }
    let message = parse(r#""defaultProperties":{"a":"\u0000nan"}"#).unwrap_err();
    assert!(
        message.contains(
            "settings.defaultProperties.a must be a string, number or boolean, got number (NaN)"
        ),
        "{message}"
    );
    let message =
        Settings::parse(r#"{"accessToken":"x","eventNamePrefix":"pe1_","oauth":"\u0000u"}"#);
    assert!(message.is_ok(), "an undefined oauth is left out");
}

/// An empty prefix (`process.env.HUBSPOT_EVENT_PREFIX || ""`) is no prefix:
/// with definitions "off" nothing could learn it, and every event would be
/// dropped.
#[wasm_bindgen_test]
fn an_empty_prefix_is_missing() {
    fails(
        r#"{"accessToken":"x","eventNamePrefix":"","definitions":"off"}"#,
        "settings.eventNamePrefix is missing",
    );
    let learned = Settings::parse(r#"{"accessToken":"x","eventNamePrefix":""}"#).unwrap();
    assert_eq!(learned.event_name_prefix, "");
}

/// A flow.json reference that reached the destination unresolved (copied
/// into code from the settings table's example) would be sent as the token.
#[wasm_bindgen_test]
fn unresolved_env_references_are_named() {
    let message = fails(
        r#"{"accessToken":"$env.HUBSPOT_ACCESS_TOKEN","eventNamePrefix":"pe1_"}"#,
        "settings.accessToken is \"$env.HUBSPOT_ACCESS_TOKEN\", a flow.json reference nothing resolved",
    );
    assert!(
        message.contains("process.env.HUBSPOT_ACCESS_TOKEN"),
        "{message}"
    );
    fails(
        r#"{"oauth":{"clientId":"a","clientSecret":"$env.HUBSPOT_CLIENT_SECRET","refreshToken":"r"},"eventNamePrefix":"pe1_"}"#,
        "settings.oauth.clientSecret is \"$env.HUBSPOT_CLIENT_SECRET\", a flow.json reference nothing resolved",
    );
}

#[wasm_bindgen_test]
fn email_can_be_switched_off() {
    assert!(parse(r#""email":false"#).unwrap().email.is_none());
}

#[wasm_bindgen_test]
fn api_base_allows_plain_http_only_on_loopback() {
    for ok in [
        "https://api.hubapi.com/",
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:9",
    ] {
        assert!(parse(&format!(r#""apiBase":"{ok}""#)).is_ok(), "{ok}");
    }
    assert_eq!(
        parse(r#""apiBase":"https://x.test/""#).unwrap().api_base,
        "https://x.test"
    );
    for bad in [
        "http://api.hubapi.com",
        "http://127.0.0.1.evil.test",
        "ftp://x",
        "api.hubapi.com",
        "https://",
        "http://user@127.0.0.1",
    ] {
        assert!(
            parse(&format!(r#""apiBase":"{bad}""#))
                .unwrap_err()
                .contains("settings.apiBase"),
            "{bad}"
        );
    }
}

#[wasm_bindgen_test]
fn default_properties_are_stringified_in_order() {
    let s = parse(r#""defaultProperties":{"b":"x","a":2,"c":true,"d":null}"#).unwrap();
    assert_eq!(
        s.default_properties,
        [
            ("b".into(), "x".into()),
            ("a".into(), "2".into()),
            ("c".into(), "true".into())
        ]
    );
}

/// The published schema and the validator read one table; this checks
/// that what the schema says is what validation does.
#[wasm_bindgen_test]
fn the_schema_says_what_validation_does() {
    use walkeros_destination_hubspot::config::rule::Rule;
    use walkeros_destination_hubspot::config::schema::{schemas, Kind, RULE_SETTINGS, SETTINGS};
    use walkeros_destination_hubspot::mapping::value::Value;

    let schemas = serde_json::to_value(schemas()).unwrap();
    let settings = &schemas["settings"];
    // eventNamePrefix is learned from HubSpot's definitions unless they are
    // "off" (which validation checks), so nothing is required on its own.
    assert_eq!(settings["required"], serde_json::json!([]));
    // Exactly one of accessToken and oauth.
    assert_eq!(
        settings["oneOf"],
        serde_json::json!([
            { "required": ["accessToken"], "not": { "required": ["oauth"] } },
            { "required": ["oauth"], "not": { "required": ["accessToken"] } },
        ])
    );
    assert_eq!(
        settings["properties"]["oauth"]["required"],
        serde_json::json!(["clientId", "clientSecret", "refreshToken"])
    );
    assert_eq!(
        settings["properties"]["oauth"]["properties"]["tokenPath"]["default"],
        "/oauth/2026-03/token"
    );
    assert_eq!(settings["additionalProperties"], false);
    let listed: Vec<&String> = settings["properties"].as_object().unwrap().keys().collect();
    assert_eq!(listed.len(), SETTINGS.len());
    for field in SETTINGS {
        let described = &settings["properties"][field.name];
        assert!(
            described["description"]
                .as_str()
                .is_some_and(|d| d.len() > 20),
            "{}",
            field.name
        );
        if let Kind::Integer { min, max, .. } = field.kind {
            assert_eq!(described["minimum"], min);
            assert_eq!(described["maximum"], max);
            for ok in [min, max] {
                parse(&format!("{:?}:{ok}", field.name)).unwrap_or_else(|e| panic!("{e}"));
            }
            for bad in [min as f64 - 1.0, max as f64 + 1.0, min as f64 + 0.5] {
                fails(
                    &format!("{{{OK},{:?}:{bad}}}", field.name),
                    &format!("settings.{}", field.name),
                );
            }
        }
    }
    // Defaults as the schema states them.
    let s = parse("").unwrap();
    let default = |name: &str| settings["properties"][name]["default"].clone();
    assert_eq!(default("batchSize"), s.batch_size);
    assert_eq!(default("flushInterval"), s.flush_interval);
    assert_eq!(default("dedupCapacity"), s.dedup_capacity);
    assert_eq!(default("rateLimit"), s.rate_limit);
    assert_eq!(default("maxQueue"), s.max_queue);
    assert_eq!(default("timeout"), s.timeout);
    assert_eq!(default("apiBase"), s.api_base.as_str());
    assert_eq!(default("batch"), s.batch);
    // A name the schema does not list is rejected; one it lists is not.
    fails(&format!("{{{OK},\"batchSise\":1}}"), "settings.batchSise");

    let mapping = &schemas["mapping"];
    assert_eq!(mapping["additionalProperties"], false);
    for field in RULE_SETTINGS {
        assert!(mapping["properties"][field.name]["description"].is_string());
        let value = match field.kind {
            Kind::PropertyTypes => r#"{"revenue":"number"}"#,
            _ => r#""purchase""#,
        };
        let rule =
            Value::parse(&format!(r#"{{"settings":{{{:?}:{value}}}}}"#, field.name)).unwrap();
        Rule::from_value(&rule, "mapping.x.y", "pe1_").unwrap_or_else(|e| panic!("{e}"));
    }
    let unknown = Value::parse(r#"{"settings":{"eventname":"x"}}"#).unwrap();
    assert!(Rule::from_value(&unknown, "mapping.x.y", "pe1_").is_err());
}

const OAUTH: &str =
    r#""oauth":{"clientId":"app-1","clientSecret":"cs-secret","refreshToken":"rt-secret"}"#;

#[wasm_bindgen_test]
fn oauth_instead_of_an_access_token() {
    let s = Settings::parse(&format!(r#"{{"eventNamePrefix":"pe1_",{OAUTH}}}"#)).unwrap();
    let Credentials::OAuth(o) = &s.credentials else {
        panic!("oauth credentials expected");
    };
    assert_eq!(
        (
            o.client_id.as_str(),
            o.client_secret.as_str(),
            o.refresh_token.as_str()
        ),
        ("app-1", "cs-secret", "rt-secret")
    );
    assert_eq!(o.token_path, DEFAULT_TOKEN_PATH);
    assert_eq!(DEFAULT_TOKEN_PATH, "/oauth/2026-03/token");
    // Debug output (in a panic, say) shows no secret.
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("cs-secret") && !shown.contains("rt-secret"),
        "{shown}"
    );
    let legacy = Settings::parse(
        r#"{"eventNamePrefix":"pe1_","oauth":{"clientId":"a","clientSecret":"b","refreshToken":"c","tokenPath":"/oauth/v1/token"}}"#,
    )
    .unwrap();
    assert!(
        matches!(&legacy.credentials, Credentials::OAuth(o) if o.token_path == "/oauth/v1/token")
    );
}

#[wasm_bindgen_test]
fn exactly_one_of_access_token_and_oauth() {
    let both = fails(
        &format!(r#"{{"accessToken":"pat-secret","eventNamePrefix":"pe1_",{OAUTH}}}"#),
        "settings has both accessToken and oauth",
    );
    assert!(both.contains("not both"), "{both}");
    let neither = fails(
        r#"{"eventNamePrefix":"pe1_"}"#,
        "settings.accessToken is missing",
    );
    assert!(neither.contains("oauth"), "{neither} should offer oauth");
    for (json, field) in [
        (
            r#""oauth":{"clientSecret":"cs-secret","refreshToken":"rt-secret"}"#,
            "settings.oauth.clientId is missing",
        ),
        (
            r#""oauth":{"clientId":"a","refreshToken":"rt-secret"}"#,
            "settings.oauth.clientSecret is missing",
        ),
        (
            r#""oauth":{"clientId":"a","clientSecret":"cs-secret","refreshToken":"  "}"#,
            "settings.oauth.refreshToken is missing",
        ),
        (
            r#""oauth":{"clientId":"a","clientSecret":"cs-secret","refreshToken":"rt-secret","tokenPth":"/x"}"#,
            "settings.oauth.tokenPth is not a known setting",
        ),
        (
            r#""oauth":{"clientId":"a","clientSecret":"cs-secret","refreshToken":"rt-secret","tokenPath":"oauth/v1/token"}"#,
            "settings.oauth.tokenPath",
        ),
        (r#""oauth":"rt-secret""#, "settings.oauth must be an object"),
        (
            r#""oauth":{"clientId":"a","clientSecret":42,"refreshToken":"rt-secret"}"#,
            "settings.oauth.clientSecret must be a string",
        ),
    ] {
        let message = fails(&format!(r#"{{"eventNamePrefix":"pe1_",{json}}}"#), field);
        assert!(
            !message.contains("cs-secret")
                && !message.contains("rt-secret")
                && !message.contains("42"),
            "{message}"
        );
    }
}

#[wasm_bindgen_test]
fn property_types_and_iso8601() {
    use walkeros_destination_hubspot::config::types::{is_iso8601, PropertyType};
    use walkeros_destination_hubspot::mapping::value::Value;
    for ok in [
        "2024-05-01",
        "2024-05-01T10:00",
        "2024-05-01T10:00:59",
        "2024-05-01T10:00:59.123Z",
        "2024-05-01T10:00:59+02:00",
        "2024-05-01T10:00:59.1-0130",
    ] {
        assert!(is_iso8601(ok), "{ok}");
    }
    for bad in [
        "",
        "2024-13-01",
        "2024-05-01T",
        "2024-05-01T25:00",
        "2024-05-01 10:00",
        "2024-05-01T10:00:59.Z",
        "2024-05-01T10:00Zx",
        "yesterday",
        "12345",
    ] {
        assert!(!is_iso8601(bad), "{bad}");
    }
    assert_eq!(
        PropertyType::infer(&Value::Number(1.5)),
        PropertyType::Number
    );
    assert_eq!(
        PropertyType::infer(&Value::Bool(true)),
        PropertyType::Enumeration
    );
    assert_eq!(
        PropertyType::infer(&Value::from("2024-05-01T10:00:00.000Z")),
        PropertyType::Datetime
    );
    assert_eq!(
        PropertyType::infer(&Value::from("99.5")),
        PropertyType::String
    );
}

#[wasm_bindgen_test]
fn values_take_their_property_type() {
    use walkeros_destination_hubspot::config::types::PropertyType as T;
    use walkeros_destination_hubspot::hubspot::definitions::convert;
    let none: &[String] = &[];
    assert_eq!(
        convert("99.50", T::String, T::Number, none).as_deref(),
        Some("99.5")
    );
    assert_eq!(convert("abc", T::String, T::Number, none), None);
    assert_eq!(convert("true", T::Enumeration, T::Number, none), None);
    assert_eq!(
        convert("42", T::Number, T::String, none).as_deref(),
        Some("42")
    );
    assert_eq!(
        convert("1700000000000", T::Number, T::Datetime, none).as_deref(),
        Some("1700000000000")
    );
    assert_eq!(convert("1.5", T::Number, T::Datetime, none), None);
    assert_eq!(
        convert("2024-05-01T10:00:00Z", T::Datetime, T::Datetime, none).as_deref(),
        Some("2024-05-01T10:00:00Z")
    );
    assert_eq!(convert("soon", T::String, T::Datetime, none), None);
    let options = ["true".to_string(), "false".to_string()];
    assert_eq!(
        convert("true", T::Enumeration, T::Enumeration, &options).as_deref(),
        Some("true")
    );
    assert_eq!(convert("maybe", T::String, T::Enumeration, &options), None);
}

#[wasm_bindgen_test]
fn every_credential_field_is_marked_secret() {
    use walkeros_destination_hubspot::config::schema::{OAUTH, RULE_SETTINGS, SETTINGS};
    // A field of the table is shown in messages unless it says `secret`:
    // one holding a credential must say so.
    for field in SETTINGS.iter().chain(&OAUTH).chain(&RULE_SETTINGS) {
        let name = field.name.to_ascii_lowercase();
        let credential = name == "oauth"
            || ["token", "secret", "password", "key"]
                .iter()
                .any(|word| name.ends_with(word));
        assert_eq!(field.secret, credential, "{}", field.name);
    }
}
