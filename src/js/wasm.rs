//! The destination's wasm-bindgen surface: JSON text in, promises and
//! plain objects out, notices to the collector's logger. Everything it does
//! is delegated to the core.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::config::settings::Settings;
use crate::delivery::core::{self, Core, Report};
use crate::error::Notice;
use crate::hubspot::api::Request;
use crate::hubspot::plan::EventInput;
use crate::js::fetch::FetchTransport;
use crate::js::host::JsHost;
use crate::mapping::value::Value;

#[wasm_bindgen]
pub struct HubspotCore {
    core: Rc<RefCell<Core>>,
    transport: Rc<FetchTransport>,
    /// The shell's `report(report, logger)`: see `finish`.
    report: Function,
    /// The shell's `call` of the config's functions (see `JsHost`).
    call: Function,
}

/// One event as the shell writes it: its rule handle (none for no rule),
/// the event's fields `reads` names, and the collector's mapped data.
#[derive(Deserialize)]
struct Entry {
    rule: Option<usize>,
    event: Value,
    #[serde(default)]
    data: Value,
}

/// A plain JavaScript value of `value` (objects, not Maps).
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    value.serialize(&serializer).unwrap_or(JsValue::UNDEFINED)
}

pub fn unreadable(what: &str, error: impl std::fmt::Display) -> JsError {
    JsError::new(&format!(
        "HubSpot destination: the {what} could not be read: {error}"
    ))
}

fn entries(json: &str) -> Result<Vec<core::Entry>, JsError> {
    let entries: Vec<Entry> = serde_json::from_str(json).map_err(|e| {
        // serde_json stops at 128 levels, far deeper than any real event.
        let reason = if e.to_string().starts_with("recursion limit exceeded") {
            "nested too deeply (more than 128 levels)".to_string()
        } else {
            e.to_string()
        };
        unreadable("event", reason)
    })?;
    Ok(entries
        .into_iter()
        .map(|e| (e.event, e.rule, e.data))
        .collect())
}

#[wasm_bindgen]
impl HubspotCore {
    /// Validates `settings` (tagged JSON text); `fetch` makes every HTTP
    /// request; `call` calls the config's functions; `report` takes what
    /// each call reports.
    #[wasm_bindgen(constructor)]
    pub fn new(
        settings: &str,
        fetch: Function,
        call: Function,
        report: Function,
    ) -> Result<HubspotCore, JsError> {
        let settings = Settings::parse(settings).map_err(|e| JsError::new(&e.to_string()))?;
        let transport = FetchTransport::new(fetch, &settings.api_base, settings.timeout);
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        Ok(HubspotCore {
            core: Rc::new(RefCell::new(Core::new(settings, seed))),
            transport: Rc::new(transport),
            report,
            call,
        })
    }

    /// The event's top-level fields the core reads under `rule` (undefined
    /// for a handle this core never gave out).
    pub fn reads(&self, rule: Option<u32>) -> JsValue {
        self.core
            .borrow()
            .reads(rule.map(|r| r as usize))
            .map_or(JsValue::UNDEFINED, to_js)
    }

