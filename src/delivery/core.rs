//! The destination's state (settings, compiled rules, contact dedup, the
//! delivery queues, retry and rate-limit state, counters) and the order of
//! its requests: contact upserts before the events that depend on them,
//! batches at size and on flush, retries after a backoff. The I/O itself
//! goes through a `Transport`, so this knows nothing of JavaScript.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use futures_util::lock::Mutex;

use crate::config::names;
use crate::config::rule::Rule;
use crate::config::settings::{Credentials, DefinitionsMode, Settings};
use crate::delivery::backoff::Backoff;
use crate::delivery::dedup::Dedup;
use crate::delivery::definitions::{Definitions, Expected, Need, Work};
use crate::delivery::limiter::{Limiter, RateHeaders};
use crate::delivery::queue::Queue;
use crate::delivery::spool::{Replayed, Spool};
use crate::delivery::stats::Stats;
use crate::delivery::token::{Next, Renewal, Rotated, Tokens};
use crate::error::{ConfigError, Notice};
use crate::hubspot::api::{self, Outcome, Request};
use crate::hubspot::definitions::{self as defs, Answer, Definition, PropertyAnswer, PropertySpec};
use crate::hubspot::oauth::TokenRequest;
use crate::hubspot::plan::{self, ContactUpsert, EventInput, Plan};
use crate::mapping::value::Value;
use crate::mapping::Host;

/// What came back for a request.
pub enum Response {
    Status(u16, String, Headers),
    /// No HTTP answer at all (connection refused, reset, timed out).
    Network(String),
    /// Not sent: no access token could be had (the token endpoint failed
    /// for now, or refused the refresh token for good).
    NoToken {
        reason: String,
        retry_after_ms: Option<u32>,
    },
}

/// The response headers delivery reads.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Headers {
    pub retry_after_ms: Option<u32>,
    pub rate: RateHeaders,
}

pub trait Transport {
    /// A HubSpot API request, with this `authorization` header value.
    fn send(&self, request: &Request, authorization: &str) -> impl Future<Output = Response>;
    /// A token request: form-encoded, without an `authorization` header.
    fn renew(&self, request: &TokenRequest) -> impl Future<Output = Response>;
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> f64;
}

pub struct Core {
    pub settings: Settings,
    rules: Vec<Rule>,
    /// The event's top-level fields planning reads without a rule (first)
    /// and under each rule.
    reads: Vec<Vec<String>>,
    dedup: Dedup,
    /// Events waiting for delivery: the batch queue, and in single mode
    /// the events whose first try failed.
    queue: Queue,
    /// Claimed contact upserts waiting to be sent.
    upserts: Vec<ContactUpsert>,
    backoff: Backoff,
    limiter: Limiter,
    /// HubSpot's daily CRM limit is used up until then (ms since epoch).
    crm_paused_until: f64,
    /// After a failed event send, events wait until then (the backoff, or
    /// the rate-limit window).
    events_held_until: f64,
    /// Likewise for contact upserts.
    upserts_held_until: f64,
    stats: Stats,
    /// HubSpot's event definitions as far as known, and those being made.
    definitions: Definitions,
    /// Events and upserts taken from the queues and not answered yet.
    in_flight: usize,
    /// Upsert requests under way: events wait for them, as they may depend
    /// on the contacts.
    upserts_sending: usize,
    /// The queue is at `maxQueue` and dropping: warn once per burst.
    overflowing: bool,
    auth_reported: bool,
    /// The disk spool's journal state (`settings.spool`).
    spool: Option<Spool>,
    /// The access token. Behind an async lock held across a renewal: one
    /// renewal at a time, and requests needing a token meanwhile wait for
    /// it instead of asking again.
    tokens: Rc<Mutex<Tokens>>,
    /// HubSpot refused the OAuth refresh token: nothing is sent any more,
    /// and what is queued waits for the shutdown (then `onDrop`).
    stopped: bool,
}

/// What a push or flush did, for the shell to log, throw, report and
/// schedule.
#[derive(Debug, Default)]
pub struct Report {
    pub notices: Vec<Notice>,
    /// Event inputs given up on, with the reason.
    pub dropped: Vec<(EventInput, String)>,
    /// Try again after this many milliseconds: something is still queued
    /// after a failure or is waiting for the rate limit.
    pub retry_in: Option<u32>,
    /// Spool only: the text the journal becomes (a compaction), written
    /// before `journal`.
    pub rewrite: Option<String>,
    /// Spool only: lines to append to the journal.
    pub journal: String,
    /// A refresh token HubSpot rotated to, for `env.onToken`.
    pub token: Option<Rotated>,
}

impl Report {
    /// Whether the shell has anything to log, write or call back with
    /// (`retry_in` is returned, not handed on).
    pub fn has_output(&self) -> bool {
        !(self.notices.is_empty()
            && self.dropped.is_empty()
            && self.token.is_none()
            && self.rewrite.is_none()
            && self.journal.is_empty())
    }

    fn retry_after(&mut self, ms: u32) {
        self.retry_in = Some(self.retry_in.map_or(ms, |r| r.min(ms)));
    }
}

impl Core {
    /// `seed` spreads retries of many processes apart.
    pub fn new(settings: Settings, seed: u64) -> Core {
        let mut core = Core {
            dedup: Dedup::new(settings.dedup_capacity),
            limiter: Limiter::new(settings.rate_limit, 10_000),
            backoff: Backoff::new(seed),
            definitions: Definitions::new(&settings),
            spool: (settings.spool.is_some())
                .then(|| Spool::new(u64::from(settings.spool_max_bytes))),
            tokens: Rc::new(Mutex::new(Tokens::new(&settings.credentials))),
            settings,
            rules: Vec::new(),
            reads: Vec::new(),
            queue: Queue::default(),
            upserts: Vec::new(),
            crm_paused_until: 0.0,
            events_held_until: 0.0,
            upserts_held_until: 0.0,
            stats: Stats::default(),
            in_flight: 0,
            upserts_sending: 0,
            overflowing: false,
            auth_reported: false,
            stopped: false,
        };
        core.reads.push(core.read_keys(None));
        core
    }

