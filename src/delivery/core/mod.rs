//! The destination's state (settings, compiled rules, contact dedup, the
//! delivery queues, retry and rate-limit state, counters) and what changes
//! it without I/O: planning and queueing events, the spool's records, the
//! shutdown. The requests are made by the modules below, through a
//! `Transport`, so none of this knows JavaScript:
//! - [`send`]: sends what is queued, contact upserts before the events that
//!   depend on them, batches at size and on flush, retries after a backoff;
//! - [`prepare`]: checks or creates HubSpot's event definitions;
//! - `auth`: the `authorization` header, renewing OAuth access tokens;
//! - `sent`: a response as delivery acts on it.

mod auth;
pub mod prepare;
pub mod send;
mod sent;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use futures_util::lock::Mutex;

use crate::config::names;
use crate::config::rule::Rule;
use crate::config::settings::{DefinitionsMode, Settings};
use crate::delivery::backoff::Backoff;
use crate::delivery::dedup::Dedup;
use crate::delivery::definitions::{Definitions, Expected};
use crate::delivery::limiter::{Limiter, RateHeaders};
use crate::delivery::queue::Queue;
use crate::delivery::spool::{Replayed, Spool};
use crate::delivery::stats::Stats;
use crate::delivery::token::{Rotated, Tokens};
use crate::error::{ConfigError, Notice};
use crate::hubspot::api::{self, Request};
use crate::hubspot::definitions::{self as defs, PropertySpec};
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
    /// Events taken from the queue and not answered yet.
    events_in_flight: usize,
    /// Likewise for contact upserts: one request at most, and events wait
    /// for it, as they may depend on the contacts.
    upserts_in_flight: usize,
    /// The queue is at `maxQueue` and dropping: warn once per burst.
    overflowing: bool,
    auth_reported: bool,
    /// The disk spool's journal state (`settings.spool`).
    spool: Option<Spool>,
    /// The access token. Behind an async lock held across a renewal: one
    /// renewal at a time, and requests needing a token meanwhile wait for
    /// it instead of asking again.
    tokens: Rc<Mutex<Tokens>>,
    /// Token renewals that failed for now, and why the last one did (with
    /// the wait it was answered with): a request that waited for a
    /// renewal which then failed fails with it, instead of asking again.
    token_failures: u64,
    token_failure: Option<(String, Option<u32>)>,
    /// HubSpot refused the OAuth refresh token: nothing is sent any more,
    /// and what is queued waits for the shutdown (then `onDrop`).
    stopped: bool,
    /// A shutdown's deadline passed and the requests under way were
    /// aborted: nothing is tried again, so no retry is announced.
    aborted: bool,
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

    /// What the shell is handed now; the retry delay stays, as it is
    /// returned at the end.
    pub fn take_output(&mut self) -> Report {
        let retry_in = self.retry_in;
        std::mem::replace(
            self,
            Report {
                retry_in,
                ..Report::default()
            },
        )
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
            events_in_flight: 0,
            upserts_in_flight: 0,
            overflowing: false,
            auth_reported: false,
            token_failures: 0,
            token_failure: None,
            stopped: false,
            aborted: false,
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
    /// batch mode, or when the collector batches, the event is shown as a
    /// batch of one.
    pub fn explain(
        &self,
        event: &Value,
        rule: Option<usize>,
        data: &Value,
        host: &dyn Host,
        collector_batches: bool,
    ) -> (Vec<Request>, Vec<Notice>) {
        let mut plan = self.plan(event, rule, data, host);
        if plan.skipped == Some("silent") {
            // Skipped on purpose, so a push says nothing; the dry run does.
            let name = event.get("name").and_then(Value::as_str).unwrap_or("");
            plan.notices.push(Notice::info(name, format!("no event sent for {name:?}: its mapping rule is silent (it only upserts the contact, with identify)")));
        }
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
            // The collector's own batching goes through pushBatch, which
            // sends with the batch endpoint too.
            requests.push(if self.settings.batch || collector_batches {
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

    /// A shutdown's deadline passed: what the requests under way carried
    /// goes back to the queue to be given up on, not tried again.
    pub fn abort(&mut self) {
        self.aborted = true;
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

    /// Events waiting to be sent (not those under way).
    pub fn waiting_events(&self) -> usize {
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
            queued: (self.queue.len() + self.events_in_flight) as u64,
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
    }

    /// Once half of the journal is done records, the report rewrites it to
    /// the live ones. Decided just before the report is handed to the shell
    /// (after a push, or once a send ends), not as records are marked done:
    /// records pushed while a send went on were appended at once, and must
    /// be in the new journal. Not while the journal is read at start.
    pub fn compact(&mut self, report: &mut Report) {
        if let Some(text) = self.spool.as_mut().and_then(Spool::compaction) {
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
        self.queue.len() + self.upserts.len() + self.events_in_flight + self.upserts_in_flight
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
                format!("the spool is full (settings.spoolMaxBytes {max}): dropping the oldest contact upserts, then events, until HubSpot catches up"),
            ));
        }
        // Contact upserts go first: a contact's next event upserts it again,
        // while an event given up on is gone. They are what piles up while
        // HubSpot's daily CRM limit is used up and events still go.
        let mut upserts = 0;
        while self.spool.as_ref().is_some_and(|s| s.live_bytes() > max) {
            if !self.upserts.is_empty() {
                let oldest = self.upserts.remove(0);
                self.dedup.forget(&oldest);
                self.spool_done(oldest.spool_ids, report);
                upserts += 1;
            } else if self.queue.len() > 1 {
                // Records on their way to HubSpot cannot be given up on;
                // they count again once they are back in the queue
                // (`retry_later`). Till then the newest event stays.
                let oldest = self.queue.take(1);
                self.drop_inputs(oldest, "spool_full", "the spool was full", report);
            } else {
                break;
            }
        }
        if upserts > 0 {
            report.notices.push(Notice::error(
                "",
                format!("{upserts} contact upserts given up on: the spool was full (settings.spoolMaxBytes {max}); each contact is upserted again with its next event"),
            ));
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
                core.bound_spool(&mut report);
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
    let mut core = core.borrow_mut();
    core.compact(&mut report);
    let due = !core.settings.batch
        || core.queue.len() >= core.settings.batch_size
        || core.upserts.len() >= api::MAX_UPSERT_BATCH;
    (report, due)
}

/// Milliseconds from `now` until `then`, 0 when it has passed.
fn ms_until(then: f64, now: f64) -> u32 {
    (then - now).ceil().clamp(0.0, f64::from(u32::MAX)) as u32
}
