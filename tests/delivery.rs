//! The order and outcome of requests, over a scripted transport.

use std::cell::RefCell;
use std::collections::VecDeque;

use walkeros_destination_hubspot::destination::{self, Core, Response, Transport};
use walkeros_destination_hubspot::error::Level;
use walkeros_destination_hubspot::http::{Request, SEND_BATCH_PATH, SEND_PATH, UPSERT_PATH};
use walkeros_destination_hubspot::mapping::{Host, NoCallbacks};
use walkeros_destination_hubspot::settings::Settings;
use walkeros_destination_hubspot::value::Value;
use wasm_bindgen_test::wasm_bindgen_test;

#[derive(Default)]
struct Scripted {
    answers: RefCell<VecDeque<(u16, &'static str)>>,
    seen: RefCell<Vec<Request>>,
}

impl Scripted {
    fn answer(self, status: u16, body: &'static str) -> Self {
        self.answers.borrow_mut().push_back((status, body));
        self
    }

    fn paths(&self) -> Vec<&'static str> {
        self.seen.borrow().iter().map(|r| r.path).collect()
    }
}

const UPSERTED: &str = r#"{"status":"COMPLETE","results":[{"id":"1","new":true}]}"#;

impl Transport for Scripted {
    async fn send(&self, request: &Request) -> Response {
        self.seen.borrow_mut().push(request.clone());
        let default = if request.path == UPSERT_PATH {
            (200, UPSERTED)
        } else {
            (204, "")
        };
        let (status, body) = self.answers.borrow_mut().pop_front().unwrap_or(default);
        if status == 0 {
            return Response::Network("connection reset".into());
        }
        Response::Status(status, body.to_string())
    }
}

async fn push(core: &RefCell<Core>, t: &Scripted, event: &Value) -> destination::Report {
    destination::push(
        core,
        t,
        event,
        None,
        &Value::Undefined,
        &NoCallbacks,
        &|| None,
    )
    .await
}

fn core(extra: &str) -> RefCell<Core> {
    let json = format!(
        r#"{{"accessToken":"t","eventNamePrefix":"pe1_","identify":{{"map":{{"email":"user.email","properties":{{"map":{{"firstname":"user.name"}}}}}}}}{extra}}}"#
    );
    RefCell::new(Core::new(Settings::parse(&json).unwrap()))
}

fn event(email: &str, name: &str) -> Value {
    Value::parse(&format!(
        r#"{{"name":"page view","user":{{"email":"{email}","name":"{name}"}}}}"#
    ))
    .unwrap()
}

#[wasm_bindgen_test]
async fn upsert_goes_before_its_event_and_is_not_repeated() {
    let core = core("");
    let t = Scripted::default();
    let r = push(&core, &t, &event("a@x.y", "A")).await;
    assert!(r.error.is_none() && r.notices.is_empty(), "{r:?}");
    push(&core, &t, &event("a@x.y", "A")).await;
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_PATH, SEND_PATH]);
    let upsert = &t.seen.borrow()[0];
    assert_eq!(
        upsert.body,
        r#"{"inputs":[{"id":"a@x.y","idProperty":"email","objectWriteTraceId":"0","properties":{"firstname":"A"}}]}"#
    );
}

#[wasm_bindgen_test]
async fn a_failed_upsert_never_blocks_the_event_and_is_retried() {
    let core = core("");
    let t = Scripted::default().answer(500, r#"{"message":"boom"}"#);
    let r = push(&core, &t, &event("a@x.y", "A")).await;
    assert!(r.error.is_none());
    assert!(r.notices[0].message.contains("contact upsert"), "{r:?}");
    assert!(r.notices[0].message.contains("boom"));
    push(&core, &t, &event("a@x.y", "A")).await;
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_PATH, UPSERT_PATH, SEND_PATH]);
}

#[wasm_bindgen_test]
async fn an_upsert_answer_that_wrote_nothing_is_a_failure() {
    let core = core("");
    let t = Scripted::default().answer(200, r#"{"status":"COMPLETE","results":[]}"#);
    let r = push(&core, &t, &event("a@x.y", "A")).await;
    assert!(r.notices[0].message.contains("wrote no contact"), "{r:?}");
}

#[wasm_bindgen_test]
async fn a_rejected_single_event_is_an_error_for_the_collector() {
    let core = core("");
    let t = Scripted::default().answer(200, UPSERTED).answer(
        400,
        r#"{"message":"bad property","correlationId":"c-1","category":"VALIDATION_ERROR"}"#,
    );
    let r = push(&core, &t, &event("a@x.y", "A")).await;
    let error = r.error.unwrap();
    assert!(error.contains("\"page view\" was not delivered"), "{error}");
    assert!(
        error.contains("400 (VALIDATION_ERROR): bad property [correlationId c-1]"),
        "{error}"
    );
}

#[wasm_bindgen_test]
async fn batches_go_out_at_size_and_the_rest_on_flush() {
    let core = core(r#","batch":true,"batchSize":2"#);
    let t = Scripted::default();
    for _ in 0..3 {
        push(&core, &t, &event("a@x.y", "A")).await;
    }
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_BATCH_PATH]);
    assert_eq!(core.borrow().queued(), 1);
    let mut notices = Vec::new();
    destination::flush(&core, &t, true, &mut notices).await;
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_BATCH_PATH, SEND_BATCH_PATH]);
    assert_eq!(core.borrow().queued(), 0);
    assert!(notices.is_empty());
}