    /// Compiles a mapping rule and returns its handle. `field` names it in
    /// errors, such as `mapping.order.complete`; `name` is the walkerOS
    /// event name its key (or its `name`) gives, if any: the definition it
    /// names is then known at init.
    pub fn add_rule_named(
        &mut self,
        rule: &Value,
        field: &str,
        name: Option<&str>,
    ) -> Result<usize, ConfigError> {
        let mut rule = Rule::from_value(rule, field, &self.settings.event_name_prefix)?;
        if !rule.ignore && !rule.silent {
            rule.definition = rule
                .event_name
                .clone()
                .or_else(|| names::event_name(name?).ok().map(|(part, _)| part));
        }
        self.reads.push(self.read_keys(Some(&rule)));
        self.rules.push(rule);
        Ok(self.rules.len() - 1)
    }

    /// `read_keys(rule)`, as worked out when the rule was added (none for
    /// a rule handle this core never gave out).
    pub fn reads(&self, rule: Option<usize>) -> Option<&[String]> {
        let index = rule.map_or(Some(0), |r| r.checked_add(1))?;
        self.reads.get(index).map(Vec::as_slice)
    }

    pub fn plan(&self, event: &Value, rule: Option<usize>, data: &Value, host: &dyn Host) -> Plan {
        let rule = rule.and_then(|id| self.rules.get(id));
        plan::plan(&self.settings, event, rule, data, host)
    }

    /// The event's top-level fields planning reads under `rule`. The shell
    /// hands over only those.
    fn read_keys(&self, rule: Option<&Rule>) -> Vec<String> {
        let mut keys: Vec<String> = ["name", "id", "timestamp"].map(String::from).to_vec();
        let s = &self.settings;
        let mappings = [&s.email, &s.object_id, &s.utk, &s.identify]
            .into_iter()
            .chain(rule.map(|r| &r.identify))
            .chain(rule.map(|r| &r.properties))
            .flatten();
        let mut consent = false;
        for mapping in mappings {
            mapping.read_keys(&mut keys);
            consent |= mapping.reads_consent();
        }
        // The event's consent only where a mapping asks for some.
        if consent && !keys.iter().any(|k| k == "consent") {
            keys.push("consent".into());
        }
        keys
    }

    /// The requests pushing `event` would make on a fresh destination, and
    /// the notes on what was skipped or cut, without sending anything. In
    /// batch mode the event is shown as a batch of one.
    pub fn explain(
        &self,
        event: &Value,
        rule: Option<usize>,
        data: &Value,
        host: &dyn Host,
    ) -> (Vec<Request>, Vec<Notice>) {
        let plan = self.plan(event, rule, data, host);
        let mut requests = Vec::new();
        // A fresh destination: "check" reads the event's definition at init,
        // "create" creates it with this event's properties, before any event.
        match (&plan.send, self.definitions.mode) {
            (Some(input), DefinitionsMode::Check) => requests.push(defs::read(&input.name)),
            (Some(input), DefinitionsMode::Create) => {
                let specs: Vec<PropertySpec> = input
                    .properties
                    .iter()
                    .zip(&input.types)
                    .map(|((name, _), kind)| PropertySpec::new(name, *kind))
                    .collect();
                requests.push(defs::create(&input.name, &specs));
            }
            _ => {}
        }
        requests.extend(plan.upsert.map(|u| Request::upsert(&[u])));
        if let Some(mut input) = plan.send {
            if input.event_name.is_empty() {
                // Learned from HubSpot's answer when the events go.
                input.event_name = format!("pe{{HubID}}_{}", input.name);
            }
            requests.push(if self.settings.batch {
                Request::send_batch(&[input])
            } else {
                Request::send_event(&input)
            });
        }
        (requests, plan.notices)
    }

