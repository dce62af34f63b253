//! The wasm-bindgen surface: JSON text in, promises out, notices to the
//! collector's logger. Everything it does is delegated to the core.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::destination::{self, Core, Event, Report};
use crate::direct::Direct;
use crate::error::Notice;
use crate::fetch::FetchTransport;
use crate::js_host::JsHost;
use crate::js_value::to_js_result;
use crate::json;
use crate::mapping;
use crate::rules::RuleTable;
use crate::settings::Settings;
use crate::slots;
use crate::value::Value;

#[wasm_bindgen]
pub struct HubspotCore {
    core: Rc<RefCell<Core>>,
    transport: Rc<FetchTransport>,
    /// `env.onDrop`, given every event input this destination gives up on.
    on_drop: JsValue,
    /// The shell's registry of the config's functions.
    callbacks: Array,
}

#[wasm_bindgen]
impl HubspotCore {
    /// Validates `settings` (JSON text); `fetch` makes every HTTP request;
    /// `callbacks` is the registry the config's functions were put in.
    #[wasm_bindgen(constructor)]
    pub fn new(
        settings: &str,
        fetch: Function,
        callbacks: Array,
        on_drop: JsValue,
    ) -> Result<HubspotCore, JsError> {
        let settings = Settings::parse(settings).map_err(|e| JsError::new(&e.to_string()))?;
        let transport = FetchTransport::new(
            fetch,
            &settings.api_base,
            &settings.access_token,
            settings.timeout,
        );
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        Ok(HubspotCore {
            on_drop,
            core: Rc::new(RefCell::new(Core::new(settings, seed))),
            transport: Rc::new(transport),
            callbacks,
        })
    }

    /// What the shell hands over of an event under `rule`, in the order
    /// form of `Projection::to_order_json`, or undefined for all of it.
    pub fn slots(&self, rule: Option<u32>) -> Option<String> {
        self.core
            .borrow()
            .projection_of(rule.map(|r| r as usize))
            .map(|p| p.to_order_json())
    }

    /// Whether planning under `rule` may read the event object itself (a
    /// mapping function's argument, or all of it where a mapping reaches
    /// past what `slots` hands over). Rules read straight from the entry
    /// (`Core::direct_of`) never do, so the shell need not keep their
    /// events alive until they are planned.
    #[wasm_bindgen(js_name = readsEvent)]
    pub fn reads_event(&self, rule: Option<u32>) -> bool {
        self.core
            .borrow()
            .direct_of(rule.map(|r| r as usize))
            .is_none()
    }

    fn host(&self, root: JsValue, collector: JsValue, logger: &JsValue) -> JsHost {
        JsHost {
            callbacks: self.callbacks.clone(),
            root,
            collector,
            logger: logger.clone(),
        }
    }

    /// Compiles a mapping rule (JSON text); `field` names it in errors.
    #[wasm_bindgen(js_name = addRule)]
    pub fn add_rule(&self, rule: &str, field: &str) -> Result<u32, JsError> {
        let value = parse_tagged(rule, field)?;
        let id = self
            .core
            .borrow_mut()
            .add_rule(&value, field)
            .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(id as u32)
    }

    /// True while the core is in use further up the stack: a mapping
    /// function that pushes into this destination synchronously lands here
    /// mid-plan, and the shell then queues that push a moment later.
    pub fn busy(&self) -> bool {
        self.core.try_borrow_mut().is_err()
    }

    /// Plans and queues events in one call (in batch mode, the ones the
    /// shell held): `entries` are the entries' bytes (`slots::entries`),
    /// made from `slots(rule)`, `numbers` the numbers their `n` steps take,
    /// in order, `rules` their rule handles (-1 for none), `roots` the event
    /// objects themselves. True when a flush is due.
    #[wasm_bindgen(js_name = queueEvents)]
    pub fn queue_events(
        &self,
        entries: &[u8],
        numbers: &[f64],
        rules: Vec<i32>,
        logger: JsValue,
        roots: Array,
        collector: JsValue,
    ) -> Result<bool, JsValue> {
        let unreadable = |e: String| {
            let what = if rules.len() == 1 { "event" } else { "events" };
            JsError::new(&format!(
                "HubSpot destination: the {what} could not be read: {e}"
            ))
        };
        let found = slots::entries(entries).map_err(unreadable)?;
        let mut numbers = numbers.iter().copied();
        let entries = {
            let core = self.core.borrow();
            found
                .iter()
                .zip(&rules)
                .map(|(entry, &rule)| {
                    let rule = usize::try_from(rule).ok();
                    let projection = core.projection_of(rule);
                    if let (Some(direct), Some(projection)) = (core.direct_of(rule), projection) {
                        let before = numbers.clone();
                        if let Some(leaves) = direct.leaves(entry, projection, &mut numbers) {
                            let written = direct.straight().and_then(|s| s.write(&leaves));
                            if let Some(json) = written {
                                return Ok((Event::Json(json), rule, Value::Undefined));
                            }
                            if let Some(values) = Direct::values(leaves) {
                                return Ok((Event::Leaves(values), rule, Value::Undefined));
                            }
                            // A value that does not read: the general way
                            // says what is wrong.
                            numbers = before;
                        }
                    }
                    let item = entry.read().map_err(unreadable)?;
                    let (event, data) = slots::read_entry(item, projection, &mut numbers)
                        .map_err(|e| JsError::new(&format!("HubSpot destination: {e}")))?;
                    Ok((Event::Tree(event), rule, data))
                })
                .collect::<Result<Vec<destination::Entry>, JsError>>()?
        };
        if numbers.next().is_some() {
            return Err(JsError::new(
                "HubSpot destination: more numbers than the entries' shapes take",
            )
            .into());
        }
        let host = |i: usize| self.host(roots.get(i as u32), collector.clone(), &logger);
        let whole = |i: usize| whole_event(&roots.get(i as u32));
        let (report, due) = destination::queue_all(&self.core, entries, host, whole);
        finish(report, &logger, &self.transport, &self.on_drop)?;
        Ok(due)
    }