#[wasm_bindgen_test]
async fn a_retryable_batch_failure_keeps_the_events_queued() {
    let core = core(r#","batch":true,"batchSize":2"#);
    let t = Scripted::default()
        .answer(200, UPSERTED)
        .answer(0, "")
        .answer(503, "");
    let mut notices = Vec::new();
    for _ in 0..2 {
        push(&core, &t, &event("a@x.y", "A")).await;
    }
    assert_eq!(core.borrow().queued(), 2, "network failure: still queued");
    destination::flush(&core, &t, true, &mut notices).await;
    assert_eq!(core.borrow().queued(), 2, "503: still queued");
    assert!(notices[0].message.contains("stays queued"));
    destination::flush(&core, &t, true, &mut notices).await;
    assert_eq!(core.borrow().queued(), 0);
    let batches: Vec<String> = t
        .seen
        .borrow()
        .iter()
        .skip(1)
        .map(|r| r.body.clone())
        .collect();
    assert_eq!(batches.len(), 3);
    assert!(
        batches.iter().all(|b| b == &batches[0]),
        "the same events were sent each time"
    );
}

#[wasm_bindgen_test]
async fn collector_batches_merge_upserts_per_email_and_report_failures_by_index() {
    let core = core("");
    let t = Scripted::default()
        .answer(200, UPSERTED)
        .answer(400, r#"{"message":"bad"}"#);
    let entries = vec![
        (event("a@x.y", "A"), None, Value::Undefined),
        (event("A@x.y", "Ann"), None, Value::Undefined),
        (
            Value::parse(r#"{"name":"page view","user":{}}"#).unwrap(),
            None,
            Value::Undefined,
        ),
    ];
    let r = destination::push_batch(&core, &t, &entries, &|_| -> Box<dyn Host> {
        Box::new(NoCallbacks)
    })
    .await;
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_BATCH_PATH]);
    assert_eq!(
        t.seen.borrow()[0].body,
        r#"{"inputs":[{"id":"a@x.y","idProperty":"email","objectWriteTraceId":"0","properties":{"firstname":"Ann"}}]}"#
    );
    let failed: Vec<usize> = r.failed.iter().map(|(i, _)| *i).collect();
    assert_eq!(
        failed,
        [0, 1],
        "the event without identity was skipped, not failed"
    );
    assert!(r.failed[0].1.contains("bad"));
    let warnings = r.notices.iter().filter(|n| n.level == Level::Warn).count();
    assert_eq!(warnings, 1, "one warning for the event without identity");
}

#[wasm_bindgen_test]
async fn batch_mode_queues_upserts_and_sends_them_before_the_events() {
    let core = core(r#","batch":true,"batchSize":3"#);
    let t = Scripted::default();
    for (email, name) in [("a@x.y", "A"), ("b@x.y", "B"), ("a@x.y", "A")] {
        push(&core, &t, &event(email, name)).await;
    }
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_BATCH_PATH]);
    let upsert = &t.seen.borrow()[0].body;
    assert!(
        upsert.contains("a@x.y") && upsert.contains("b@x.y"),
        "{upsert}"
    );
}

#[wasm_bindgen_test]
async fn a_partly_failed_upsert_forgets_only_the_contacts_that_failed() {
    let core = core(r#","batch":true,"batchSize":2"#);
    let partial = r#"{"status":"COMPLETE","results":[{"id":"1"}],"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"Email address b@x.y is invalid","context":{"objectWriteTraceId":["1"]}}]}"#;
    let t = Scripted::default().answer(207, partial);
    push(&core, &t, &event("a@x.y", "A")).await;
    let r = push(&core, &t, &event("b@x.y", "B")).await;
    assert!(
        r.notices[0]
            .message
            .contains("b@x.y: Email address b@x.y is invalid"),
        "{r:?}"
    );
    assert!(r.notices[0].message.contains("1 of 2"), "{r:?}");
    // a is remembered; b is retried with its next event.
    push(&core, &t, &event("a@x.y", "A")).await;
    push(&core, &t, &event("b@x.y", "B")).await;
    let upserts: Vec<String> = t
        .seen
        .borrow()
        .iter()
        .filter(|r| r.path == UPSERT_PATH)
        .map(|r| r.body.clone())
        .collect();
    assert_eq!(upserts.len(), 2);
    assert!(upserts[1].contains("b@x.y") && !upserts[1].contains("a@x.y"));
}