    /// True once HubSpot refused the OAuth refresh token: nothing will be
    /// sent, so a shutdown need not wait for anything.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The definitions the rules name, each once, with the properties
    /// known before any event (`defaultProperties`, the keys of
    /// `properties.map`, `propertyTypes`) and the types stated or given.
    pub fn rule_definitions(&self) -> Vec<(String, Expected)> {
        let mut out: Vec<(String, Expected)> = Vec::new();
        for rule in &self.rules {
            let Some(name) = &rule.definition else {
                continue;
            };
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.clone(), Vec::new()));
            }
            let props = &mut out.iter_mut().find(|(n, _)| n == name).expect("added").1;
            let defaults = self.settings.default_property_types.iter();
            let defaults = defaults.map(|(k, t)| (&**k, Some(*t)));
            let named = rule
                .mapped_keys
                .iter()
                .chain(rule.property_types.iter().map(|(k, _)| k));
            for (key, kind) in defaults.chain(named.map(|k| (k.as_str(), None))) {
                let kind = rule.stated_type(key).or(kind);
                match props.iter_mut().find(|(k, _)| k == key) {
                    Some(slot) => slot.1 = slot.1.or(kind),
                    None => props.push((key.to_string(), kind)),
                }
            }
        }
        out
    }

    /// Events waiting in the batch queue.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Empties the queues for good (the process is ending).
    pub fn abandon(&mut self, reason: &str) -> Report {
        let mut report = Report::default();
        if self.spool.is_some() {
            return self.keep_spooled();
        }
        let (events, upserts) = (self.queue.len(), self.upserts.len());
        if events > 0 {
            let message = format!("{events} queued events could not be delivered: {reason}");
            report.notices.push(Notice::error("", message));
            let left = self.queue.take(events);
            self.drop_inputs(left, "shutdown", reason, &mut report);
        }
        if upserts > 0 {
            let message = format!("{upserts} contact upserts could not be sent: {reason}");
            report.notices.push(Notice::error("", message));
            self.upserts.clear();
        }
        report
    }

    /// With a spool, shutting down gives nothing up: the journal keeps
    /// what is left for the next start.
    fn keep_spooled(&mut self) -> Report {
        let mut report = Report::default();
        let (events, upserts) = (self.queue.len(), self.upserts.len());
        if events + upserts > 0 {
            report.notices.push(Notice::warn(
                "",
                format!("{events} queued events and {upserts} contact upserts stay in the spool (settings.spool) and are sent on the next start"),
            ));
        }
        self.queue.take(events);
        self.upserts.clear();
        report
    }

    /// The counters; `queued` counts what is on its way too.
    pub fn stats(&self) -> Stats {
        Stats {
            queued: (self.queue.len() + self.in_flight) as u64,
            queued_upserts: self.upserts.len() as u64,
            spooled: self.spool.as_ref().map_or(0, |s| s.live() as u64),
            ..self.stats.clone()
        }
    }

    /// Reads journal text at start (whole lines); `tail` is a last line
    /// without its newline.
    pub fn spool_read(&mut self, text: &str, tail: bool) -> Report {
        let mut report = Report::default();
        if let Some(spool) = &mut self.spool {
            spool.read(text, tail, &mut report.notices);
        }
        report
    }

    /// Queues what the journal read at start holds that is not done, before
    /// anything else, and rewrites the journal to just those records (which
    /// also drops a cut last line, so nothing is appended to it).
    pub fn replay(&mut self) -> Report {
        let mut report = Report::default();
        let Some(spool) = &mut self.spool else {
            return report;
        };
        let records = spool.take_read();
        // Before the records are queued: those given up on now (at
        // maxQueue) are appended as done after it.
        report.rewrite = Some(spool.rewrite());
        let events = records
            .iter()
            .filter(|r| matches!(r, Replayed::Event(_)))
            .count();
        let upserts = records.len() - events;
        self.stats.replayed += events as u64;
        for record in records {
            match record {
                Replayed::Event(input) => self.enqueue(input, &mut report),
                Replayed::Upsert(upsert) => {
                    // Known to the dedup, so the same contact is not
                    // upserted again while this one waits.
                    self.dedup.claim(&upsert);
                    self.upserts.push(upsert);
                }
            }
        }
        if events + upserts > 0 {
            report.notices.push(Notice::info(
                "",
                format!(
                    "{events} events and {upserts} contact upserts from the spool are queued again"
                ),
            ));
        }
        report
    }

    /// Records HubSpot took, or that were given up on for good.
    fn spool_done(&mut self, ids: impl IntoIterator<Item = u64>, report: &mut Report) {
        let Some(spool) = &mut self.spool else {
            return;
        };
        if let Some(line) = spool.done(ids) {
            report.journal.push_str(&line);
        }
        if let Some(text) = spool.compaction() {
            // The new journal holds every live record, so what this report
            // was to append is in it already.
            report.rewrite = Some(text);
            report.journal.clear();
        }
    }

    /// Events and upserts waiting to be sent (not those under way).
    pub fn waiting(&self) -> usize {
        self.queue.len() + self.upserts.len()
    }

    /// Events and upserts not accepted by HubSpot yet: queued, or sent and
    /// not answered.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.upserts.len() + self.in_flight
    }

    /// Queues an event input for delivery; at `maxQueue` the oldest makes
    /// room, with one warning per burst.
    fn enqueue(&mut self, input: EventInput, report: &mut Report) {
        // `maxQueue` is at least 1, so the queue holds an oldest.
        if self.queue.len() >= self.settings.max_queue {
            if !self.overflowing {
                report.notices.push(Notice::warn(
                    "",
                    format!("the delivery queue is full (settings.maxQueue {}): dropping the oldest events until HubSpot catches up", self.settings.max_queue),
                ));
            }
            self.overflowing = true;
            let oldest = self.queue.take(1);
            self.drop_inputs(oldest, "queue_full", "the delivery queue was full", report);
        } else if self.queue.len() < self.settings.max_queue / 2 {
            self.overflowing = false;
        }
        self.queue.push(input);
        self.bound_spool(report);
    }

    /// Past `spoolMaxBytes` of live records the oldest queued events make
    /// room, with one warning per burst (as at `maxQueue`).
    fn bound_spool(&mut self, report: &mut Report) {
        let Some(spool) = &mut self.spool else {
            return;
        };
        let max = spool.max_bytes;
        if spool.live_bytes() <= max {
            if spool.live_bytes() < max / 2 {
                spool.overflowing = false;
            }
            return;
        }
        if !spool.overflowing {
            spool.overflowing = true;
            report.notices.push(Notice::warn(
                "",
                format!("the spool is full (settings.spoolMaxBytes {max}): dropping the oldest events until HubSpot catches up"),
            ));
        }
        // Records on their way to HubSpot cannot be given up on; they count
        // again once they are back in the queue (`retry_later`). Till then
        // the newest event stays, so the oldest are the ones that go.
        while self.queue.len() > 1 && self.spool.as_ref().is_some_and(|s| s.live_bytes() > max) {
            let oldest = self.queue.take(1);
            self.drop_inputs(oldest, "spool_full", "the spool was full", report);
        }
    }

    fn drop_inputs(
        &mut self,
        inputs: Vec<EventInput>,
        code: &str,
        reason: &str,
        report: &mut Report,
    ) {
        self.stats.drop_events(code, inputs.len() as u64);
        self.spool_done(inputs.iter().map(|i| i.spool_id), report);
        report
            .dropped
            .extend(inputs.into_iter().map(|i| (i, reason.to_string())));
    }

    /// Takes a CRM rate-limit token now, or says how many milliseconds to
    /// wait (for the daily limit's reset, or the limiter).
    fn take_crm(&mut self, now: f64) -> Result<(), u32> {
        match ms_until(self.crm_paused_until, now) {
            0 => self.limiter.take(now),
            wait => Err(wait),
        }
    }
}