    /// Handles a collector batch: `events` and `data` are JSON arrays, `rules`
    /// the rule handle of each entry (-1 for none). Resolves to the indexes
    /// that failed, each with its reason: `[[index, reason], ...]`.
    #[wasm_bindgen(js_name = pushBatch)]
    pub fn push_batch(
        &self,
        events: &str,
        rules: Vec<i32>,
        data: &str,
        logger: JsValue,
        roots: Array,
        collector: JsValue,
    ) -> Promise {
        let core = self.core.clone();
        let transport = self.transport.clone();
        let callbacks = self.callbacks.clone();
        let on_drop = self.on_drop.clone();
        let input = parse(events, "batch events").and_then(|events| {
            let data = parse(data, "batch data")?;
            Ok((events, data))
        });
        future_to_promise(async move {
            let (events, data) = input.map_err(JsValue::from)?;
            let (Value::Array(events), Value::Array(data)) = (events, data) else {
                return Err(JsError::new(
                    "HubSpot destination: a batch must be an array of events",
                )
                .into());
            };
            let entries: Vec<destination::Entry> = events
                .into_iter()
                .enumerate()
                .map(|(i, event)| {
                    let rule = rules.get(i).and_then(|r| usize::try_from(*r).ok());
                    (
                        Event::Tree(event),
                        rule,
                        data.get(i).cloned().unwrap_or_default(),
                    )
                })
                .collect();
            let host = |i: usize| JsHost {
                callbacks: callbacks.clone(),
                root: roots.get(i as u32),
                collector: collector.clone(),
                logger: logger.clone(),
            };
            let report = destination::push_batch(&core, &*transport, entries, host).await;
            finish(report, &logger, &transport, &on_drop)
        })
    }

    /// Sends queued events: full batches, or everything when `all`.
    /// Sends what is queued: full batches, or everything when `all`;
    /// `force` does not wait out a backoff (the last try before shutdown).
    pub fn flush(&self, all: bool, force: bool, logger: JsValue) -> Promise {
        let core = self.core.clone();
        let transport = self.transport.clone();
        let on_drop = self.on_drop.clone();
        future_to_promise(async move {
            let mut report = Report::default();
            let batched = core.borrow().settings.batch;
            destination::flush_held(&core, &*transport, all, force, batched, &mut report).await;
            finish(report, &logger, &transport, &on_drop)
        })
    }

    /// Gives up on everything still queued (the process is ending): each
    /// event goes to `onDrop` with `reason`, and one error is logged.
    pub fn abandon(&self, reason: &str, logger: JsValue) {
        let report = self.core.borrow_mut().abandon(reason);
        let _ = finish(report, &logger, &self.transport, &self.on_drop);
    }

