//! Events written straight into HubSpot JSON from their values
//! (src/straight.rs): the same JSON planning writes, and planning wherever
//! it has something to say. tests/node/direct.test.js compares the two ways
//! end to end over random events.

use walkeros_destination_hubspot::destination::Core;
use walkeros_destination_hubspot::direct::{Direct, Leaf};
use walkeros_destination_hubspot::mapping::Path;
use walkeros_destination_hubspot::settings::Settings;
use walkeros_destination_hubspot::slots::Raw;
use walkeros_destination_hubspot::value::Value;
use wasm_bindgen_test::wasm_bindgen_test;

const RULE: &str = r#"{"settings":{"eventName":"purchase","properties":{"map":{"order_id":"data.id","revenue":"data.total","paid":"data.paid"}}}}"#;

fn core(settings: &str, rule: &str) -> (Core, usize) {
    let settings = Settings::parse(&format!(
        r#"{{"accessToken":"t","eventNamePrefix":"pe1_"{settings}}}"#
    ))
    .unwrap();
    let mut core = Core::new(settings, 1);
    let id = core
        .add_rule(&Value::parse(rule).unwrap(), "mapping.order.complete")
        .unwrap();
    (core, id)
}

/// Leaves by path, the rest absent.
fn leaves<'a>(core: &Core, rule: usize, values: &[(&str, Leaf<'a>)]) -> Vec<Leaf<'a>> {
    let projection = core.projection_of(Some(rule)).unwrap();
    let mut leaves = vec![Leaf::Absent; projection.node_count()];
    for (path, leaf) in values {
        leaves[projection.leaf_number(&Path::new(path)).unwrap()] = *leaf;
    }
    leaves
}

/// What the straight way writes, and what planning sends, for one event.
fn both(core: &Core, rule: usize, values: &[(&str, Leaf)]) -> (Option<String>, Option<String>) {
    let direct: &Direct = core.direct_of(Some(rule)).unwrap();
    let leaves = leaves(core, rule, values);
    let straight = direct.straight().unwrap().write(&leaves);
    let planned = Direct::values(leaves).unwrap();
    let plan = core.plan_leaves(planned, Some(rule));
    (straight, plan.send.map(|input| input.to_json()))
}

fn s(text: &str) -> Leaf<'_> {
    Leaf::Raw(Raw::Str(text))
}

#[wasm_bindgen_test]
fn the_usual_event_is_written_as_planning_would() {
    let (core, rule) = core("", RULE);
    let usual = [
        ("name", s("order complete")),
        ("id", s("e1")),
        ("timestamp", Leaf::Number(1_700_000_000_000.0)),
        ("user.email", s(" q\"uote@example.com ")),
        ("data.id", s("ord-1 ü \n")),
        ("data.total", Leaf::Number(5.22)),
        ("data.paid", Leaf::Raw(Raw::Bool(true))),
    ];
    let (straight, planned) = both(&core, rule, &usual);
    assert!(straight.is_some());
    assert_eq!(straight, planned);
    assert_eq!(
        straight.unwrap(),
        format!(
            r#"{{"eventName":"pe1_purchase","email":"q\"uote@example.com","uuid":"{}","occurredAt":"2023-11-14T22:13:20.000Z","properties":{{"order_id":"ord-1 ü \n","revenue":"5.22","paid":"true"}}}}"#,
            walkeros_destination_hubspot::uuid::event_uuid("e1", "order complete")
        )
    );

    // Absent and null properties, a numeric email, no id, no timestamp.
    let sparse = [
        ("name", s("order complete")),
        ("user.email", Leaf::Number(42.0)),
        ("data.total", Leaf::Raw(Raw::Null)),
    ];
    let (straight, planned) = both(&core, rule, &sparse);
    assert!(straight.is_some());
    assert_eq!(straight, planned);
}

#[wasm_bindgen_test]
fn events_planning_reports_on_are_left_to_it() {
    let (core, rule) = core("", RULE);
    let base = [("name", s("order complete")), ("user.email", s("a@b.c"))];
    let cases: Vec<Vec<(&str, Leaf)>> = vec![
        // No name, no identity.
        vec![("user.email", s("a@b.c"))],
        vec![("name", s("order complete")), ("user.email", s("  "))],
        // A timestamp that is not a time.
        [&base[..], &[("timestamp", s("yesterday"))]].concat(),
        [&base[..], &[("timestamp", Leaf::Number(1e20))]].concat(),
        // A property that planning casts (an array) or a value as JSON.
        [
            &base[..],
            &[(
                "data.id",
                Leaf::Raw(Raw::Json {
                    text: "[1,2]",
                    at: 0,
                }),
            )],
        ]
        .concat(),
    ];
    for values in cases {
        let (straight, _) = both(&core, rule, &values);
        assert_eq!(straight, None, "{values:?}");
    }
}

#[wasm_bindgen_test]
fn a_name_from_the_event_is_written_only_where_it_needs_no_change() {
    let (core, rule) = core(
        r#","defaultProperties":{"tier":"gold"}"#,
        r#"{"settings":{"properties":{"map":{"order_id":"data.id"}}}}"#,
    );
    let event = [("name", s("order complete")), ("user.email", s("a@b.c"))];
    let (straight, planned) = both(&core, rule, &event);
    assert_eq!(straight, planned);
    assert_eq!(
        straight.unwrap(),
        r#"{"eventName":"pe1_order_complete","email":"a@b.c","properties":{"tier":"gold"}}"#
    );
    // Renamed with a warning: planning's.
    let (straight, planned) = both(
        &core,
        rule,
        &[("name", s("Order Complete!")), ("user.email", s("a@b.c"))],
    );
    assert_eq!(straight, None);
    assert!(planned.is_some());
}

#[wasm_bindgen_test]
fn rules_planning_always_has_more_to_say_about_are_not_written_straight() {
    for (settings, rule) in [
        ("", r#"{"ignore":true}"#),
        ("", r#"{"silent":true}"#),
        // Renamed or colliding properties, defaults a mapping also sets.
        (
            "",
            r#"{"settings":{"properties":{"map":{"Order Id":"data.id"}}}}"#,
        ),
        (
            r#","defaultProperties":{"order_id":"x"}"#,
            r#"{"settings":{"properties":{"map":{"order_id":"data.id"}}}}"#,
        ),
    ] {
        let (core, id) = core(settings, rule);
        let direct = core.direct_of(Some(id)).unwrap();
        assert!(direct.straight().is_none(), "{settings} {rule}");
    }
    let (core, id) = core("", RULE);
    assert!(core.direct_of(Some(id)).unwrap().straight().is_some());
}
