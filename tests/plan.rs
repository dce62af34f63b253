//! What an event becomes: identity, names, properties, times.

use walkeros_destination_hubspot::config::names::{
    event_name_part, is_valid_name, is_valid_prefix,
};
use walkeros_destination_hubspot::config::rule::Rule;
use walkeros_destination_hubspot::config::settings::Settings;
use walkeros_destination_hubspot::hubspot::api::Request;
use walkeros_destination_hubspot::hubspot::plan::Plan;
use walkeros_destination_hubspot::hubspot::properties::stringify;
use walkeros_destination_hubspot::hubspot::time::iso8601;
use walkeros_destination_hubspot::mapping::value::js_number;
use walkeros_destination_hubspot::mapping::value::Value;
use walkeros_destination_hubspot::mapping::NoCallbacks;
use wasm_bindgen_test::wasm_bindgen_test;

fn plan(s: &Settings, e: &Value, r: Option<&Rule>, d: &Value) -> Plan {
    walkeros_destination_hubspot::hubspot::plan::plan(s, e, r, d, &NoCallbacks)
}

fn settings(extra: &str) -> Settings {
    let sep = if extra.is_empty() { "" } else { "," };
    Settings::parse(&format!(
        r#"{{"accessToken":"t","eventNamePrefix":"pe42_"{sep}{extra}}}"#
    ))
    .unwrap()
}

fn event(json: &str) -> Value {
    Value::parse(json).unwrap()
}

fn rule(json: &str) -> Rule {
    Rule::from_value(&Value::parse(json).unwrap(), "mapping.a.b", "pe42_").unwrap()
}

#[wasm_bindgen_test]
fn email_identity_and_default_name() {
    let p = plan(
        &settings(""),
        &event(
            r#"{"name":"Order  Complete","user":{"email":" a@b.c "},"timestamp":1700000100000}"#,
        ),
        None,
        &Value::Undefined,
    );
    let send = p.send.unwrap();
    assert_eq!(send.event_name, "pe42_order_complete");
    assert_eq!(send.email.as_deref(), Some("a@b.c"));
    assert_eq!(send.object_id, None);
    assert_eq!(
        send.occurred_at.as_deref(),
        Some("2023-11-14T22:15:00.000Z")
    );
    assert_eq!(
        Request::send_event(&send).body,
        r#"{"eventName":"pe42_order_complete","email":"a@b.c","occurredAt":"2023-11-14T22:15:00.000Z","properties":{}}"#
    );
    assert!(p.notices.is_empty());
}

