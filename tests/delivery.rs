//! The order and outcome of requests, over a scripted transport.

use std::cell::RefCell;
use std::collections::VecDeque;

use walkeros_destination_hubspot::config::settings::Settings;
use walkeros_destination_hubspot::delivery::core::{
    self, Core, Headers, Report, Response, Transport,
};
use walkeros_destination_hubspot::error::Level;
use walkeros_destination_hubspot::hubspot::api::{
    Request, SEND_BATCH_PATH, SEND_PATH, UPSERT_PATH,
};
use walkeros_destination_hubspot::hubspot::oauth::TokenRequest;
use walkeros_destination_hubspot::mapping::value::Value;
use walkeros_destination_hubspot::mapping::NoCallbacks;
use wasm_bindgen_test::wasm_bindgen_test;

#[derive(Default)]
struct Scripted {
    answers: RefCell<VecDeque<(u16, &'static str, Option<u32>)>>,
    seen: RefCell<Vec<Request>>,
    /// Milliseconds past the start of the test's clock.
    elapsed: std::cell::Cell<f64>,
}

impl Scripted {
    fn answer(self, status: u16, body: &'static str) -> Self {
        self.answers.borrow_mut().push_back((status, body, None));
        self
    }

    fn answer_with(self, status: u16, body: &'static str, retry_after_ms: u32) -> Self {
        self.answers
            .borrow_mut()
            .push_back((status, body, Some(retry_after_ms)));
        self
    }

    fn advance(&self, ms: f64) {
        self.elapsed.set(self.elapsed.get() + ms);
    }

    fn paths(&self) -> Vec<String> {
        self.seen.borrow().iter().map(|r| r.path.clone()).collect()
    }
}

const UPSERTED: &str = r#"{"status":"COMPLETE","results":[{"id":"1","new":true}]}"#;

impl Transport for Scripted {
    async fn renew(&self, request: &TokenRequest) -> Response {
        panic!("a private app's token is never renewed ({request:?})")
    }

    async fn send(&self, request: &Request, authorization: &str) -> Response {
        assert_eq!(authorization, "Bearer t");
        self.seen.borrow_mut().push(request.clone());
        let default = if request.path == UPSERT_PATH {
            (200, UPSERTED, None)
        } else {
            (204, "", None)
        };
        let (status, body, retry_after_ms) =
            self.answers.borrow_mut().pop_front().unwrap_or(default);
        if status == 0 {
            return Response::Network("connection reset".into());
        }
        let headers = Headers {
            retry_after_ms,
            ..Headers::default()
        };
        Response::Status(status, body.to_string(), headers)
    }

    fn now_ms(&self) -> f64 {
        1_700_000_000_000.0 + self.elapsed.get()
    }
}

/// What the shell does for a push: queue the event, then send what is due
/// (single mode: everything; batch mode: full batches).
async fn push(core: &RefCell<Core>, t: &Scripted, event: &Value) -> Report {
    let (mut report, due) = core::queue_all(
        core,
        vec![(event.clone(), None, Value::Undefined)],
        |_| NoCallbacks,
        |_| None,
    );
    let single = !core.borrow().settings.batch;
    if due {
        core::send::flush_held(core, t, single, !single, &mut report).await;
    }
    report
}

/// The notices that are not debug lines about what went well.
fn problems(report: &Report) -> Vec<&walkeros_destination_hubspot::error::Notice> {
    report
        .notices
        .iter()
        .filter(|n| n.level != Level::Debug)
        .collect()
}

fn core(extra: &str) -> RefCell<Core> {
    let json = format!(
        r#"{{"accessToken":"t","eventNamePrefix":"pe1_","identify":{{"map":{{"email":"user.email","properties":{{"map":{{"firstname":"user.name"}}}}}}}}{extra}}}"#
    );
    RefCell::new(Core::new(Settings::parse(&json).unwrap(), 42))
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
    assert!(r.dropped.is_empty() && problems(&r).is_empty(), "{r:?}");
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
    assert!(r.dropped.is_empty());
    assert!(problems(&r)[0].message.contains("contact upsert"), "{r:?}");
    assert!(problems(&r)[0].message.contains("boom"));
    push(&core, &t, &event("a@x.y", "A")).await;
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_PATH, UPSERT_PATH, SEND_PATH]);
}

