//! Mapping values, checked against the outputs of the published
//! @walkeros/core 4.2.1.

use walkeros_destination_hubspot::mapping::value::Value;
use walkeros_destination_hubspot::mapping::{compile, resolve_traced, NoCallbacks};
use wasm_bindgen_test::wasm_bindgen_test;

fn json(s: &str) -> Value {
    Value::parse(s).unwrap()
}

fn map(event: &str, mapping: &str) -> Value {
    resolve_traced(&json(event), &compile(&json(mapping)), None, &NoCallbacks).value
}

fn check(event: &str, mapping: &str, expected: &str) {
    assert_eq!(
        map(event, mapping).to_json(),
        expected,
        "mapping {mapping} on {event}"
    );
}

fn undefined(event: &str, mapping: &str) {
    assert_eq!(map(event, mapping), Value::Undefined, "mapping {mapping}");
}

const E: &str = r#"{"name":"entity action","data":{"string":"foo","number":1,"boolean":true,"array":[0,"text",false]},
 "context":{"dev":["test",1]},"globals":{"lang":"elb"},"user":{"id":"us3r"},
 "nested":[{"entity":"child","data":{"is":"subordinated"}}],"consent":{"functional":true}}"#;

const O: &str = r#"{"name":"order complete","data":{"id":"0rd3r1d","total":555},
 "nested":[{"entity":"product","data":{"name":"Everyday Ruck Snack","price":420}},
           {"entity":"product","data":{"name":"Cool Cap","price":42}},
           {"entity":"gift","data":{"name":"Surprise"}}]}"#;