    /// `stats()` as JSON text.
    pub fn stats(&self) -> String {
        self.core.borrow().stats_json()
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

    /// Batch mode: events not accepted yet (held back, queued or under way)
    /// from which a push waits for the requests under way (half of
    /// `maxQueue`), so a producer faster than HubSpot slows down before
    /// `maxQueue` drops anything.
    #[wasm_bindgen(js_name = highWater)]
    pub fn high_water(&self) -> u32 {
        (self.core.borrow().settings.max_queue / 2).max(1) as u32
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
    /// message }] }` as JSON text, for `event` (JSON text; `root` the event
    /// itself) under `rule`. Sends nothing and changes no state.
    pub fn explain(
        &self,
        event: &str,
        rule: Option<u32>,
        data: Option<String>,
        root: JsValue,
        logger: JsValue,
    ) -> Result<String, JsError> {
        let (event, data) = parse_event(event, data)?;
        let host = self.host(root, JsValue::UNDEFINED, &logger);
        let (requests, notices) =
            self.core
                .borrow()
                .explain(&event, rule.map(|r| r as usize), &data, &host);
        // The bodies are JSON text already: they go in as they are.
        let mut out = String::from("{\"requests\":[");
        for (i, r) in requests.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            json::push_key(&mut out, "method");
            json::push_str(&mut out, r.method);
            out.push(',');
            json::push_key(&mut out, "path");
            json::push_str(&mut out, r.path);
            out.push_str(",\"body\":");
            out.push_str(&r.body);
            out.push('}');
        }
        out.push_str("],\"notes\":[");
        for (i, n) in notices.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            json::push_key(&mut out, "level");
            json::push_str(&mut out, n.level.method());
            out.push(',');
            json::push_key(&mut out, "message");
            json::push_str(&mut out, &n.message);
            out.push('}');
        }
        out.push_str("]}");
        Ok(self.transport.redact(out))
    }
}

/// The whole event, for a mapping that needs more than the fields sent.
fn whole_event(root: &JsValue) -> Option<Value> {
    let text = js_sys::JSON::stringify(root).ok()?.as_string()?;
    Value::parse(&text).ok()
}

fn parse(json: &str, what: &str) -> Result<Value, JsError> {
    Value::parse(json).map_err(|e| {
        JsError::new(&format!(
            "HubSpot destination: the {what} could not be read: {e}"
        ))
    })
}

/// An event and the collector's mapped data, from JSON text.
fn parse_event(event: &str, data: Option<String>) -> Result<(Value, Value), JsError> {
    let event = parse(event, "event")?;
    let data = match data {
        Some(data) => parse(&data, "data")?,
        None => Value::Undefined,
    };
    Ok((event, data))
}

/// For text from the shell's tagging encoder (configs, and values given to
/// the mapping functions).
fn parse_tagged(json: &str, what: &str) -> Result<Value, JsError> {
    Value::parse_tagged(json).map_err(|e| {
        JsError::new(&format!(
            "HubSpot destination: the {what} could not be read: {e}"
        ))
    })
}

/// Logs the notices, hands dropped events to `onDrop`, and settles with the
/// retry delay (ms) when something waits for one, else undefined.
fn finish(
    report: Report,
    logger: &JsValue,
    transport: &FetchTransport,
    on_drop: &JsValue,
) -> Result<JsValue, JsValue> {
    log_all(&report.notices, logger, transport);
    // Most reports drop nothing: only then is `onDrop` looked at.
    let on_drop = if report.dropped.is_empty() {
        None
    } else {
        on_drop.clone().dyn_into::<Function>().ok()
    };
    if let Some(on_drop) = on_drop {
        for (input, reason) in &report.dropped {
            let event = js_sys::JSON::parse(input).unwrap_or(JsValue::UNDEFINED);
            let reason = JsValue::from_str(&transport.redact(reason.clone()));
            // A throwing onDrop is the user's bug; it must not stop delivery.
            let _ = on_drop.call2(&JsValue::UNDEFINED, &event, &reason);
        }
    }
    Ok(report.retry_in.map_or(JsValue::UNDEFINED, JsValue::from))
}

/// Hands each notice to `logger[level](message, { event })`.
fn log_all(notices: &[Notice], logger: &JsValue, transport: &FetchTransport) {
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
        let message = transport.redact(format!("HubSpot: {}", notice.message));
        let _ = method.call2(logger, &message.into(), &context);
    }
}

/// `getMappingValue(value, mapping, { consent })` as @walkeros/core resolves
/// it. `value` and `mapping` are JSON text (functions in `mapping` as
/// markers into `callbacks`); `root` is the caller's value itself.
#[wasm_bindgen(js_name = getMappingValue)]
pub fn get_mapping_value(
    value: &str,
    mapping: &str,
    consent: Option<String>,
    callbacks: Array,
    root: JsValue,
    collector: JsValue,
    logger: JsValue,
) -> Result<JsValue, JsError> {
    let value = parse_tagged(value, "value")?;
    let compiled = mapping::compile(&parse_tagged(mapping, "mapping")?);
    let consent = consent.map(|c| parse_tagged(&c, "consent")).transpose()?;
    let consent = consent.as_ref().and_then(Value::as_object);
    // The host is only called where the mapping has functions.
    let host = JsHost {
        callbacks,
        root,
        collector,
        logger,
    };
    let result = mapping::resolve_with(&value, &compiled, consent, &host);
    Ok(to_js_result(&result))
}