/// One event as the shell hands it over: the event (perhaps only the
/// fields `Core::reads` names), its rule handle, and the collector's mapped
/// data (undefined when there is none).
pub type Entry = (Value, Option<usize>, Value);

/// Plans, counts and queues events and their contact upserts, without
/// I/O: `host(i)` calls entry `i`'s mapping functions, and `whole(i)` gives
/// all of event `i` where a mapping took the event itself as a value. True
/// when a flush is due (single mode: always; batch mode: a full batch, or
/// enough upserts), which the caller then starts.
pub fn queue_all<H: Host>(
    core: &RefCell<Core>,
    entries: Vec<Entry>,
    host: impl Fn(usize) -> H,
    whole: impl Fn(usize) -> Option<Value>,
) -> (Report, bool) {
    let mut report = Report::default();
    for (index, (event, rule, data)) in entries.into_iter().enumerate() {
        // Planning may call mapping functions, which may push into this
        // destination: the core is not borrowed mutably meanwhile.
        let mut plan = core.borrow().plan(&event, rule, &data, &host(index));
        if plan.took_event {
            if let Some(event) = whole(index) {
                plan = core.borrow().plan(&event, rule, &data, &host(index));
            }
        }
        let mut core = core.borrow_mut();
        let core = &mut *core;
        report.notices.extend(plan.notices);
        // Upserts this destination has not sent with these properties yet
        // are claimed, counting them as sent.
        match plan.upsert {
            Some(mut upsert) if core.dedup.claim(&upsert) => {
                if let Some(spool) = &mut core.spool {
                    report.journal.push_str(&spool.record_upsert(&mut upsert));
                }
                core.upserts.push(upsert);
            }
            Some(_) => core.stats.deduplicated += 1,
            None => {}
        }
        if let Some(reason) = plan.skipped {
            core.stats.skip(reason);
        }
        if let Some(mut input) = plan.send {
            core.stats.accepted += 1;
            if let Some(spool) = &mut core.spool {
                report.journal.push_str(&spool.record_event(&mut input));
            }
            core.enqueue(input, &mut report);
        }
    }
    let core = core.borrow();
    let due = !core.settings.batch
        || core.queue.len() >= core.settings.batch_size
        || core.upserts.len() >= api::MAX_UPSERT_BATCH;
    (report, due)
}

/// A future boxed as a trait object, so its states are not compiled into
/// the caller's (see `retry_later`).
type Boxed<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + 'a>>;

/// Sends what is queued: contact upserts first (the events may depend on
/// them), then events, in full batches only, or everything when `all`.
/// `batched` says whether events wait for a full batch of `batchSize` (else
/// each goes as soon as it can, with the single endpoint when it goes
/// alone). A batch HubSpot rejects as a whole with 400 is split in halves
/// until the bad events are found; only those are dropped. On a retryable
/// failure the rest stays queued and `retry_in` says when to try again.
pub async fn flush_held(
    core: &RefCell<Core>,
    transport: &impl Transport,
    all: bool,
    batched: bool,
    report: &mut Report,
) {
    loop {
        let batch = {
            let core = core.borrow();
            if core.stopped {
                return;
            }
            // Batch mode waits for a full batch; single mode sends as soon
            // as one event waits (several flushes run side by side).
            let size = if batched { core.settings.batch_size } else { 1 };
            let now = transport.now_ms();
            let held = now < core.events_held_until || core.upserts_sending > 0;
            if held && !core.queue.is_empty() {
                report.retry_after(ms_until(core.events_held_until, now));
            }
            let events_ready =
                !held && (core.queue.len() >= size || (all && !core.queue.is_empty()));
            let upserts_ready = !core.upserts.is_empty()
                && (events_ready || all || core.upserts.len() >= api::MAX_UPSERT_BATCH);
            if !events_ready && !upserts_ready {
                return;
            }
            events_ready
        };
        if !core.borrow().upserts.is_empty() {
            let upserts: Boxed<'_, ()> = Box::pin(send_upserts(core, transport, report));
            upserts.await;
        }
        if !batch {
            return;
        }
        // The definitions these events need come first; events whose
        // definition another loop is making wait for it (it sends them).
        let work = {
            let core = core.borrow();
            core.definitions
                .work(core.queue.front(core.settings.batch_size))
        };
        match work {
            Work::Ready => {}
            // The loop preparing the definition sends these once it is
            // done; the retry only guards against that loop having given
            // up, and keeps a caller from starting this loop again at once.
            Work::Busy => {
                report.retry_after(BUSY_RETRY_MS);
                return;
            }
            Work::Prepare(needs) => {
                let prepared: Boxed<'_, bool> =
                    Box::pin(prepare_needs(core, transport, needs, report));
                if !prepared.await {
                    return;
                }
                continue;
            }
        }
        let inputs = {
            let mut core_ref = core.borrow_mut();
            let core = &mut *core_ref;
            // Single mode holds nothing back, but the events that are already
            // waiting when a request goes out travel together, up to
            // batchSize: under load one request carries many, and a lone
            // event still goes alone to the single endpoint.
            let mut inputs = Vec::new();
            for mut input in core.queue.take(core.settings.batch_size) {
                let notices = &mut report.notices;
                match core.definitions.shape(&mut input, notices, &mut core.stats) {
                    Ok(()) => inputs.push(input),
                    Err(reason) => {
                        let message = format!("event dropped: {reason}");
                        report.notices.push(Notice::error(&input.name, message));
                        core.drop_inputs(vec![input], "no_prefix", &reason, report);
                    }
                }
            }
            core.in_flight += inputs.len();
            inputs
        };
        if inputs.is_empty() {
            continue;
        }
        let taken = inputs.len();
        let done = send_isolating(core, transport, inputs, !batched, report).await;
        core.borrow_mut().in_flight -= taken;
        if !done {
            return;
        }
    }
}