#[wasm_bindgen_test]
async fn an_upsert_answer_that_wrote_nothing_is_a_failure() {
    let core = core("");
    let t = Scripted::default().answer(200, r#"{"status":"COMPLETE","results":[]}"#);
    let r = push(&core, &t, &event("a@x.y", "A")).await;
    assert!(
        problems(&r)[0].message.contains("wrote no contact"),
        "{r:?}"
    );
}

#[wasm_bindgen_test]
async fn a_rejected_single_event_is_dropped_to_on_drop() {
    let core = core("");
    let t = Scripted::default().answer(200, UPSERTED).answer(
        400,
        r#"{"message":"bad property","correlationId":"c-1","category":"VALIDATION_ERROR"}"#,
    );
    let r = push(&core, &t, &event("a@x.y", "A")).await;
    assert_eq!(r.dropped.len(), 1, "given to onDrop");
    let reason = &r.dropped[0].1;
    assert!(
        reason.contains("400 (VALIDATION_ERROR): bad property [correlationId c-1]"),
        "{reason}"
    );
    assert!(r
        .notices
        .iter()
        .any(|n| n.message.contains("rejected by HubSpot and dropped")));
}

#[wasm_bindgen_test]
async fn batches_go_out_at_size_and_the_rest_on_flush() {
    let core = core(r#","batch":true,"batchSize":2"#);
    let t = Scripted::default();
    for _ in 0..3 {
        push(&core, &t, &event("a@x.y", "A")).await;
    }
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_BATCH_PATH]);
    assert_eq!(core.borrow().waiting_events(), 1);
    let mut report = Report::default();
    core::send::flush_held(&core, &t, true, true, &mut report).await;
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_BATCH_PATH, SEND_BATCH_PATH]);
    assert_eq!(core.borrow().waiting_events(), 0);
    assert!(problems(&report).is_empty() && report.retry_in.is_none());
}