#[wasm_bindgen_test]
fn object_id_when_email_is_missing_and_both_when_both_resolve() {
    let s = settings(r#""objectId":"user.id""#);
    let only_id = plan(
        &s,
        &event(r#"{"name":"a b","user":{"id":123}}"#),
        None,
        &Value::Undefined,
    );
    let send = only_id.send.unwrap();
    assert_eq!((send.email, send.object_id.as_deref()), (None, Some("123")));
    let both = plan(
        &s,
        &event(r#"{"name":"a b","user":{"id":"9","email":"x@y.z"}}"#),
        None,
        &Value::Undefined,
    );
    let send = both.send.unwrap();
    assert_eq!(
        (send.email.as_deref(), send.object_id.as_deref()),
        (Some("x@y.z"), Some("9"))
    );
}

#[wasm_bindgen_test]
fn no_identity_is_a_warning_naming_the_event() {
    let p = plan(
        &settings(""),
        &event(r#"{"name":"page view","user":{"email":""}}"#),
        None,
        &Value::Undefined,
    );
    assert!(p.send.is_none());
    assert_eq!(p.notices.len(), 1);
    assert_eq!(p.notices[0].event, "page view");
    assert!(p.notices[0].message.contains("no contact identity"));
}

#[wasm_bindgen_test]
fn rule_event_name_identify_properties_and_silent() {
    let s = settings(r#""defaultProperties":{"source":"walkerOS","total":"default"}"#);
    let r = rule(
        r#"{"settings":{"eventName":"pe42_purchase","identify":{"map":{"email":"data.email","properties":{"map":{"firstname":"data.first"}}}},
            "properties":{"map":{"total":"data.total","flag":"data.flag","tags":"data.tags","obj":"data.obj","none":"data.none"}}}}"#,
    );
    let e = event(
        r#"{"name":"order complete","user":{"email":"u@x.y"},"data":{"email":"d@x.y","first":"Jo","total":1e21,"flag":false,"tags":["a",1,true],"obj":{"k":"v"}}}"#,
    );
    let p = plan(&s, &e, Some(&r), &Value::Undefined);
    let upsert = p.upsert.clone().unwrap();
    assert_eq!(upsert.email, "d@x.y");
    assert_eq!(upsert.properties, [("firstname".into(), "Jo".to_string())]);
    let send = p.send.unwrap();
    assert_eq!(
        send.event_name, "pe42_purchase",
        "a prefix in eventName is not doubled"
    );
    let props: Vec<(&str, &str)> = send
        .properties
        .iter()
        .map(|(k, v)| (&**k, v.as_str()))
        .collect();
    assert_eq!(
        props,
        [
            ("total", "1e+21"),
            ("flag", "false"),
            ("tags", "a;1;true"),
            ("obj", r#"{"k":"v"}"#),
            ("source", "walkerOS")
        ]
    );

    let silent = rule(r#"{"silent":true,"settings":{"identify":{"map":{"email":"user.email"}}}}"#);
    let p = plan(&s, &e, Some(&silent), &Value::Undefined);
    assert!(p.upsert.is_some());
    assert!(p.send.is_none());
}

#[wasm_bindgen_test]
fn rule_identify_overrides_the_destination_identify() {
    let s = settings(r#""identify":{"map":{"email":"user.email"}}"#);
    let r = rule(r#"{"settings":{"identify":{"map":{"email":"data.email"}}}}"#);
    let e = event(r#"{"name":"a b","user":{"email":"u@x.y"},"data":{"email":"d@x.y"}}"#);
    assert_eq!(
        plan(&s, &e, Some(&r), &Value::Undefined)
            .upsert
            .unwrap()
            .email,
        "d@x.y"
    );
    assert_eq!(
        plan(&s, &e, None, &Value::Undefined).upsert.unwrap().email,
        "u@x.y"
    );
}

#[wasm_bindgen_test]
fn ignore_sends_nothing() {
    let p = plan(
        &settings(""),
        &event(r#"{"name":"a b","user":{"email":"u@x.y"}}"#),
        Some(&rule(r#"{"ignore":true}"#)),
        &Value::Undefined,
    );
    assert!(p.send.is_none() && p.upsert.is_none() && p.notices.is_empty());
}

#[wasm_bindgen_test]
fn mapped_data_adds_properties_below_the_properties_mapping() {
    let r = rule(r#"{"settings":{"properties":{"map":{"a":{"value":"mapped"}}}}}"#);
    let data = event(r#"{"a":"data","b":2}"#);
    let p = plan(
        &settings(""),
        &event(r#"{"name":"a b","user":{"email":"u@x.y"}}"#),
        Some(&r),
        &data,
    );
    assert_eq!(
        p.send.unwrap().properties,
        [
            ("a".into(), "mapped".to_string()),
            ("b".into(), "2".to_string())
        ]
    );
}

#[wasm_bindgen_test]
fn names() {
    assert!(is_valid_prefix("pe12345678_"));
    for bad in ["pe_", "pe12", "p12_", "PE12_", "pe1a_"] {
        assert!(!is_valid_prefix(bad), "{bad}");
    }
    assert_eq!(
        event_name_part("product view"),
        ("product_view".to_string(), false)
    );
    assert_eq!(
        event_name_part(" Product \t View "),
        ("product_view".to_string(), false)
    );
    assert_eq!(event_name_part("cart-add"), ("cart_add".to_string(), true));
    // Letters HubSpot does not take become `_`, capitals or not.
    assert_eq!(
        event_name_part("Über Straße"),
        ("_ber_stra_e".to_string(), true)
    );
    assert!(is_valid_name("a_1"));
    assert!(!is_valid_name("1a") && !is_valid_name("") && !is_valid_name(&"a".repeat(51)));
    let p = plan(
        &settings(""),
        &event(r#"{"name":"1x y","user":{"email":"u@x.y"}}"#),
        None,
        &Value::Undefined,
    );
    assert!(p.send.is_none());
    assert!(p.notices[0]
        .message
        .contains("cannot be made a HubSpot event name"));
}

#[wasm_bindgen_test]
fn invalid_rule_event_names_are_config_errors() {
    let err = Rule::from_value(
        &event(r#"{"settings":{"eventName":"Buy Now"}}"#),
        "mapping.a.b",
        "pe42_",
    )
    .unwrap_err();
    assert_eq!(err.field, "mapping.a.b.settings.eventName");
    assert!(err.fix.contains("buy_now"));
}

#[wasm_bindgen_test]
fn property_values_stay_what_they_are() {
    assert_eq!(stringify(&"+4917012345".into()), "+4917012345");
    assert_eq!(stringify(&"007".into()), "007");
    assert_eq!(stringify(&"".into()), "");
    assert_eq!(stringify(&true.into()), "true");
    for (n, s) in [
        (99.5, "99.5"),
        (420.0, "420"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (123456789012345680000.0, "123456789012345680000"),
        (0.000001, "0.000001"),
        (1.5e-10, "1.5e-10"),
        (0.1 + 0.2, "0.30000000000000004"),
        (-2.5, "-2.5"),
        (9007199254740992.0, "9007199254740992"),
        (-1e20, "-100000000000000000000"),
        (-1e21, "-1e+21"),
        (0.0000015, "0.0000015"),
        (5e-7, "5e-7"),
        (73.76, "73.76"),
        (5.22, "5.22"),
        (0.05, "0.05"),
        (-0.05, "-0.05"),
        (1.5e-6, "0.0000015"),
        (123456.789, "123456.789"),
        (0.1, "0.1"),
        (1.0 / 3.0, "0.3333333333333333"),
        (2.0 / 3.0, "0.6666666666666666"),
        (std::f64::consts::PI, "3.141592653589793"),
        (0.09999999999999999, "0.09999999999999999"),
        (899999999999999.9, "899999999999999.9"),
        (4503599627370495.5, "4503599627370495.5"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-Infinity"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        (5e-324, "5e-324"),
        // Two shortest candidates equally close: the even one, as V8 does.
        (87412109143560.0 + 0.125, "87412109143560.12"),
        (1e15 + 0.25, "1000000000000000.2"),
        (1e15 + 0.75, "1000000000000000.8"),
        (1125899906842624.0 + 0.25, "1125899906842624.2"),
        (1.2345678901234567e-6, "0.0000012345678901234567"),
        (3e-7, "3e-7"),
    ] {
        assert_eq!(js_number(n), s, "{n}");
    }
}

#[wasm_bindgen_test]
fn object_property_values_are_json_as_json_stringify_writes_it() {
    let value = Value::parse(
        r#"{"small":0.000001,"big":1e21,"zero":-0,"list":[1,null,"x\"y"],"deep":{"n":5.22}}"#,
    )
    .unwrap();
    assert_eq!(
        stringify(&value),
        r#"{"small":0.000001,"big":1e+21,"zero":0,"list":[1,null,"x\"y"],"deep":{"n":5.22}}"#
    );
    let mut with_gaps = value;
    if let Value::Object(entries) = &mut with_gaps {
        entries.push(("gone".into(), Value::Undefined));
        entries.push(("nan".into(), Value::Number(f64::NAN)));
    }
    assert!(stringify(&with_gaps).ends_with(r#""deep":{"n":5.22},"nan":null}"#));
}

#[wasm_bindgen_test]
fn iso_times() {
    assert_eq!(iso8601(0.0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
    assert_eq!(
        iso8601(1700000100123.0).as_deref(),
        Some("2023-11-14T22:15:00.123Z")
    );
    assert_eq!(
        iso8601(951782400000.0).as_deref(),
        Some("2000-02-29T00:00:00.000Z")
    );
    assert_eq!(iso8601(-1.0).as_deref(), Some("1969-12-31T23:59:59.999Z"));
    assert_eq!(
        iso8601(-62198755200000.0).as_deref(),
        Some("-000001-01-01T00:00:00.000Z")
    );
    assert_eq!(
        iso8601(253402300800000.0).as_deref(),
        Some("+010000-01-01T00:00:00.000Z")
    );
    assert_eq!(
        iso8601(8.64e15).as_deref(),
        Some("+275760-09-13T00:00:00.000Z")
    );
    assert_eq!(
        iso8601(-8.64e15).as_deref(),
        Some("-271821-04-20T00:00:00.000Z")
    );
    assert_eq!(iso8601(f64::NAN), None);
    assert_eq!(iso8601(9e15), None);
}

#[wasm_bindgen_test]
fn event_uuids() {
    use walkeros_destination_hubspot::hubspot::uuid::event_uuid;
    let a = event_uuid("a82ec543acd1847d", "page view");
    assert_eq!(
        a,
        event_uuid("a82ec543acd1847d", "page view"),
        "deterministic"
    );
    assert_ne!(a, event_uuid("a82ec543acd1847d", "product view"));
    assert_ne!(a, event_uuid("a82ec543acd1847e", "page view"));
    let parts: Vec<&str> = a.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(parts[2].starts_with('5'), "version 5: {a}");
    assert!(
        matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
        "RFC variant: {a}"
    );
    // The same ids as Python's uuid.uuid5(namespace, id + "\0" + name),
    // for keys that fit one SHA-1 block (up to 55 bytes), just do not, and
    // take several.
    for (id, name, expected) in [
        (
            "a82ec543acd1847d",
            "page view",
            "6f1b7a9a-dcb1-56fa-81f3-4b2937033ebb",
        ),
        (
            &"x".repeat(29),
            "page view",
            "b6b12c66-7741-5c24-819f-1e24ed808eb5",
        ),
        (
            &"x".repeat(30),
            "page view",
            "0f27412a-f4e5-5bb0-8cfa-6f02a9ceccbf",
        ),
        (
            &"é".repeat(40),
            "order complete",
            "bec4451a-d3b5-57bb-9b54-68d96c8160b9",
        ),
    ] {
        assert_eq!(event_uuid(id, name), expected, "{id} {name}");
    }
}

#[wasm_bindgen_test]
fn events_carry_uuid_and_utk() {
    let s = settings(r#""utk":"user.hutk""#);
    let p = plan(
        &s,
        &event(r#"{"name":"a b","id":"e1","user":{"hutk":"tok"}}"#),
        None,
        &Value::Undefined,
    );
    let send = p.send.unwrap();
    assert_eq!(send.utk.as_deref(), Some("tok"));
    assert_eq!(send.email, None);
    assert_eq!(
        send.uuid,
        Some(walkeros_destination_hubspot::hubspot::uuid::event_uuid(
            "e1", "a b"
        ))
    );
}

#[wasm_bindgen_test]
fn property_names_are_normalised_and_collisions_reported() {
    let r = rule(
        r#"{"settings":{"properties":{"map":{"Order ID":"data.a","order_id":"data.b","1st":"data.a","%%":"data.a"}}}}"#,
    );
    let p = plan(
        &settings(""),
        &event(r#"{"name":"a b","user":{"email":"u@x.y"},"data":{"a":"1","b":"2"}}"#),
        Some(&r),
        &Value::Undefined,
    );
    let props = p.send.unwrap().properties;
    assert_eq!(
        props,
        [
            ("order_id".into(), "1".to_string()),
            ("p_1st".into(), "1".to_string())
        ]
    );
    let messages: Vec<&str> = p.notices.iter().map(|n| n.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains(r#""Order ID" of event "a b" sent as "order_id""#)),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains(r#""order_id" dropped"#) && m.contains("already taken")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains(r#""%%" dropped"#)),
        "{messages:?}"
    );
}

#[wasm_bindgen_test]
fn at_most_50_properties_mapped_first() {
    let defaults: Vec<String> = (0..10).map(|i| format!(r#""d{i}":"x""#)).collect();
    let s = settings(&format!(
        r#""defaultProperties":{{{}}}"#,
        defaults.join(",")
    ));
    let map: Vec<String> = (0..45)
        .map(|i| format!(r#""m{i}":{{"value":"v"}}"#))
        .collect();
    let r = rule(&format!(
        r#"{{"settings":{{"properties":{{"map":{{{}}}}}}}}}"#,
        map.join(",")
    ));
    let p = plan(
        &s,
        &event(r#"{"name":"a b","user":{"email":"u@x.y"}}"#),
        Some(&r),
        &Value::Undefined,
    );
    let props = p.send.unwrap().properties;
    assert_eq!(props.len(), 50);
    assert!(props[..45].iter().all(|(k, _)| k.starts_with('m')));
    assert_eq!(&*props[49].0, "d4");
    assert!(p
        .notices
        .iter()
        .any(|n| n.message.contains("5 properties dropped")
            && n.message.contains("d5, d6, d7, d8, d9")));
}

#[wasm_bindgen_test]
fn long_event_names_are_cut_with_a_warning_and_bad_timestamps_left_out() {
    let long = format!(
        r#"{{"name":"{} view","user":{{"email":"u@x.y"}},"timestamp":"yesterday"}}"#,
        "x".repeat(60)
    );
    let p = plan(&settings(""), &event(&long), None, &Value::Undefined);
    let send = p.send.unwrap();
    assert_eq!(send.event_name.len(), "pe42_".len() + 50);
    assert_eq!(send.occurred_at, None);
    assert!(p
        .notices
        .iter()
        .any(|n| n.message.contains("occurredAt left out")));
    assert!(p.notices.iter().any(|n| n.message.contains("sent as")));
}

#[wasm_bindgen_test]
fn event_inputs_are_valid_json_whatever_the_strings() {
    use walkeros_destination_hubspot::hubspot::plan::EventInput;
    let tricky = "q\"uote \\ back\nnew\r\tline \u{1} ctl ü 日本 🙂 </script>";
    let input = EventInput {
        event_name: "pe1_x".into(),
        email: Some(tricky.into()),
        object_id: None,
        utk: Some("u".into()),
        uuid: Some(walkeros_destination_hubspot::hubspot::uuid::event_uuid(
            "e1", "x",
        )),
        occurred_at: None,
        name: "x".into(),
        types: Vec::new(),
        properties: vec![("a".into(), tricky.into()), ("b".into(), String::new())],
        spool_id: 0,
    };
    let parsed: serde_json::Value =
        serde_json::from_str(&Request::send_event(&input).body).unwrap();
    assert_eq!(parsed["email"], tricky);
    assert_eq!(parsed["properties"]["a"], tricky);
    assert_eq!(parsed["properties"]["b"], "");
    assert_eq!(parsed["utk"], "u");
    assert_eq!(
        parsed["uuid"],
        walkeros_destination_hubspot::hubspot::uuid::event_uuid("e1", "x")
    );
    assert_eq!(parsed["eventName"], "pe1_x");
    assert!(parsed.get("objectId").is_none() && parsed.get("occurredAt").is_none());
}