/// Milliseconds until events waiting for a definition another loop is
/// making are looked at again.
const BUSY_RETRY_MS: u32 = 100;

/// Why definition calls stopped before they were done.
enum Later {
    /// The CRM rate limit: try again in this many milliseconds.
    Limiter(u32),
    /// HubSpot could not answer now; the wait it named, if any.
    Retry(String, Option<u32>),
}

/// One call to the definitions API, through the CRM rate limiter. A 403
/// turns definitions off (with one warning).
async fn definition_call<T: serde::de::DeserializeOwned>(
    core: &RefCell<Core>,
    transport: &impl Transport,
    request: &Request,
    report: &mut Report,
) -> Result<Answer<T>, Later> {
    let now = transport.now_ms();
    core.borrow_mut().take_crm(now).map_err(Later::Limiter)?;
    let sent = Sent::from(send_authorized(core, transport, request, report).await);
    core.borrow_mut()
        .limiter
        .observe(&sent.rate, transport.now_ms());
    let answer = match sent.outcome {
        // No answer at all (network, no token).
        Outcome::Retryable(reason) if sent.status == 0 => Err(reason),
        _ => defs::read_answer(sent.status, &sent.body),
    }
    .map_err(|reason| Later::Retry(reason, sent.wait))?;
    if let Answer::Forbidden = answer {
        report
            .notices
            .extend(core.borrow_mut().definitions.forbid());
    }
    Ok(answer)
}

/// Makes what `need` asks for: the definition (created; read when another
/// collector made it first) and the properties it lacks. `Ok` also when
/// HubSpot refused for good (logged once; the events go as they are).
async fn ensure(
    core: &RefCell<Core>,
    transport: &impl Transport,
    need: &Need,
    report: &mut Report,
) -> Result<(), Later> {
    let name = need.name.as_str();
    // A 403 on an earlier call turned definitions off.
    if core.borrow().definitions.mode != DefinitionsMode::Create {
        return Ok(());
    }
    if !core.borrow().definitions.is_known(name) {
        let request = defs::create(name, &need.properties);
        let mut answer = definition_call::<Definition>(core, transport, &request, report).await?;
        if let Answer::Done(created) = &answer {
            let mut core = core.borrow_mut();
            let count = need.properties.len();
            core.stats.definitions_created += 1;
            core.stats.properties_created += count as u64;
            report.notices.push(Notice::info(
                name,
                format!(
                    "event definition {:?} created in HubSpot with {count} properties",
                    created.fully_qualified_name
                ),
            ));
        } else if let Answer::Exists = answer {
            // Another collector won the race: what it made is read once.
            answer = definition_call(core, transport, &defs::read(name), report).await?;
        }
        let mut core = core.borrow_mut();
        let reason = match answer {
            Answer::Done(definition) => {
                core.definitions.learn(&definition, &mut report.notices);
                None
            }
            Answer::Forbidden => return Ok(()),
            Answer::Failed(reason) => Some(reason),
            Answer::Exists | Answer::Missing => Some("HubSpot neither made nor found it".into()),
        };
        if let Some(reason) = reason {
            core.definitions.refuse(name, None);
            report.notices.push(Notice::error(name, format!("event definition {name:?} could not be created in HubSpot, so its events are sent as they are: {reason}")));
            return Ok(());
        }
    }
    for spec in &need.properties {
        if core.borrow().definitions.settled(name, &spec.name) {
            continue;
        }
        let request = defs::create_property(name, spec);
        let answer = definition_call::<PropertyAnswer>(core, transport, &request, report).await?;
        let mut core = core.borrow_mut();
        let reason = match answer {
            Answer::Done(created) => {
                core.stats.properties_created += 1;
                let spec = created.spec().unwrap_or_else(|| spec.clone());
                core.definitions.add_property(name, spec);
                continue;
            }
            // Another collector added it first.
            Answer::Exists => {
                core.definitions.add_property(name, spec.clone());
                continue;
            }
            Answer::Forbidden => return Ok(()),
            Answer::Missing => "the definition does not exist".to_string(),
            Answer::Failed(reason) => reason,
        };
        core.definitions.refuse(name, Some(&spec.name));
        report.notices.push(Notice::error(name, format!("property {:?} could not be created on the HubSpot event definition {name:?}, so it is left out of its events: {reason}", spec.name)));
    }
    Ok(())
}

/// Prepares the definitions some waiting events need; their events wait
/// meanwhile. False when that has to be tried again later (`retry_in`
/// says when; the events stay queued).
async fn prepare_needs(
    core: &RefCell<Core>,
    transport: &impl Transport,
    needs: Vec<Need>,
    report: &mut Report,
) -> bool {
    let names = || needs.iter().map(|n| &n.name);
    core.borrow_mut().definitions.set_pending(names(), true);
    let mut result = Ok(());
    for need in &needs {
        result = ensure(core, transport, need, report).await;
        if result.is_err() {
            break;
        }
    }
    let mut core = core.borrow_mut();
    core.definitions.set_pending(names(), false);
    let delay = match result {
        Ok(()) => return true,
        Err(Later::Limiter(ms)) => ms,
        Err(Later::Retry(reason, wait)) => {
            let delay = core.backoff.next_delay(wait);
            report.notices.push(Notice::warn(
                "",
                format!("events wait for their HubSpot event definitions; next try in {delay} ms: {reason}"),
            ));
            delay
        }
    };
    let held = transport.now_ms() + f64::from(delay);
    core.events_held_until = core.events_held_until.max(held);
    report.retry_after(delay);
    false
}