#[wasm_bindgen_test]
fn string_paths() {
    check(E, r#""data.string""#, r#""foo""#);
    check(E, r#""context.dev""#, r#"["test",1]"#);
    check(E, r#""context.dev.0""#, r#""test""#);
    check(E, r#""nested.*.data.is""#, r#"["subordinated"]"#);
    check(E, r#""data.array.2""#, "false");
    check(E, r#""nested.length""#, "1");
    undefined(E, r#""data.string.length""#);
    undefined(E, r#""this""#);
    undefined(E, r#""data.array.01""#);
    undefined(E, r#""data.toString""#);
    check(r#"{"a":1,"b":"x"}"#, r#""""#, r#"{"a":1,"b":"x"}"#);
}

#[wasm_bindgen_test]
fn wildcard_keeps_undefined_slots() {
    assert_eq!(
        map(E, r#""data.array.*""#),
        Value::Array(vec![Value::Undefined; 3])
    );
    assert_eq!(
        map(O, r#""nested.*.data.price""#),
        Value::Array(vec![420.0.into(), 42.0.into(), Value::Undefined])
    );
}

#[wasm_bindgen_test]
fn null_anywhere_makes_undefined() {
    undefined(r#"{"a":{"b":null,"c":1}}"#, r#""a""#);
    check(r#"{"a":null}"#, r#"{"key":"a","value":"fb"}"#, r#""fb""#);
}

#[wasm_bindgen_test]
fn key_and_value() {
    check(
        r#"{"a":[{"b":1},{}]}"#,
        r#"{"key":"a.*.b","value":"d"}"#,
        r#"[1,"d"]"#,
    );
    check(E, r#"{"key":"data.string","value":"static"}"#, r#""foo""#);
    check("{}", r#"{"value":0}"#, "0");
    undefined(E, "{}");
    undefined(E, "[]");
}

#[wasm_bindgen_test]
fn fallbacks_first_defined_and_nested_first_truthy() {
    check(r#"{"a":0,"b":"x"}"#, r#"["a","b"]"#, "0");
    check(r#"{"a":0,"b":"x"}"#, r#"[["a","b"]]"#, r#""x""#);
    check(r#"{"a":"","b":0}"#, r#"[["a","b"]]"#, "0");
}

#[wasm_bindgen_test]
fn map_drops_undefined_entries() {
    check(
        E,
        r#"{"map":{"a":{"value":"x"},"b":"nope","c":{"value":0}}}"#,
        r#"{"a":"x","c":0}"#,
    );
    check(
        E,
        r#"{"key":"data","map":{"a":"string","b":"data.string"}}"#,
        r#"{"b":"foo"}"#,
    );
}

#[wasm_bindgen_test]
fn set_keeps_every_result() {
    assert_eq!(
        map(E, r#"{"set":["data.string","nope",{"value":1}]}"#),
        Value::Array(vec!["foo".into(), Value::Undefined, 1.0.into()])
    );
}

#[wasm_bindgen_test]
fn loops() {
    check(
        O,
        r#"{"loop":["nested","data.name"]}"#,
        r#"["Everyday Ruck Snack","Cool Cap","Surprise"]"#,
    );
    check(O, r#"{"loop":["nested",{"key":"data.price"}]}"#, "[420,42]");
    check(
        E,
        r#"{"loop":["this",{"key":"name"}]}"#,
        r#"["entity action"]"#,
    );
    check(
        r#"{"arr":[1,"foo",false]}"#,
        r#"{"loop":["arr",""]}"#,
        r#"[1,"foo",false]"#,
    );
    check(r#"{"a":"x"}"#, r#"{"loop":["a","b"]}"#, r#"{"a":"x"}"#);
    // loop wins over map.
    check(
        r#"{"a":[1,2]}"#,
        r#"{"loop":["a",""],"map":{"x":{"value":1}}}"#,
        "[1,2]",
    );
}

#[wasm_bindgen_test]
fn consent_on_values() {
    let granted = r#"{"foo":"bar","consent":{"collectorLevel":true}}"#;
    check(
        granted,
        r#"{"key":"foo","consent":{"collectorLevel":true}}"#,
        r#""bar""#,
    );
    undefined(
        r#"{"foo":"bar","consent":{"collectorLevel":false}}"#,
        r#"{"key":"foo","consent":{"collectorLevel":true}}"#,
    );
    undefined(
        r#"{"foo":"bar","consent":{}}"#,
        r#"{"key":"foo","consent":{"collectorLevel":true}}"#,
    );
    check(
        granted,
        r#"{"key":"foo","consent":{"marketing":true},"value":"denied"}"#,
        r#""denied""#,
    );
    // Any one granted key is enough.
    check(
        granted,
        r#"{"key":"foo","consent":{"marketing":true,"collectorLevel":true}}"#,
        r#""bar""#,
    );
}

#[wasm_bindgen_test]
fn malformed_shapes_give_undefined_and_fall_through() {
    undefined(E, "null");
    undefined(E, "42");
    check(E, r#"[null, "data.string"]"#, r#""foo""#);
    check(E, r#"[{"key":5}, "data.number"]"#, "1");
}

#[wasm_bindgen_test]
fn read_keys_name_the_top_level_fields_a_mapping_reads() {
    let reads = |m: &str| {
        let mut keys = Vec::new();
        compile(&json(m)).read_keys(&mut keys);
        keys
    };
    assert_eq!(
        reads(r#"{"map":{"a":"data.x.y","b":["user.email",{"key":"data"}]}}"#),
        ["data", "user"]
    );
    assert_eq!(reads(r#"{"loop":["nested","data.name"]}"#), ["nested"]);
    assert_eq!(reads(r#"{"loop":["this","user.id"]}"#), ["user"]);
    assert_eq!(
        reads(r#""*.b""#),
        ["*"],
        "the event is an object: * is a key"
    );
    assert_eq!(
        reads(r#"{"fn":"\u0000fn:0"}"#),
        Vec::<String>::new(),
        "functions get the caller's own event"
    );
}

#[wasm_bindgen_test]
fn taking_the_input_itself_is_reported() {
    let partial = json(r#"{"user":{"id":1}}"#);
    let took =
        |m: &str| resolve_traced(&partial, &compile(&json(m)), None, &NoCallbacks).took_input;
    assert!(
        took(r#"{"loop":["nested","data.name"]}"#),
        "the loop scope is missing, so walkerOS returns the whole event"
    );
    assert!(took(r#"{"map":{"all":{"key":""}}}"#));
    assert!(!took(r#"{"map":{"a":"user.id"}}"#));
    assert!(
        !took(r#"{"key":"user"}"#),
        "a part of the input is not all of it"
    );
}
