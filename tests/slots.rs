//! Events as the shell hands them over (src/slots.rs; the shell's writer is
//! tested against the same format in tests/node/config.test.js).

use walkeros_destination_hubspot::destination::Core;
use walkeros_destination_hubspot::direct::Direct;
use walkeros_destination_hubspot::settings::Settings;
use walkeros_destination_hubspot::slots::{entries, read_entry, Entry};
use walkeros_destination_hubspot::value::Value;
use wasm_bindgen_test::wasm_bindgen_test;

fn core() -> Core {
    let settings = Settings::parse(r#"{"accessToken":"t","eventNamePrefix":"pe1_"}"#).unwrap();
    let mut core = Core::new(settings, 1);
    let rule = Value::parse(
        r#"{"settings":{"properties":{"map":{"total":"data.total","id":"data.id"}}}}"#,
    )
    .unwrap();
    core.add_rule(&rule, "mapping.order.complete").unwrap();
    core
}

fn json(text: &str) -> Value {
    Value::parse(text).unwrap()
}

#[wasm_bindgen_test]
fn the_order_form_keeps_the_projection_and_its_order() {
    let core = core();
    let order = core.projection_of(Some(0)).unwrap().to_order_json();
    assert_eq!(
        order,
        r#"[[["name",1],["id",1],["timestamp",1],["user",[[["email",1]],null]],["data",[[["total",1],["id",1]],null]]],null]"#
    );
    assert!(
        core.projection_of(Some(7)).is_none(),
        "an unknown rule has none"
    );
}

#[wasm_bindgen_test]
fn the_consent_is_handed_over_only_where_a_mapping_asks_for_some() {
    let mut core = core();
    for rule in [
        r#"{"settings":{"properties":{"map":{"x":{"key":"data.x","consent":{"marketing":true}}}}}}"#,
        r#"{"settings":{"properties":{"map":{"items":{"key":"nested","loop":["this",{"key":"data.id","consent":{"analytics":true}}]}}}}}"#,
    ] {
        let id = core.add_rule(&json(rule), "mapping.x.y").unwrap();
        let order = core.projection_of(Some(id)).unwrap().to_order_json();
        assert!(order.contains(r#"["consent",1]"#), "{rule}: {order}");
    }
    let order = core.projection_of(Some(0)).unwrap().to_order_json();
    assert!(!order.contains("consent"), "{order}");
}

#[wasm_bindgen_test]
fn an_entry_becomes_the_cut_down_event_and_its_data() {
    let core = core();
    let projection = core.projection_of(Some(0));
    // name, id absent, timestamp; user absent; data: total, id absent.
    let entry = json(r#"["dovavaova",{"x":1},"order complete",1700000000000,12.5]"#);
    let (event, data) = read_entry(entry, projection, &mut std::iter::empty()).unwrap();
    assert_eq!(data, json(r#"{"x":1}"#));
    assert_eq!(
        event,
        json(r#"{"name":"order complete","timestamp":1700000000000,"data":{"total":12.5}}"#)
    );
    // A part that is not an object comes whole.
    let entry = json(r#"["-ovaavv","page view","no user",[1,2]]"#);
    let (event, data) = read_entry(entry, projection, &mut std::iter::empty()).unwrap();
    assert!(data.is_undefined());
    assert_eq!(
        event,
        json(r#"{"name":"page view","user":"no user","data":[1,2]}"#)
    );
    // Without a projection the entry holds the whole event.
    let entry = json(r#"["-v",{"name":"page view","deep":{"a":[1]}}]"#);
    let (event, _) = read_entry(entry, None, &mut std::iter::empty()).unwrap();
    assert_eq!(event, json(r#"{"name":"page view","deep":{"a":[1]}}"#));
}

#[wasm_bindgen_test]
fn an_entry_that_does_not_fit_its_projection_is_refused() {
    let core = core();
    let projection = core.projection_of(Some(0));
    for (entry, message) in [
        (r#"{"not":"an array"}"#, "an entry must be an array"),
        (r#"[1]"#, "an entry must start with its shape"),
        (r#"["xv",1]"#, "an entry's shape must start with d or -"),
        (r#"["-ov","a"]"#, "an entry's shape ends early"),
        (r#"["-v"]"#, "an entry has fewer values than its shape"),
        (r#"["-v",1,2]"#, "an entry's shape and values do not match"),
        (r#"["-vv",1,2]"#, "an entry's shape and values do not match"),
        (r#"["-oq"]"#, "an entry's shape has an unknown step"),
    ] {
        assert_eq!(
            read_entry(json(entry), projection, &mut std::iter::empty()),
            Err(message),
            "{entry}"
        );
    }
    assert_eq!(
        read_entry(json(r#"["-o"]"#), None, &mut std::iter::empty()),
        Err("an entry's shape has an object where its projection has none")
    );
}

#[wasm_bindgen_test]
fn numbers_come_beside_the_entry_in_order() {
    let core = core();
    let projection = core.projection_of(Some(0));
    let mut numbers = [1700000000000.0, -0.0, 5.22, 99.0].into_iter();
    // timestamp and data.total are numbers; data.id too in the second.
    let (event, _) = read_entry(json(r#"["-ovanaona","a b"]"#), projection, &mut numbers).unwrap();
    assert_eq!(
        event,
        json(r#"{"name":"a b","timestamp":1700000000000,"data":{"total":0}}"#)
    );
    assert!(
        matches!(event.get("data").and_then(|d| d.get("total")), Some(Value::Number(n)) if n.is_sign_positive()),
        "-0 becomes 0, as it would in JSON"
    );
    let (event, _) = read_entry(json(r#"["-ovaaaonn","c d"]"#), projection, &mut numbers).unwrap();
    assert_eq!(
        event,
        json(r#"{"name":"c d","data":{"total":5.22,"id":99}}"#)
    );
    assert_eq!(
        read_entry(json(r#"["-ovaaaonn","e f"]"#), projection, &mut numbers),
        Err("an entry has fewer numbers than its shape")
    );
}

#[wasm_bindgen_test]
fn plain_paths_are_read_from_their_place_in_the_entry() {
    use walkeros_destination_hubspot::mapping::Path;
    let core = core();
    let projection = core.projection_of(Some(0)).unwrap();
    // name 0, id 1, timestamp 2, user 3 (email 4), data 5 (total 6, id 7).
    assert_eq!(projection.node_count(), 8);
    assert_eq!(projection.leaf_number(&Path::new("user.email")), Some(4));
    assert_eq!(projection.leaf_number(&Path::new("data.id")), Some(7));
    assert_eq!(
        projection.leaf_number(&Path::new("data")),
        None,
        "not whole"
    );
    assert_eq!(projection.leaf_number(&Path::new("consent.x")), None);
    let direct = core.direct_of(Some(0)).expect("plain paths only");
    let read = |entry: &str, numbers: &mut std::iter::Copied<std::slice::Iter<f64>>| {
        let bytes = bytes_of(entry);
        let found = entries(&bytes).unwrap();
        assert_eq!(found.len(), 1);
        direct
            .leaves(&found[0], projection, numbers)
            .map(|leaves| Direct::values(leaves).expect("values that read"))
    };
    let mut numbers = [1.0, 2.5].iter().copied();
    let leaves = read(r#"["-ovvnovonv","a b","i","u@x.y","d-1"]"#, &mut numbers).unwrap();
    assert_eq!(numbers.len(), 0, "both numbers taken");
    assert_eq!(
        leaves,
        [
            json(r#""a b""#),
            json(r#""i""#),
            Value::Number(1.0),
            Value::Undefined,
            json(r#""u@x.y""#),
            Value::Undefined,
            Value::Number(2.5),
            json(r#""d-1""#),
        ]
    );
    // An array where a path goes through, mapped data, or a bad entry: the
    // general way reads it (and says what is wrong with a bad one), with
    // the numbers as they were.
    for entry in [
        r#"["-ovvnovv","a b","i","u@x.y",[1]]"#,
        r#"["dovvnovonv",{},"a b","i","u@x.y","d-1"]"#,
        r#"["-ovvnovon","a b","i","u@x.y"]"#,
        r#"["-ovvnovonvv","a b","i","u@x.y","d-1","one too many"]"#,
        r#"["-ovvnovonx","a b","i","u@x.y"]"#,
        r#"["-ovvnovonn","a b","i","u@x.y"]"#,
    ] {
        let mut numbers = [1.0, 2.5].iter().copied();
        assert!(read(entry, &mut numbers).is_none(), "{entry}");
        assert_eq!(numbers.len(), 2, "{entry}");
    }
    // An array where nothing goes further is a value like any other.
    let leaves = read(
        r#"["-ovvnovonv","a b","i",["u@x.y"],"d-1"]"#,
        &mut [1.0, 2.5].iter().copied(),
    );
    assert_eq!(leaves.unwrap()[4], json(r#"["u@x.y"]"#));
    // A value that is not what its tag says: not read here, and the general
    // way refuses it with where.
    let mut bytes = bytes_of(r#"["-ovvnovonv","a b","i","u@x.y","d-1"]"#);
    let at = bytes.iter().position(|&b| b == b'@').unwrap();
    bytes[at] = 0xff;
    let found = entries(&bytes).unwrap();
    let mut numbers = [1.0, 2.5].iter().copied();
    assert!(direct.leaves(&found[0], projection, &mut numbers).is_none());
    assert_eq!(numbers.len(), 2);
    assert!(found[0].read().unwrap_err().contains("is not UTF-8"));
}

/// The bytes of entries written as JSON (`[shape, ...values]`), as the
/// shell would write them.
fn bytes_of(entry: &str) -> Vec<u8> {
    let Value::Array(items) = json(entry) else {
        panic!("an entry is an array")
    };
    let Some((Value::String(shape), values)) = items.split_first() else {
        panic!("an entry starts with its shape")
    };
    let mut out = Vec::new();
    for value in values {
        match value {
            Value::String(text) => out.extend(record(b's', text)),
            Value::Bool(true) => out.push(b't'),
            Value::Bool(false) => out.push(b'f'),
            Value::Null => out.push(b'z'),
            other => out.extend(record(b'j', &other.to_json())),
        }
    }
    entry_bytes(shape, &out)
}

/// Every entry of `bytes`, each as `[shape, ...values]`.
fn decode(bytes: &[u8]) -> Result<Vec<Value>, String> {
    entries(bytes)?.iter().map(Entry::read).collect()
}

/// One entry as the shell writes it: its values' bytes after their length,
/// then its shape after its own.
fn entry_bytes(shape: &str, values: &[u8]) -> Vec<u8> {
    let mut out = (values.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(values);
    out.extend_from_slice(&(shape.len() as u32).to_le_bytes());
    out.extend_from_slice(shape.as_bytes());
    out
}

fn record(tag: u8, text: &str) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

#[wasm_bindgen_test]
fn entries_are_read_from_their_bytes() {
    let mut values = record(b's', "a \"b\" é 😀");
    values.extend_from_slice(b"tfz");
    values.extend(record(b'j', r#"{"x":[1,"y"]}"#));
    values.extend(record(b's', ""));
    let mut bytes = entry_bytes("-ovvvvvv", &values);
    bytes.extend(entry_bytes("-a", &[]));
    assert_eq!(
        decode(&bytes).unwrap(),
        [
            json(r#"["-ovvvvvv","a \"b\" é 😀",true,false,null,{"x":[1,"y"]},""]"#),
            json(r#"["-a"]"#),
        ]
    );
    assert_eq!(decode(&[]).unwrap(), Vec::<Value>::new());
}

#[wasm_bindgen_test]
fn bytes_that_are_not_entries_are_refused_with_where() {
    let good = entry_bytes("-ov", &record(b's', "x"));
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            good[..good.len() - 1].to_vec(),
            "entries end early at byte 14",
        ),
        (good[..3].to_vec(), "entries end early at byte 0"),
        (entry_bytes("-v", b"q"), "an unknown value tag at byte 4"),
        (
            entry_bytes("-v", &record(b's', "x")[..3]),
            "entries end early at byte 5",
        ),
        (
            entry_bytes("-v", &[b's', 1, 0, 0, 0, 0xff]),
            "a string at byte 9 of the entries is not UTF-8",
        ),
        (
            entry_bytes("-v", &record(b'j', "{")),
            "expected a key (in the value at byte 4 of the entries, at its byte 1)",
        ),
    ];
    for (bytes, message) in cases {
        let error = decode(&bytes).unwrap_err();
        assert!(
            error.starts_with(message),
            "{error:?} should say {message:?}"
        );
    }
}