/// At init: `"check"` reads each definition the rules name once and logs
/// what is missing or typed differently, with the fix; `"create"` makes
/// them (with the properties whose types are known now). Each definition
/// is tried once, whatever became of the others: one HubSpot could not
/// make now is made before its first event instead. Events of those names
/// wait meanwhile.
pub async fn prepare(core: &RefCell<Core>, transport: &impl Transport, report: &mut Report) {
    let mode = core.borrow().definitions.mode;
    let targets = core.borrow().rule_definitions();
    let names = || targets.iter().map(|(name, _)| name);
    core.borrow_mut().definitions.set_pending(names(), true);
    for (name, properties) in &targets {
        if core.borrow().definitions.mode == DefinitionsMode::Off {
            break;
        }
        if mode == DefinitionsMode::Create {
            let need = Need {
                name: name.clone(),
                properties: (properties.iter())
                    .filter_map(|(p, t)| t.map(|t| PropertySpec::new(p, t)))
                    .collect(),
            };
            if let Err(later) = ensure(core, transport, &need, report).await {
                let reason = match later {
                    Later::Retry(reason, _) => reason,
                    Later::Limiter(_) => {
                        "the CRM rate limit (settings.rateLimit) is used up".into()
                    }
                };
                report.notices.push(Notice::warn(name, format!("event definition {name:?} is not prepared yet; it is made before its first event is sent: {reason}")));
            }
            continue;
        }
        let answer = definition_call(core, transport, &defs::read(name), report).await;
        let core = &mut *core.borrow_mut();
        let found = match answer {
            Ok(Answer::Done(found)) => Ok(Some(found)),
            Ok(Answer::Missing) => Ok(None),
            Ok(Answer::Failed(reason)) | Err(Later::Retry(reason, _)) => Err(reason),
            Ok(_) => continue,
            Err(Later::Limiter(_)) => {
                Err("the CRM rate limit (settings.rateLimit) is used up".into())
            }
        };
        let notices = &mut report.notices;
        core.definitions.check(name, found, properties, notices);
    }
    core.borrow_mut().definitions.set_pending(names(), false);
}

/// Sends a batch, halving it on a 400 until the bad inputs are alone; true
/// when nothing is left to retry.
async fn send_isolating(
    core: &RefCell<Core>,
    transport: &impl Transport,
    inputs: Vec<EventInput>,
    single: bool,
    report: &mut Report,
) -> bool {
    let mut pending = vec![inputs];
    while let Some(inputs) = pending.pop() {
        let request = match inputs.as_slice() {
            [one] if single => Request::send_event(one),
            _ => Request::send_batch(&inputs),
        };
        let sent = Sent::from(send_authorized(core, transport, &request, report).await);
        let mut core = core.borrow_mut();
        match &sent.outcome {
            Outcome::Accepted => {
                core.stats.sent += inputs.len() as u64;
                core.backoff.reset();
                core.spool_done(inputs.iter().map(|i| i.spool_id), report);
                let (count, method, path) = (inputs.len(), request.method, &request.path);
                let message = format!("{count} event(s) accepted by HubSpot ({method} {path})");
                report.notices.push(Notice::debug("", message));
            }
            Outcome::Retryable(reason) => {
                let now = transport.now_ms();
                core.retry_later(inputs, pending, &sent, reason, now, report);
                return false;
            }
            Outcome::Permanent(_) if sent.status == 400 && inputs.len() > 1 => {
                let mut first = inputs;
                let second = first.split_off(first.len() / 2);
                pending.push(second);
                pending.push(first);
            }
            Outcome::Permanent(reason) => core.drop_rejected(inputs, sent.status, reason, report),
        }
    }
    true
}

/// The HubSpot event names of queued inputs, for messages: each name once,
/// in order, with its count when there are several (a rejected batch of 500
/// purchases reads `pe1_purchase ×500`, not the name 500 times).
fn event_names(inputs: &[EventInput]) -> String {
    let mut names: Vec<(&str, usize)> = Vec::new();
    for input in inputs {
        let name = input.event_name.as_str();
        match names.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => names.push((name, 1)),
        }
    }
    let shown: Vec<String> = names
        .into_iter()
        .map(|(name, count)| match count {
            1 => name.to_string(),
            _ => format!("{name} \u{d7}{count}"),
        })
        .collect();
    shown.join(", ")
}