    /// What the shell's timers and holding go by, read from the settings.
    pub fn options(&self) -> JsValue {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Options<'a> {
            batch: bool,
            batch_size: usize,
            /// Batch mode: events not accepted yet from which a push waits
            /// for the requests under way (half of `maxQueue`), so a faster
            /// producer slows down before `maxQueue` drops anything.
            high_water: usize,
            /// 0 when there are no timed flushes (single mode too).
            flush_interval: u32,
            shutdown_timeout: u32,
            spool: Option<&'a str>,
            spool_sync_interval: u32,
        }
        let s = &self.core.borrow().settings;
        to_js(&Options {
            batch: s.batch,
            batch_size: s.batch_size,
            high_water: (s.max_queue / 2).max(1),
            flush_interval: if s.batch { s.flush_interval } else { 0 },
            shutdown_timeout: s.shutdown_timeout,
            spool: s.spool.as_deref(),
            spool_sync_interval: s.spool_sync_interval,
        })
    }

    /// Compiles a mapping rule (tagged JSON text); `field` names it in
    /// errors, `name` is the walkerOS event name the rule's key gives.
    #[wasm_bindgen(js_name = addRule)]
    pub fn add_rule(&self, rule: &str, field: &str, name: Option<String>) -> Result<u32, JsError> {
        let value = Value::parse_tagged(rule).map_err(|e| unreadable(field, e))?;
        let id = self
            .core
            .borrow_mut()
            .add_rule_named(&value, field, name.as_deref())
            .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(id as u32)
    }

    /// True while the core is in use further up the stack: a mapping
    /// function that pushes into this destination synchronously lands here
    /// mid-plan, and the shell then queues that push a moment later.
    pub fn busy(&self) -> bool {
        self.core.try_borrow_mut().is_err()
    }

    /// Plans and queues events (a JSON array of `{ rule, event, data }`)
    /// in one call; `roots` are the event objects themselves, for the
    /// mapping functions. True when a flush is due. With a spool, the
    /// records are written (or this throws) before it returns.
    #[wasm_bindgen(js_name = queueEvents)]
    pub fn queue_events(
        &self,
        json: &str,
        logger: JsValue,
        roots: Array,
        collector: JsValue,
    ) -> Result<bool, JsValue> {
        let entries = entries(json)?;
        let host = |i: usize| {
            JsHost::new(
                self.call.clone(),
                roots.get(i as u32),
                collector.clone(),
                logger.clone(),
            )
        };
        let (report, due) = core::queue_all(&self.core, entries, host, |i| {
            whole_event(&roots.get(i as u32))
        });
        finish(report, &logger, &self.report, true)?;
        Ok(due)
    }

    /// Reads the spool's journal at start: whole lines, or with `tail` the
    /// last bytes, which lack their newline.
    #[wasm_bindgen(js_name = spoolRead)]
    pub fn spool_read(&self, text: &str, tail: bool, logger: JsValue) -> Result<(), JsValue> {
        let report = self.core.borrow_mut().spool_read(text, tail);
        finish(report, &logger, &self.report, true).map(|_| ())
    }

    /// Queues what the journal holds that is not done, first, and rewrites
    /// the journal to those records.
    pub fn replay(&self, logger: JsValue) -> Result<(), JsValue> {
        let report = self.core.borrow_mut().replay();
        finish(report, &logger, &self.report, true).map(|_| ())
    }

    /// At init: checks or creates the definitions the rules name
    /// (`settings.definitions`); their events wait until it settles.
    pub fn prepare(&self, logger: JsValue) -> Promise {
        let (core, transport, done) = self.shared();
        future_to_promise(async move {
            let mut report = Report::default();
            core::prepare::prepare(&core, &*transport, &mut report).await;
            finish(report, &logger, &done, false)
        })
    }

    /// Sends what is queued: full batches, or everything when `all`; with
    /// the batch endpoint when `batched`. Settles with the milliseconds
    /// until the next try is due, if any.
    pub fn flush(&self, all: bool, batched: bool, logger: JsValue) -> Promise {
        let (core, transport, done) = self.shared();
        future_to_promise(async move {
            let mut report = Report::default();
            let mut failed = None;
            // A compaction is decided as each report goes to the shell, so
            // the new journal holds every record pushed until then.
            let mut hand_on = |report: &mut Report| {
                core.borrow_mut().compact(report);
                if let Err(error) = finish(report.take_output(), &logger, &done, false) {
                    failed.get_or_insert(error);
                }
            };
            core::send::flush_handing_on(
                &core,
                &*transport,
                all,
                batched,
                &mut report,
                &mut hand_on,
            )
            .await;
            core.borrow_mut().compact(&mut report);
            let result = finish(report, &logger, &done, false);
            failed.map_or(result, Err)
        })
    }

    fn shared(&self) -> (Rc<RefCell<Core>>, Rc<FetchTransport>, Function) {
        let (core, transport) = (self.core.clone(), self.transport.clone());
        (core, transport, self.report.clone())
    }

    /// Gives up on everything still queued (the process is ending): each
    /// event goes to `onDrop` with `reason`, and one error is logged.
    pub fn abandon(&self, reason: &str, logger: JsValue) -> Result<(), JsValue> {
        let report = self.core.borrow_mut().abandon(reason);
        finish(report, &logger, &self.report, true).map(|_| ())
    }

    /// The counters `stats()` returns.
    pub fn stats(&self) -> JsValue {
        to_js(&self.core.borrow().stats())
    }

    /// True once HubSpot refused the OAuth refresh token: nothing more is
    /// sent, so a shutdown hands what is queued to `onDrop` at once.
    pub fn stopped(&self) -> bool {
        self.core.borrow().stopped()
    }

    /// Events and contact upserts waiting to be sent, not under way.
    pub fn waiting(&self) -> u32 {
        self.core.borrow().waiting() as u32
    }

    /// Events waiting to be sent, not under way.
    #[wasm_bindgen(js_name = waitingEvents)]
    pub fn waiting_events(&self) -> u32 {
        self.core.borrow().waiting_events() as u32
    }

    /// Events and contact upserts not accepted by HubSpot yet: waiting, or
    /// under way.
    pub fn pending(&self) -> u32 {
        self.core.borrow().pending() as u32
    }

    /// Aborts the requests under way (a shutdown's deadline has passed):
    /// what they carried goes back to the queue, to be given up on.
    #[wasm_bindgen(js_name = abortRequests)]
    pub fn abort_requests(&self) {
        self.core.borrow_mut().abort();
        self.transport.abort();
    }

    /// The dry run: `{ requests: [{ method, path, body }], notes: [{ level,
    /// message }] }` for one entry (as `queueEvents` takes them; `root` is
    /// the event itself; `collector_batches` when the collector hands it to
    /// pushBatch). Sends nothing and changes no state.
    pub fn explain(
        &self,
        json: &str,
        root: JsValue,
        logger: JsValue,
        collector_batches: bool,
    ) -> Result<JsValue, JsError> {
        let Some((event, rule, data)) = entries(&format!("[{json}]"))?.pop() else {
            return Err(unreadable("event", "no entry"));
        };
        let host = JsHost::new(self.call.clone(), root, JsValue::UNDEFINED, logger);
        let (requests, notices) =
            (self.core.borrow()).explain(&event, rule, &data, &host, collector_batches);
        #[derive(Serialize)]
        struct Explained<'a> {
            requests: Vec<Request>,
            notes: Vec<Note<'a>>,
        }
        let notes = notes(&notices, false);
        Ok(to_js(&Explained { requests, notes }))
    }
}

