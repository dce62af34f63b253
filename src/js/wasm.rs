//! The destination's wasm-bindgen surface: JSON text in, promises and
//! plain objects out, notices to the collector's logger. Everything it does
//! is delegated to the core.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::config::settings::Settings;
use crate::delivery::core::{self, Core, Report};
use crate::error::Notice;
use crate::hubspot::api::Request;
use crate::js::fetch::FetchTransport;
use crate::js::host::JsHost;
use crate::mapping::value::Value;

#[wasm_bindgen]
pub struct HubspotCore {
    core: Rc<RefCell<Core>>,
    transport: Rc<FetchTransport>,
    /// `env.onDrop`, `env.onToken` and the shell's spool writer.
    hooks: Rc<Hooks>,
    /// The shell's registry of the config's functions.
    callbacks: Array,
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

/// The user's functions reports go to (each may be undefined).
struct Hooks {
    on_drop: JsValue,
    on_token: JsValue,
    /// `write(rewrite, append)`: the journal's new text (or undefined),
    /// then lines to append. Undefined without a spool.
    spool: JsValue,
}

/// A plain JavaScript value of `value` (objects, not Maps).
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    value.serialize(&serializer).unwrap_or(JsValue::UNDEFINED)
}

fn unreadable(what: &str, error: impl std::fmt::Display) -> JsError {
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
    /// request; `callbacks` is the registry the config's functions were
    /// put in; `on_drop` and `on_token` are `env.onDrop` and `env.onToken`,
    /// `spool` the shell's journal writer.
    #[wasm_bindgen(constructor)]
    pub fn new(
        settings: &str,
        fetch: Function,
        callbacks: Array,
        on_drop: JsValue,
        on_token: JsValue,
        spool: JsValue,
    ) -> Result<HubspotCore, JsError> {
        let settings = Settings::parse(settings).map_err(|e| JsError::new(&e.to_string()))?;
        let transport = FetchTransport::new(fetch, &settings.api_base, settings.timeout);
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        Ok(HubspotCore {
            hooks: Rc::new(Hooks {
                on_drop,
                on_token,
                spool,
            }),
            core: Rc::new(RefCell::new(Core::new(settings, seed))),
            transport: Rc::new(transport),
            callbacks,
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

    fn host(&self, root: JsValue, collector: JsValue, logger: &JsValue) -> JsHost {
        JsHost::new(self.callbacks.clone(), root, collector, logger.clone())
    }

    /// Compiles a mapping rule (tagged JSON text); `field` names it in
    /// errors.
    /// `name` is the walkerOS event name the rule's key gives, if any.
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
    /// mapping functions. True when a flush is due.
    #[wasm_bindgen(js_name = queueEvents)]
    pub fn queue_events(
        &self,
        json: &str,
        logger: JsValue,
        roots: Array,
        collector: JsValue,
    ) -> Result<bool, JsValue> {
        let entries = entries(json)?;
        let host = |i: usize| self.host(roots.get(i as u32), collector.clone(), &logger);
        let (report, due) = core::queue_all(&self.core, entries, host, |i| {
            whole_event(&roots.get(i as u32))
        });
        // With a spool, the records are written (or this throws) before the
        // push returns.
        self.finish(report, &logger)?;
        Ok(due)
    }

    fn finish(&self, report: Report, logger: &JsValue) -> Result<JsValue, JsValue> {
        finish(report, logger, &self.hooks)
    }

    /// The spool's directory (`settings.spool`), if there is one.
    #[wasm_bindgen(js_name = spoolDir)]
    pub fn spool_dir(&self) -> Option<String> {
        self.core.borrow().settings.spool.clone()
    }

    /// Milliseconds between fsyncs of the spool (`settings.spoolSyncInterval`).
    #[wasm_bindgen(js_name = spoolSyncInterval)]
    pub fn spool_sync_interval(&self) -> u32 {
        self.core.borrow().settings.spool_sync_interval
    }

    /// Reads the spool's journal at start: whole lines, or with `tail` the
    /// last bytes, which lack their newline.
    #[wasm_bindgen(js_name = spoolRead)]
    pub fn spool_read(&self, text: &str, tail: bool, logger: JsValue) -> Result<(), JsValue> {
        let report = self.core.borrow_mut().spool_read(text, tail);
        self.finish(report, &logger).map(|_| ())
    }

    /// Queues what the journal holds that is not done, first, and rewrites
    /// the journal to those records.
    pub fn replay(&self, logger: JsValue) -> Result<(), JsValue> {
        let report = self.core.borrow_mut().replay();
        self.finish(report, &logger).map(|_| ())
    }

    /// Handles a collector batch (the same entries as `queueEvents`): queued
    /// and sent at once.
    #[wasm_bindgen(js_name = pushBatch)]
    pub fn push_batch(
        &self,
        json: &str,
        logger: JsValue,
        roots: Array,
        collector: JsValue,
    ) -> Result<Promise, JsValue> {
        // Queued (and spooled) now, before anything is sent.
        self.queue_events(json, logger.clone(), roots, collector)?;
        let core = self.core.clone();
        let transport = self.transport.clone();
        let hooks = self.hooks.clone();
        Ok(future_to_promise(async move {
            let mut report = Report::default();
            // The collector batched these: they go with the batch endpoint.
            core::flush_held(&core, &*transport, true, true, &mut report).await;
            finish(report, &logger, &hooks)
        }))
    }

    /// At init: checks or creates the definitions the rules name
    /// (`settings.definitions`); their events wait until it settles.
    pub fn prepare(&self, logger: JsValue) -> Promise {
        let core = self.core.clone();
        let transport = self.transport.clone();
        let hooks = self.hooks.clone();
        future_to_promise(async move {
            let mut report = Report::default();
            core::prepare(&core, &*transport, &mut report).await;
            finish(report, &logger, &hooks)
        })
    }

    /// Sends what is queued: full batches, or everything when `all`.
    /// Settles with the milliseconds until the next try is due, if any.
    pub fn flush(&self, all: bool, logger: JsValue) -> Promise {
        let core = self.core.clone();
        let transport = self.transport.clone();
        let hooks = self.hooks.clone();
        future_to_promise(async move {
            let mut report = Report::default();
            let batched = core.borrow().settings.batch;
            core::flush_held(&core, &*transport, all, batched, &mut report).await;
            finish(report, &logger, &hooks)
        })
    }

    /// Gives up on everything still queued (the process is ending): each
    /// event goes to `onDrop` with `reason`, and one error is logged.
    pub fn abandon(&self, reason: &str, logger: JsValue) -> Result<(), JsValue> {
        let report = self.core.borrow_mut().abandon(reason);
        self.finish(report, &logger).map(|_| ())
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

    /// Events and contact upserts waiting to be sent (not those under way).
    pub fn waiting(&self) -> u32 {
        self.core.borrow().waiting() as u32
    }

    /// Events (not contact upserts) waiting to be sent.
    #[wasm_bindgen(js_name = waitingEvents)]
    pub fn waiting_events(&self) -> u32 {
        self.core.borrow().queued() as u32
    }

    /// Events and contact upserts not accepted by HubSpot yet.
    pub fn queued(&self) -> u32 {
        self.core.borrow().pending() as u32
    }

    /// Events per batch request (`settings.batchSize`).
    #[wasm_bindgen(js_name = batchSize)]
    pub fn batch_size(&self) -> u32 {
        self.core.borrow().settings.batch_size as u32
    }

    /// Batch mode: events not accepted yet from which a push waits for the
    /// requests under way (half of `maxQueue`), so a producer faster than
    /// HubSpot slows down before `maxQueue` drops anything.
    #[wasm_bindgen(js_name = highWater)]
    pub fn high_water(&self) -> u32 {
        (self.core.borrow().settings.max_queue / 2).max(1) as u32
    }

    /// Milliseconds a shutdown keeps delivering (`settings.shutdownTimeout`).
    #[wasm_bindgen(js_name = shutdownTimeout)]
    pub fn shutdown_timeout(&self) -> u32 {
        self.core.borrow().settings.shutdown_timeout
    }

    /// Aborts the requests under way (a shutdown's deadline has passed):
    /// what they carried goes back to the queue, to be given up on.
    #[wasm_bindgen(js_name = abortRequests)]
    pub fn abort_requests(&self) {
        self.transport.abort();
    }

    /// Milliseconds between timed flushes; 0 when there are none (single
    /// mode, or `flushInterval: 0`).
    #[wasm_bindgen(js_name = flushInterval)]
    pub fn flush_interval(&self) -> u32 {
        let settings = &self.core.borrow().settings;
        if settings.batch {
            settings.flush_interval
        } else {
            0
        }
    }

    /// The dry run: `{ requests: [{ method, path, body }], notes: [{ level,
    /// message }] }` for one entry (as `queueEvents` takes them; `root` is
    /// the event itself). Sends nothing and changes no state.
    pub fn explain(&self, json: &str, root: JsValue, logger: JsValue) -> Result<JsValue, JsError> {
        let Some((event, rule, data)) = entries(&format!("[{json}]"))?.pop() else {
            return Err(unreadable("event", "no entry"));
        };
        let host = self.host(root, JsValue::UNDEFINED, &logger);
        let (requests, notices) = self.core.borrow().explain(&event, rule, &data, &host);
        #[derive(Serialize)]
        struct Note<'a> {
            level: &'static str,
            message: &'a str,
        }
        #[derive(Serialize)]
        struct Explained<'a> {
            requests: Vec<Request>,
            notes: Vec<Note<'a>>,
        }
        let notes = notices
            .iter()
            .map(|n| Note {
                level: n.level.method(),
                message: &n.message,
            })
            .collect();
        Ok(to_js(&Explained { requests, notes }))
    }
}

/// All of an event, where a mapping took the event itself as a value.
pub fn whole_event(root: &JsValue) -> Option<Value> {
    let text = js_sys::JSON::stringify(root).ok()?.as_string()?;
    Value::parse(&text).ok()
}

/// Writes the spool's journal, logs the notices, hands a rotated refresh
/// token to `onToken` and dropped events to `onDrop`, and gives the retry
/// delay (ms) when something waits for one, else undefined. Fails only
/// when the journal could not be written.
fn finish(report: Report, logger: &JsValue, hooks: &Hooks) -> Result<JsValue, JsValue> {
    let mut written = Ok(JsValue::UNDEFINED);
    if report.rewrite.is_some() || !report.journal.is_empty() {
        if let Some(write) = hooks.spool.dyn_ref::<Function>() {
            let rewrite = report
                .rewrite
                .as_deref()
                .map_or(JsValue::UNDEFINED, JsValue::from);
            written = write.call2(
                &JsValue::UNDEFINED,
                &rewrite,
                &report.journal.as_str().into(),
            );
        }
    }
    log_all(&report.notices, logger);
    if let Some(rotated) = &report.token {
        if let Ok(on_token) = hooks.on_token.clone().dyn_into::<Function>() {
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Token<'a> {
                refresh_token: &'a str,
                expires_at: f64,
            }
            let token = to_js(&Token {
                refresh_token: &rotated.refresh_token,
                expires_at: rotated.expires_at,
            });
            // A throwing onToken is the user's bug; the new refresh token
            // is in use already, and delivery goes on.
            let _ = on_token.call1(&JsValue::UNDEFINED, &token);
        }
    }
    // Most reports drop nothing: only then is `onDrop` looked at.
    if !report.dropped.is_empty() {
        if let Ok(on_drop) = hooks.on_drop.clone().dyn_into::<Function>() {
            for (input, reason) in &report.dropped {
                // A throwing onDrop is the user's bug; it must not stop
                // delivery.
                let _ = on_drop.call2(&JsValue::UNDEFINED, &to_js(input), &reason.into());
            }
        }
    }
    // A journal that could not be written fails the call, but only once the
    // rest is reported: the events are queued, a rotated refresh token is
    // in use, and dropped events are gone either way.
    written?;
    Ok(report.retry_in.map_or(JsValue::UNDEFINED, JsValue::from))
}

/// Hands each notice to `logger[level](message, { event })`.
fn log_all(notices: &[Notice], logger: &JsValue) {
    for notice in notices {
        let Ok(method) = Reflect::get(logger, &notice.level.method().into()) else {
            continue;
        };
        let Ok(method) = method.dyn_into::<Function>() else {
            continue;
        };
        let context = Object::new();
        if !notice.event.is_empty() {
            let _ = Reflect::set(&context, &"event".into(), &notice.event.as_str().into());
        }
        let message = format!("HubSpot: {}", notice.message);
        let _ = method.call2(logger, &message.into(), &context);
    }
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

/// The JSON Schemas of `settings` and of a rule's `settings`: `{ settings,
/// mapping }`.
#[wasm_bindgen]
pub fn schemas() -> JsValue {
    to_js(&crate::config::schema::schemas())
}