/// Sends the queued upserts, merged per email, up to 100 a request, as the
/// rate limit allows. A contact HubSpot did not take for good is forgotten
/// by the dedup, so its next event retries it; one that failed for now
/// stays queued.
async fn send_upserts(core: &RefCell<Core>, transport: &impl Transport, report: &mut Report) {
    loop {
        let chunk = {
            let mut core = core.borrow_mut();
            if core.upserts.is_empty() {
                return;
            }
            let now = transport.now_ms();
            let ready = match ms_until(core.upserts_held_until, now) {
                0 => core.take_crm(now),
                held => Err(held),
            };
            if let Err(wait) = ready {
                report.retry_after(wait);
                return;
            }
            let mut merged = merge_by_email(std::mem::take(&mut core.upserts)).into_iter();
            let chunk: Vec<ContactUpsert> = merged.by_ref().take(api::MAX_UPSERT_BATCH).collect();
            core.upserts = merged.collect();
            core.in_flight += chunk.len();
            core.upserts_sending += 1;
            chunk
        };
        let request = Request::upsert(&chunk);
        let sent = Sent::from(send_authorized(core, transport, &request, report).await);
        let now = transport.now_ms();
        let mut core = core.borrow_mut();
        core.in_flight -= chunk.len();
        core.upserts_sending -= 1;
        core.limiter.observe(&sent.rate, now);
        let failed = match sent.outcome {
            Outcome::Accepted => api::read_upsert(sent.status, &sent.body, chunk.len()),
            Outcome::Permanent(reason) => Err(reason),
            Outcome::Retryable(reason) => {
                core.upserts_retry(chunk, sent.policy, sent.wait, &reason, now, report);
                return;
            }
        };
        // Taken or refused for good: either way never sent again.
        core.spool_done(
            chunk.iter().flat_map(|u| u.spool_ids.iter().copied()),
            report,
        );
        let failed =
            failed.unwrap_or_else(|reason| (0..chunk.len()).map(|i| (i, reason.clone())).collect());
        let written = chunk.len() - failed.len();
        core.stats.contacts_upserted += written as u64;
        if written > 0 {
            let message = format!("{written} contact(s) upserted by email");
            report.notices.push(Notice::debug("", message));
        }
        if failed.is_empty() {
            continue;
        }
        let mut detail = Vec::new();
        for (i, reason) in &failed {
            core.dedup.forget(&chunk[*i]);
            detail.push(format!("{}: {reason}", chunk[*i].email));
        }
        let (failed, of, detail) = (failed.len(), chunk.len(), detail.join("; "));
        let message = format!("contact upsert failed for {failed} of {of} contact(s) (their events are still sent): {detail}");
        report.notices.push(Notice::error("", message));
    }
}

// The rare outcomes of a send, out of line: the hot delivery loop (compiled
// again by V8 once it runs often) stays small.
impl Core {
    /// A batch HubSpot did not take for now: it and everything not sent yet
    /// go back to the front of the queue, in order, until the backoff
    /// delay has passed.
    #[cold]
    #[inline(never)]
    fn retry_later(
        &mut self,
        inputs: Vec<EventInput>,
        pending: Vec<Vec<EventInput>>,
        sent: &Sent,
        reason: &str,
        now: f64,
        report: &mut Report,
    ) {
        let count = inputs.len() + pending.iter().map(Vec::len).sum::<usize>();
        // Each goes in front of the last: the next to send (`inputs`, then
        // the top of `pending`) first.
        for batch in pending.into_iter().chain([inputs]) {
            self.queue.restore(batch);
        }
        if self.stopped {
            // Nothing is sent any more: they wait for the shutdown, which
            // hands them to onDrop.
            return;
        }
        if let Some(policy) = &sent.policy {
            self.stats.rate_limit(policy);
        }
        self.stats.retried += count as u64;
        self.bound_spool(report);
        // Requests sent side by side fail together: one that fails while an
        // earlier failure's wait is still on neither grows the backoff nor
        // cuts that wait (an earlier Retry-After) short.
        let delay = if now < self.events_held_until {
            ms_until(self.events_held_until, now).max(sent.wait.unwrap_or(0))
        } else {
            self.backoff.next_delay(sent.wait)
        };
        self.events_held_until = self.events_held_until.max(now + f64::from(delay));
        report.retry_after(delay);
        report.notices.push(Notice::warn(
            "",
            format!("{count} events were not accepted yet and stay queued; next try in {delay} ms: {reason}"),
        ));
    }

    /// Inputs HubSpot rejected for good: dropped, with the reason. A 401 is
    /// reported once: every request after it would say the same.
    #[cold]
    #[inline(never)]
    fn drop_rejected(
        &mut self,
        inputs: Vec<EventInput>,
        status: u16,
        reason: &str,
        report: &mut Report,
    ) {
        if status == 401 && !self.auth_reported {
            self.auth_reported = true;
            report.notices.push(Notice::error(
                "",
                match self.settings.credentials {
                    Credentials::AccessToken(_) => "HubSpot rejected the access token (401): check settings.accessToken and that the private app is still installed; events are dropped until it is fixed",
                    Credentials::OAuth(_) => "HubSpot rejected a freshly renewed OAuth access token (401): check that the app is still installed in the HubSpot account and has the scopes analytics.behavioral_events.send and crm.objects.contacts.write; events are dropped until it is fixed",
                },
            ));
        }
        let count = inputs.len();
        let names = event_names(&inputs);
        let event = if count == 1 { names.as_str() } else { "" };
        let code = match status {
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            _ => "rejected",
        };
        self.drop_inputs(inputs, code, reason, report);
        report.notices.push(Notice::error(
            event,
            format!("{count} event(s) rejected by HubSpot and dropped ({names}): {reason}"),
        ));
    }

    /// Upserts HubSpot did not take for now go back to the front, before
    /// anything queued since, and wait for a retry.
    #[cold]
    #[inline(never)]
    fn upserts_retry(
        &mut self,
        chunk: Vec<ContactUpsert>,
        policy: Option<String>,
        wait: Option<u32>,
        reason: &str,
        now: f64,
        report: &mut Report,
    ) {
        if let Some(policy) = &policy {
            self.stats.rate_limit(policy);
        }
        if policy.as_deref() == Some("DAILY") {
            // HubSpot resets the daily limit at midnight in the account's
            // time zone, which the API does not tell; UTC midnight is the
            // earliest it can be for most accounts, and a retry then costs
            // one request.
            const DAY: f64 = 86_400_000.0;
            self.crm_paused_until = ((now / DAY).floor() + 1.0) * DAY;
            report.notices.push(Notice::error(
                "",
                "HubSpot's daily API limit is used up: contact upserts wait until it resets (events are still sent)",
            ));
        }
        let later = std::mem::replace(&mut self.upserts, chunk);
        self.upserts.extend(later);
        if self.stopped {
            return;
        }
        let delay = self.backoff.next_delay(wait);
        // Where HubSpot named a wait (Retry-After, a rate-limit window), no
        // upsert goes before it ends, whatever else flushes.
        if wait.is_some() {
            self.upserts_held_until = self.upserts_held_until.max(now + f64::from(delay));
        }
        report.retry_after(delay);
        report.notices.push(Notice::warn(
            "",
            format!("contact upserts wait for a retry in {delay} ms: {reason}"),
        ));
    }
}