#[wasm_bindgen_test]
async fn a_retryable_batch_failure_keeps_the_events_queued() {
    let core = core(r#","batch":true,"batchSize":2"#);
    let t = Scripted::default()
        .answer(200, UPSERTED)
        .answer(0, "")
        .answer(503, "");
    let mut report = Report::default();
    for _ in 0..2 {
        report = push(&core, &t, &event("a@x.y", "A")).await;
    }
    assert_eq!(
        core.borrow().waiting_events(),
        2,
        "network failure: still queued"
    );
    assert!(report.retry_in.is_some(), "a retry is asked for");
    let mut report = Report::default();
    core::send::flush_held(&core, &t, true, true, &mut report).await;
    assert_eq!(
        t.seen.borrow().len(),
        2,
        "nothing is sent during the backoff"
    );
    t.advance(60_000.0);
    core::send::flush_held(&core, &t, true, true, &mut report).await;
    assert_eq!(core.borrow().waiting_events(), 2, "503: still queued");
    assert!(problems(&report)[0].message.contains("stay queued"));
    t.advance(60_000.0);
    core::send::flush_held(&core, &t, true, true, &mut Report::default()).await;
    assert_eq!(core.borrow().waiting_events(), 0);
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
async fn collector_batches_merge_upserts_and_isolate_a_bad_event() {
    let core = core("");
    let t = Scripted::default()
        .answer(200, UPSERTED)
        .answer(400, r#"{"message":"bad"}"#)
        .answer(400, r#"{"message":"bad","correlationId":"c-9"}"#);
    let entries = [
        event("a@x.y", "A"),
        event("A@x.y", "Ann"),
        Value::parse(r#"{"name":"page view","user":{}}"#).unwrap(),
    ]
    .into_iter()
    .map(|e| (e, None, Value::Undefined))
    .collect();
    // As the collector's batches go (`pushBatch`): queued, then all sent
    // with the batch endpoint.
    let (mut r, _) = core::queue_all(&core, entries, |_| NoCallbacks, |_| None);
    core::send::flush_held(&core, &t, true, true, &mut r).await;
    // The batch of two fails with 400; its halves go alone: the first is
    // the bad one, the second is accepted.
    assert_eq!(
        t.paths(),
        [
            UPSERT_PATH,
            SEND_BATCH_PATH,
            SEND_BATCH_PATH,
            SEND_BATCH_PATH
        ]
    );
    assert_eq!(
        t.seen.borrow()[0].body,
        r#"{"inputs":[{"id":"a@x.y","idProperty":"email","objectWriteTraceId":"0","properties":{"firstname":"Ann"}}]}"#,
        "one input per email, the latest value winning"
    );
    assert_eq!(r.dropped.len(), 1);
    assert!(
        r.dropped[0].1.contains("bad [correlationId c-9]"),
        "{:?}",
        r.dropped
    );
    let warnings = r.notices.iter().filter(|n| n.level == Level::Warn).count();
    assert_eq!(warnings, 1, "one warning for the event without identity");
    let stats = stats_json(&core);
    assert!(
        stats.contains(r#""sent":1"#) && stats.contains(r#""rejected":1"#),
        "{stats}"
    );
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
        problems(&r)[0]
            .message
            .contains("b@x.y: Email address b@x.y is invalid"),
        "{r:?}"
    );
    assert!(problems(&r)[0].message.contains("1 of 2"), "{r:?}");
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

#[wasm_bindgen_test]
async fn a_single_event_that_fails_for_now_is_kept_and_retried() {
    let core = core("");
    let t = Scripted::default()
        .answer(200, UPSERTED)
        .answer_with(503, "", 7_000);
    let r = push(&core, &t, &event("a@x.y", "A")).await;
    assert!(r.dropped.is_empty(), "the event is kept");
    assert!(r.retry_in.unwrap() >= 7_000, "Retry-After is honoured");
    assert_eq!(core.borrow().waiting_events(), 1);
    let mut report = Report::default();
    t.advance(6_000.0);
    core::send::flush_held(&core, &t, true, false, &mut report).await;
    assert_eq!(
        t.paths(),
        [UPSERT_PATH, SEND_PATH],
        "not before Retry-After"
    );
    t.advance(60_000.0);
    core::send::flush_held(&core, &t, true, false, &mut report).await;
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_PATH, SEND_PATH]);
    assert_eq!(core.borrow().waiting_events(), 0);
    let stats = stats_json(&core);
    assert!(
        stats.contains(r#""retried":1"#) && stats.contains(r#""sent":1"#),
        "{stats}"
    );
}

#[wasm_bindgen_test]
async fn the_queue_is_bounded_and_drops_the_oldest_with_one_warning() {
    let core = core(r#","batch":true,"batchSize":100,"maxQueue":3"#);
    let t = Scripted::default();
    let mut dropped = Vec::new();
    let mut warnings = 0;
    for i in 0..6 {
        let e = Value::parse(&format!(
            r#"{{"name":"page view","id":"e{i}","user":{{"email":"a@x.y","name":"A"}}}}"#
        ))
        .unwrap();
        let r = push(&core, &t, &e).await;
        warnings += r
            .notices
            .iter()
            .filter(|n| n.message.contains("queue is full"))
            .count();
        dropped.extend(r.dropped);
    }
    assert_eq!(core.borrow().waiting_events(), 3);
    assert_eq!(dropped.len(), 3);
    assert_eq!(warnings, 1, "one warning per burst");
    let uuid0 = walkeros_destination_hubspot::hubspot::uuid::event_uuid("e0", "page view");
    assert!(
        dropped[0].0.uuid.as_deref() == Some(uuid0.as_str()),
        "the oldest went first"
    );
}

#[wasm_bindgen_test]
async fn a_daily_limit_pauses_upserts_but_not_events() {
    let core = core("");
    let daily = r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}"#;
    let t = Scripted::default().answer(429, daily);
    let r = push(&core, &t, &event("a@x.y", "A")).await;
    assert!(
        r.notices
            .iter()
            .any(|n| n.message.contains("daily API limit")),
        "{r:?}"
    );
    assert!(r.retry_in.unwrap() > 1_000);
    // The next contact is not even tried: upserts wait; events go on.
    push(&core, &t, &event("b@x.y", "B")).await;
    assert_eq!(t.paths(), [UPSERT_PATH, SEND_PATH, SEND_PATH]);
    assert_eq!(core.borrow().stats().queued_upserts, 2);
    assert!(stats_json(&core).contains(r#""rateLimited":{"DAILY":1}"#));
}

#[wasm_bindgen_test]
async fn with_create_the_daily_limit_message_says_events_needing_definitions_wait() {
    let daily = r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}"#;
    for (mode, waits) in [("check", false), ("create", true)] {
        let core = core(&format!(r#","definitions":"{mode}""#));
        let t = Scripted::default().answer(429, daily);
        let r = push(&core, &t, &event("a@x.y", "A")).await;
        let message = r
            .notices
            .iter()
            .find(|n| n.message.contains("daily API limit"))
            .map(|n| n.message.clone())
            .unwrap_or_default();
        assert_eq!(
            message.contains("needs an event definition or property created"),
            waits,
            "{mode}: {message}"
        );
    }
}

#[wasm_bindgen_test]
async fn the_rate_limiter_holds_upserts_back_instead_of_hitting_429s() {
    // 20 per 10 s: a burst of 2, then one every 0.62 s (see limiter.rs).
    let core = core(r#","rateLimit":20"#);
    let t = Scripted::default();
    let mut retry = None;
    for i in 0..3 {
        let r = push(&core, &t, &event(&format!("u{i}@x.y"), "U")).await;
        retry = retry.or(r.retry_in);
    }
    let upserts = t.paths().iter().filter(|p| *p == UPSERT_PATH).count();
    assert_eq!(upserts, 2, "the third waits for a token");
    assert!(retry.is_some());
    assert_eq!(core.borrow().stats().queued_upserts, 1);
}

#[wasm_bindgen_test]
async fn a_rejected_token_is_reported_once() {
    let core = core("");
    let t = Scripted::default()
        .answer(200, UPSERTED)
        .answer(401, "{}")
        .answer(200, UPSERTED)
        .answer(401, "{}");
    let a = push(&core, &t, &event("a@x.y", "A")).await;
    let b = push(&core, &t, &event("b@x.y", "B")).await;
    let count = |r: &Report| {
        r.notices
            .iter()
            .filter(|n| n.message.contains("rejected the access token"))
            .count()
    };
    assert_eq!((count(&a), count(&b)), (1, 0));
    assert_eq!((a.dropped.len(), b.dropped.len()), (1, 1));
}

#[wasm_bindgen_test]
async fn a_rejected_batch_names_each_event_once_with_its_count() {
    let core = core(r#","batch":true,"batchSize":4"#);
    let t = Scripted::default()
        .answer(200, UPSERTED)
        .answer(403, r#"{"message":"no scope"}"#);
    for (name, email) in [
        ("order complete", "a@x.y"),
        ("page view", "b@x.y"),
        ("order complete", "c@x.y"),
        ("order complete", "d@x.y"),
    ] {
        let event = Value::parse(&format!(
            r#"{{"name":"{name}","user":{{"email":"{email}","name":"N"}}}}"#
        ))
        .unwrap();
        let (report, _) = core::queue_all(
            &core,
            vec![(event, None, Value::Undefined)],
            |_| NoCallbacks,
            |_| None,
        );
        assert!(report.notices.is_empty());
    }
    let mut report = Report::default();
    core::send::flush_held(&core, &t, false, true, &mut report).await;
    let rejected: Vec<&str> = report
        .notices
        .iter()
        .map(|n| n.message.as_str())
        .filter(|m| m.contains("rejected by HubSpot and dropped"))
        .collect();
    assert_eq!(rejected.len(), 1, "{:?}", report.notices);
    assert!(
        rejected[0].starts_with(
            "4 event(s) rejected by HubSpot and dropped (pe1_order_complete \u{d7}3, pe1_page_view): "
        ),
        "{}",
        rejected[0]
    );
}

/// The shell hands over only the fields the core reads: every identity
/// setting's field must be among them, or a cut-down event loses its
/// identity.
#[wasm_bindgen_test]
fn the_fields_read_include_every_identity_field() {
    let core = core(
        r#","email":"user.mail","objectId":"ids.id","utk":"cookies.hutk","identify":{"map":{"email":"data.login"}}"#,
    );
    let core = core.borrow();
    let reads = core.reads(None).expect("plain paths read known fields");
    assert_eq!(
        reads,
        ["name", "id", "timestamp", "user", "ids", "cookies", "data"]
    );
}

/// `stats()` as JSON text, for assertions on its fields.
fn stats_json(core: &RefCell<Core>) -> String {
    serde_json::to_string(&core.borrow().stats()).unwrap()
}
