//! The JSON reader the shell's hand-over goes through.

use walkeros_destination_hubspot::json_parse::parse;
use walkeros_destination_hubspot::value::Value;
use wasm_bindgen_test::wasm_bindgen_test;

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

#[wasm_bindgen_test]
fn objects_keep_their_key_order_and_every_kind_of_value() {
    let value =
        parse(r#" { "z": 1, "a": [true, false, null, "x", {}], "m": { "n": -2.5e-3 }, "e": [] } "#)
            .unwrap();
    assert_eq!(
        value,
        Value::Object(vec![
            ("z".into(), Value::Number(1.0)),
            (
                "a".into(),
                Value::Array(vec![
                    Value::Bool(true),
                    Value::Bool(false),
                    Value::Null,
                    s("x"),
                    Value::Object(vec![]),
                ])
            ),
            (
                "m".into(),
                Value::Object(vec![("n".into(), Value::Number(-0.0025))])
            ),
            ("e".into(), Value::Array(vec![])),
        ])
    );
}

#[wasm_bindgen_test]
fn a_duplicate_key_is_kept_and_the_last_one_is_read() {
    let value = parse(r#"{"a":1,"a":2}"#).unwrap();
    assert_eq!(value.get("a"), Some(&Value::Number(2.0)));
}

#[wasm_bindgen_test]
fn numbers_read_as_json_parse_reads_them() {
    for (text, expected) in [
        ("0", 0.0),
        ("5.22", 5.22),
        ("73.76", 73.76),
        ("1700000000000", 1_700_000_000_000.0),
        ("1e21", 1e21),
        ("1E+2", 100.0),
        ("0.1", 0.1),
        ("9007199254740993", 9_007_199_254_740_992.0),
        ("1.7976931348623157e308", f64::MAX),
        ("5e-324", 5e-324),
    ] {
        assert_eq!(parse(text), Ok(Value::Number(expected)), "{text}");
    }
    let Ok(Value::Number(minus_zero)) = parse("-0") else {
        panic!("-0 is a number")
    };
    assert!(minus_zero == 0.0 && minus_zero.is_sign_negative());
}

#[wasm_bindgen_test]
fn escapes_are_decoded() {
    assert_eq!(
        parse(r#""q\" b\\ s\/ \b\f\n\r\t \u00e9 \u20ac \ud83d\ude00 end""#),
        Ok(s("q\" b\\ s/ \u{8}\u{c}\n\r\t é € 😀 end"))
    );
    assert_eq!(parse(r#""plain ünïcödé 😀""#), Ok(s("plain ünïcödé 😀")));
}

#[wasm_bindgen_test]
fn a_lone_surrogate_becomes_the_replacement_character_instead_of_an_error() {
    // JSON.stringify writes half of a cut emoji this way.
    assert_eq!(parse(r#""cut \ud83d""#), Ok(s("cut \u{FFFD}")));
    assert_eq!(parse(r#""\ude00 low""#), Ok(s("\u{FFFD} low")));
    assert_eq!(parse(r#""\ud83d\u0041""#), Ok(s("\u{FFFD}A")));
    assert_eq!(parse(r#""\ud83d\ud83d\ude00""#), Ok(s("\u{FFFD}😀")));
}

#[wasm_bindgen_test]
fn what_is_not_json_is_refused_with_the_place() {
    for (text, message) in [
        ("", "unexpected end of the text"),
        ("{", "expected a key"),
        (r#"{"a" 1}"#, "expected ':'"),
        (r#"{"a":1,}"#, "expected a key"),
        ("[1 2]", "expected ',' or ']'"),
        ("[1,]", "expected a JSON value"),
        (r#""open"#, "unterminated string"),
        ("\"a\u{1}b\"", "control character in a string"),
        (r#""\x""#, "invalid escape in a string"),
        (r#""\u12""#, "invalid \\u escape"),
        ("01", "unexpected text after the JSON value"),
        ("-", "invalid number"),
        ("1.", "invalid number"),
        ("1e", "invalid number"),
        ("tru", "expected a JSON value"),
        ("undefined", "expected a JSON value"),
        ("{} {}", "unexpected text after the JSON value"),
    ] {
        let error = parse(text).expect_err(text);
        assert_eq!(error.message, message, "{text:?}");
    }
    assert_eq!(
        parse("[1, x]").unwrap_err().to_string(),
        "expected a JSON value at byte 4"
    );
}

#[wasm_bindgen_test]
fn deep_nesting_is_refused_instead_of_overflowing_the_stack() {
    let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
    assert_eq!(parse(&deep).unwrap_err().message, "nested too deeply");
    let fine = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(parse(&fine).is_ok());
}