/// All of an event, where a mapping took the event itself as a value.
pub fn whole_event(root: &JsValue) -> Option<Value> {
    let text = js_sys::JSON::stringify(root).ok()?.as_string()?;
    Value::parse(&text).ok()
}

/// A notice for JavaScript; `event` names the event it is about, if asked.
#[derive(Serialize)]
struct Note<'a> {
    level: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a str>,
}

fn notes(notices: &[Notice], with_event: bool) -> Vec<Note<'_>> {
    notices
        .iter()
        .map(|n| Note {
            level: n.level.method(),
            message: &n.message,
            event: with_event.then_some(n.event.as_str()),
        })
        .collect()
}

/// Hands a report to the shell's `report(report, logger, strict)`, which
/// writes the spool's journal, logs the notices and hands a rotated refresh
/// token to `onToken` and dropped events to `onDrop`. A journal write that
/// fails throws when `strict` (the call a user made, such as a push, fails
/// with it) and is logged otherwise: a background send must still hand back
/// its retry delay, or what it left queued would wait for the next push.
/// Gives the retry delay (ms) when something waits for one, else undefined.
fn finish(
    report: Report,
    logger: &JsValue,
    done: &Function,
    strict: bool,
) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Token<'a> {
        refresh_token: &'a str,
        expires_at: f64,
    }
    #[derive(Serialize)]
    struct Shell<'a> {
        rewrite: Option<&'a str>,
        journal: &'a str,
        notes: Vec<Note<'a>>,
        token: Option<Token<'a>>,
        dropped: &'a [(EventInput, String)],
    }
    let retry = report.retry_in.map_or(JsValue::UNDEFINED, JsValue::from);
    // Most calls have nothing to hand on: then the shell is not called.
    if !report.has_output() {
        return Ok(retry);
    }
    let token = report.token.as_ref().map(|rotated| Token {
        refresh_token: &rotated.refresh_token,
        expires_at: rotated.expires_at,
    });
    let shell = Shell {
        rewrite: report.rewrite.as_deref(),
        journal: &report.journal,
        notes: notes(&report.notices, true),
        token,
        dropped: &report.dropped,
    };
    done.call3(&JsValue::UNDEFINED, &to_js(&shell), logger, &strict.into())?;
    Ok(retry)
}

/// The benchmark's scale figure: bytes the contact dedup holds per contact
/// after `contacts` distinct contacts.
#[wasm_bindgen(js_name = dedupBytesPerContact)]
pub fn dedup_bytes_per_contact(contacts: u32) -> f64 {
    let mut dedup = crate::delivery::dedup::Dedup::new(contacts as usize);
    for i in 0..contacts {
        dedup.claim(&crate::hubspot::plan::ContactUpsert {
            email: format!("user{i}@example.com"),
            properties: vec![("firstname".into(), "Jane".into())],
            spool_ids: Vec::new(),
        });
    }
    dedup.memory_bytes() as f64 / f64::from(contacts.max(1))
}

/// Every counter `stats()` has, at zero: what the sum over no live
/// destination is.
#[wasm_bindgen(js_name = emptyStats)]
pub fn empty_stats() -> JsValue {
    to_js(&crate::delivery::stats::Stats::default())
}

/// The JSON Schemas of `settings` and of a rule's `settings`: `{ settings,
/// mapping }`.
#[wasm_bindgen]
pub fn schemas() -> JsValue {
    to_js(&crate::config::schema::schemas())
}
