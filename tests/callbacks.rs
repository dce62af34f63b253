//! Mapping functions and rule resolution, with a host written in Rust.

use std::cell::RefCell;

use walkeros_destination_hubspot::mapping::rules::{Match, RuleTable};
use walkeros_destination_hubspot::mapping::value::{Object, Value};
use walkeros_destination_hubspot::mapping::{compile, resolve_traced, Host, Threw};
use wasm_bindgen_test::wasm_bindgen_test;

/// Function `i` returns `results[i]`, or throws where that is `None`; every
/// call is recorded as (index, value, is_root).
struct Scripted {
    results: Vec<Option<Value>>,
    calls: RefCell<Vec<(u32, Value, bool)>>,
}

impl Scripted {
    fn new(results: Vec<Option<Value>>) -> Scripted {
        Scripted {
            results,
            calls: RefCell::new(Vec::new()),
        }
    }
}

impl Host for Scripted {
    fn call(
        &self,
        id: u32,
        value: &Value,
        is_root: bool,
        _: Option<&Object>,
    ) -> Result<Value, Threw> {
        self.calls.borrow_mut().push((id, value.clone(), is_root));
        self.results[id as usize].clone().ok_or(Threw)
    }
}

fn json(s: &str) -> Value {
    Value::parse_tagged(s).unwrap()
}

fn fn_marker(i: u32) -> String {
    format!("\"\\u0000fn:{i}\"")
}

#[wasm_bindgen_test]
fn fn_runs_on_the_root_and_a_key_overrides_it() {
    let host = Scripted::new(vec![Some("fn".into())]);
    let event = json(r#"{"a":1}"#);
    let m = compile(&json(&format!(r#"{{"fn":{}}}"#, fn_marker(0))));
    assert_eq!(resolve_traced(&event, &m, None, &host).value, "fn".into());
    assert_eq!(host.calls.borrow()[0], (0, event.clone(), true));
    let m = compile(&json(&format!(r#"{{"fn":{},"key":"a"}}"#, fn_marker(0))));
    assert_eq!(resolve_traced(&event, &m, None, &host).value, 1.0.into());
    assert_eq!(host.calls.borrow().len(), 2, "fn still ran");
}

#[wasm_bindgen_test]
fn a_throwing_fn_gives_undefined_and_the_fallback_applies() {
    let host = Scripted::new(vec![None]);
    let m = compile(&json(&format!(
        r#"[{{"fn":{}}},{{"value":"next"}}]"#,
        fn_marker(0)
    )));
    assert_eq!(
        resolve_traced(&json("{}"), &m, None, &host).value,
        "next".into()
    );
}

#[wasm_bindgen_test]
fn condition_false_or_throwing_skips_the_value() {
    for result in [Some(Value::Bool(false)), None] {
        let host = Scripted::new(vec![result]);
        let m = compile(&json(&format!(
            r#"{{"condition":{},"value":"fb"}}"#,
            fn_marker(0)
        )));
        assert_eq!(
            resolve_traced(&json("{}"), &m, None, &host).value,
            Value::Undefined
        );
    }
}

#[wasm_bindgen_test]
fn validate_sees_the_result_and_can_reject_it() {
    let host = Scripted::new(vec![Some(Value::Bool(false))]);
    let m = compile(&json(&format!(
        r#"{{"key":"a","validate":{},"value":"fb"}}"#,
        fn_marker(0)
    )));
    assert_eq!(
        resolve_traced(&json(r#"{"a":5}"#), &m, None, &host).value,
        "fb".into()
    );
    assert_eq!(host.calls.borrow()[0], (0, 5.0.into(), false));
}

#[wasm_bindgen_test]
fn a_non_function_option_behaves_as_a_throwing_one() {
    let host = Scripted::new(vec![]);
    let m = compile(&json(r#"{"fn":"not a function","value":"v"}"#));
    assert_eq!(
        resolve_traced(&json("{}"), &m, None, &host).value,
        "v".into()
    );
}

#[wasm_bindgen_test]
fn fn_results_are_cast_like_any_value() {
    let host = Scripted::new(vec![Some(Value::Opaque), Some(json(r#"{"a":[1,null]}"#))]);
    for i in 0..2 {
        let m = compile(&json(&format!(r#"{{"fn":{}}}"#, fn_marker(i))));
        assert_eq!(
            resolve_traced(&json("{}"), &m, None, &host).value,
            Value::Undefined
        );
    }
}

fn find(table: &str, name: &str, host: &dyn Host) -> Option<Match> {
    let table = RuleTable::compile(&json(table));
    table
        .find(&json(&format!(r#"{{"name":"{name}"}}"#)), host)
        .unwrap()
}

fn key(table: &str, name: &str) -> String {
    find(table, name, &Scripted::new(vec![]))
        .map(|m| m.key())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
fn rule_precedence() {
    let t = r#"{"*":{"*":1,"view":2},"page":{"*":3,"view":4}}"#;
    assert_eq!(key(t, "page view"), "page view");
    assert_eq!(key(t, "page click"), "page *");
    assert_eq!(key(t, "x view"), "* view");
    assert_eq!(key(t, "x y"), "* *");
    // `* action` is only tried when the entity key is absent.
    assert_eq!(
        key(r#"{"bar":{"baz":1},"*":{"action":2}}"#, "bar action"),
        ""
    );
    for bad in ["page", "", " view", "page  view"] {
        assert_eq!(key(t, bad), "", "{bad:?}");
    }
    assert_eq!(
        key(r#"{"page":{"view":1}}"#, "page toString"),
        "",
        "own keys only"
    );
}

#[wasm_bindgen_test]
fn rule_conditions_pick_the_first_match_or_fall_back() {
    let table = format!(
        r#"{{"page":{{"view":[{{"condition":{}}},{{"name":"second"}}]}},"*":{{"*":{{}}}}}}"#,
        fn_marker(0)
    );
    let no = Scripted::new(vec![Some(Value::Bool(false))]);
    let found = find(&table, "page view", &no).unwrap();
    assert_eq!(
        (found.key(), found.index),
        ("page view".to_string(), Some(1))
    );

    let all_fail = r#"{"product":{"view":[{"condition":"x"}]},"*":{"*":{}}}"#;
    let table = RuleTable::compile(&json(all_fail));
    assert!(
        table
            .find(&json(r#"{"name":"product view"}"#), &no)
            .is_err(),
        "a broken condition throws"
    );
    let table = format!(
        r#"{{"product":{{"view":[{{"condition":{}}}]}},"*":{{"*":{{}}}}}}"#,
        fn_marker(0)
    );
    assert_eq!(find(&table, "product view", &no).unwrap().key(), "* *");
}