/// `getMappingEvent(event, mapping)`: the matched rule as `[entityKey,
/// actionKey, index]` (index undefined unless the slot is an array), or
/// undefined. Throws when a rule condition throws, as walkerOS does.
#[wasm_bindgen(js_name = getMappingEvent)]
pub fn get_mapping_event(
    event: &str,
    mapping: &str,
    callbacks: Array,
    root: JsValue,
    collector: JsValue,
) -> Result<JsValue, JsValue> {
    let event = parse_tagged(event, "event")?;
    let table = RuleTable::compile(&parse_tagged(mapping, "mapping")?);
    let host = JsHost {
        callbacks,
        root,
        logger: JsValue::UNDEFINED,
        collector,
    };
    let found = table
        .find(&event, &host)
        .map_err(|_| JsValue::from(JsError::new("a mapping rule condition threw")))?;
    Ok(match found {
        Some(m) => Array::of3(
            &m.entity.into(),
            &m.action.into(),
            &m.index
                .map_or(JsValue::UNDEFINED, |i| JsValue::from(i as u32)),
        )
        .into(),
        None => JsValue::UNDEFINED,
    })
}

/// Named mappings compiled once and resolved together per event: one
/// boundary crossing for a whole rule's values.
#[wasm_bindgen]
pub struct MappingSet {
    names: Vec<crate::value::Key>,
    mappings: Vec<mapping::Mapping>,
    callbacks: Array,
}

#[wasm_bindgen]
impl MappingSet {
    /// `mappings` is tagged JSON text of `{ name: mappingValue, ... }`.
    #[wasm_bindgen(constructor)]
    pub fn new(mappings: &str, callbacks: Array) -> Result<MappingSet, JsError> {
        let Value::Object(entries) = parse_tagged(mappings, "mappings")? else {
            return Err(JsError::new(
                "compileMappings takes an object of names to mapping values",
            ));
        };
        let (names, mappings) = entries
            .iter()
            .map(|(name, value)| (name.clone(), mapping::compile(value)))
            .unzip();
        Ok(MappingSet {
            names,
            mappings,
            callbacks,
        })
    }

    fn resolve_all(
        &self,
        event: &Value,
        consent: Option<&crate::value::Object>,
        host: &JsHost,
        partial: bool,
    ) -> Option<Value> {
        let mut results = Vec::with_capacity(self.names.len());
        for (name, m) in self.names.iter().zip(&self.mappings) {
            let value = if partial {
                mapping::resolve_partial(event, m, consent, host).ok()?
            } else {
                mapping::resolve_with(event, m, consent, host)
            };
            if !value.is_undefined() {
                results.push((name.clone(), value));
            }
        }
        Some(Value::Object(results))
    }

    /// What to serialise of an event (see `HubspotCore::projection`).
    pub fn projection(&self) -> Option<String> {
        let mut projection = mapping::Projection::default();
        projection.include("consent");
        for m in &self.mappings {
            if !m.project(&mut projection) {
                return None;
            }
        }
        Some(projection.to_json())
    }

    /// Resolves every mapping against the event (plain JSON text; `root` is
    /// the event object itself): `{ name: value, ... }`.
    pub fn resolve(
        &self,
        event: &str,
        consent: Option<String>,
        root: JsValue,
        collector: JsValue,
        partial: bool,
    ) -> Result<JsValue, JsError> {
        let event = parse(event, "event")?;
        let consent = consent.map(|c| parse_tagged(&c, "consent")).transpose()?;
        let consent = consent.as_ref().and_then(Value::as_object);
        let host = JsHost {
            callbacks: self.callbacks.clone(),
            root,
            logger: JsValue::UNDEFINED,
            collector,
        };
        // With only some of the event's fields sent, a mapping that needs
        // them all says so; then resolve again with all of them.
        let results = match self.resolve_all(&event, consent, &host, partial) {
            Some(results) => results,
            None => {
                let whole = whole_event(&host.root).unwrap_or(event);
                self.resolve_all(&whole, consent, &host, false)
                    .unwrap_or_default()
            }
        };
        Ok(to_js_result(&results))
    }
}

/// The benchmark's scale figure: bytes the contact dedup holds per contact
/// after `contacts` distinct contacts.
#[wasm_bindgen(js_name = dedupBytesPerContact)]
pub fn dedup_bytes_per_contact(contacts: u32) -> f64 {
    let mut dedup = crate::dedup::Dedup::new(contacts as usize);
    for i in 0..contacts {
        dedup.claim(&crate::plan::ContactUpsert {
            email: format!("user{i}@example.com"),
            properties: vec![("firstname".into(), "Jane".into())],
        });
    }
    dedup.memory_bytes() as f64 / f64::from(contacts.max(1))
}

/// The JSON Schemas of `settings` and of a rule's `settings`, as JSON text:
/// `{ settings, mapping }`.
#[wasm_bindgen]
pub fn schemas() -> String {
    crate::schema::schemas_json()
}