/// Milliseconds from `now` until `then`, 0 when it has passed.
fn ms_until(then: f64, now: f64) -> u32 {
    (then - now).ceil().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// How long a rate-limit window lasts, by HubSpot's policy name.
fn window_ms(policy: &str) -> u32 {
    match policy {
        "SECONDLY" => 1_000,
        _ => 10_000,
    }
}

/// One upsert per email (HubSpot rejects a batch naming a contact twice),
/// the latest value of each property winning.
fn merge_by_email(upserts: Vec<ContactUpsert>) -> Vec<ContactUpsert> {
    let mut merged: Vec<ContactUpsert> = Vec::with_capacity(upserts.len());
    for upsert in upserts {
        match merged
            .iter_mut()
            .find(|m| m.email.eq_ignore_ascii_case(&upsert.email))
        {
            Some(existing) => {
                crate::hubspot::properties::merge(&mut existing.properties, upsert.properties);
                existing.spool_ids.extend(upsert.spool_ids);
            }
            None => merged.push(upsert),
        }
    }
    merged
}

/// A response as delivery acts on it, with the retry-after, rate-limit
/// policy and window read once for every kind of request.
struct Sent {
    /// HubSpot's status; 0 when there was no answer.
    status: u16,
    body: String,
    /// `api::classify`'s reading; retryable when there was no answer.
    outcome: Outcome,
    /// The wait HubSpot named: Retry-After, else a 429's rate-limit window.
    wait: Option<u32>,
    /// A 429's `policyName` ("UNKNOWN" when it names none).
    policy: Option<String>,
    rate: RateHeaders,
}

impl From<Response> for Sent {
    fn from(response: Response) -> Sent {
        let (reason, wait) = match response {
            Response::Status(status, body, headers) => {
                let policy = (status == 429).then(|| api::policy(&body)).flatten();
                return Sent {
                    status,
                    outcome: api::classify(status, &body),
                    wait: headers.retry_after_ms.or(policy.as_deref().map(window_ms)),
                    policy: (status == 429).then(|| policy.unwrap_or_else(|| "UNKNOWN".into())),
                    body,
                    rate: headers.rate,
                };
            }
            Response::Network(message) => (format!("network error: {message}"), None),
            Response::NoToken {
                reason,
                retry_after_ms,
            } => (reason, retry_after_ms),
        };
        Sent {
            status: 0,
            body: String::new(),
            outcome: Outcome::Retryable(reason),
            wait,
            policy: None,
            rate: RateHeaders::default(),
        }
    }
}

/// What a request not sent gets once HubSpot refused the refresh token.
fn refused() -> Response {
    Response::NoToken {
        reason: "HubSpot refused the OAuth refresh token".into(),
        retry_after_ms: None,
    }
}

/// The `authorization` header value for a request now: the current token,
/// or a new one fetched first. The lock is held across the token request,
/// so one renewal runs at a time and every request that needs a token
/// meanwhile waits for it, then uses it. `Err` holds the response to act on
/// instead (retry, or stop when the refresh token was refused).
async fn authorize(
    core: &RefCell<Core>,
    transport: &impl Transport,
    report: &mut Report,
) -> Result<String, Response> {
    let tokens = core.borrow().tokens.clone();
    let mut tokens = tokens.lock().await;
    let request = match tokens.next(transport.now_ms()) {
        Next::Use(authorization) => return Ok(authorization),
        Next::Renew(request) => request,
        Next::Refused => return Err(refused()),
    };
    let sent = Sent::from(transport.renew(&request).await);
    let renewal = match sent.outcome {
        Outcome::Retryable(reason) if sent.status == 0 => Renewal::Retry(format!(
            "no access token yet: the token request failed: {reason}"
        )),
        _ => tokens.answer(sent.status, &sent.body, transport.now_ms()),
    };
    match renewal {
        Renewal::Renewed {
            authorization,
            rotated,
        } => {
            report
                .notices
                .push(Notice::debug("", "OAuth access token renewed"));
            report.token = rotated.or(report.token.take());
            Ok(authorization)
        }
        Renewal::Retry(reason) => Err(Response::NoToken {
            reason,
            retry_after_ms: sent.wait,
        }),
        Renewal::Refused(message) => {
            // Said once: later requests find the tokens refused and ask no
            // more.
            report.notices.push(Notice::error("", message));
            core.borrow_mut().stopped = true;
            Err(refused())
        }
    }
}

/// Sends `request` with the current access token. A 401 to an OAuth app's
/// token (revoked, or expired early) costs one renewal and one retry.
async fn send_authorized(
    core: &RefCell<Core>,
    transport: &impl Transport,
    request: &Request,
    report: &mut Report,
) -> Response {
    let mut retried = false;
    loop {
        let authorization = match authorize(core, transport, report).await {
            Ok(authorization) => authorization,
            Err(response) => return response,
        };
        let response = transport.send(request, &authorization).await;
        if retried || !matches!(response, Response::Status(401, ..)) {
            return response;
        }
        let tokens = core.borrow().tokens.clone();
        if !tokens.lock().await.rejected(&authorization) {
            return response;
        }
        retried = true;
    }
}
