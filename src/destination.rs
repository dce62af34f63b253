//! The destination's state (settings, compiled rules, contact dedup, batch
//! queue) and the order of its requests: contact upserts before the events
//! that depend on them, batches at size and on flush. The I/O itself goes
//! through a `Transport`, so this knows nothing of JavaScript.

use std::cell::RefCell;
use std::future::Future;

use crate::dedup::Dedup;
use crate::error::{ConfigError, Notice};
use crate::http::{self, Outcome, Request};
use crate::mapping::{Host, Projection};
use crate::plan::{self, ContactUpsert, Plan};
use crate::queue::Queue;
use crate::rule::Rule;
use crate::settings::Settings;
use crate::value::Value;

/// What came back for a request.
pub enum Response {
    Status(u16, String),
    /// No HTTP answer at all (connection refused, reset, aborted).
    Network(String),
}

pub trait Transport {
    fn send(&self, request: &Request) -> impl Future<Output = Response>;
}

pub struct Core {
    pub settings: Settings,
    rules: Vec<Rule>,
    dedup: Dedup,
    queue: Queue,
    /// Batch mode: claimed contact upserts waiting for the next flush.
    upserts: Vec<ContactUpsert>,
}

/// What a push did, for the shell to log or throw.
#[derive(Debug, Default)]
pub struct Report {
    pub notices: Vec<Notice>,
    /// Set when the event was not accepted by HubSpot in single mode.
    pub error: Option<String>,
    /// Batch entries (by index) that HubSpot did not accept, with the reason.
    pub failed: Vec<(usize, String)>,
}

impl Core {
    pub fn new(settings: Settings) -> Core {
        Core {
            dedup: Dedup::new(settings.dedup_capacity),
            settings,
            rules: Vec::new(),
            queue: Queue::default(),
            upserts: Vec::new(),
        }
    }

    /// Compiles a mapping rule and returns its handle. `field` names it in
    /// errors, such as `mapping.order.complete`.
    pub fn add_rule(&mut self, rule: &Value, field: &str) -> Result<usize, ConfigError> {
        let rule = Rule::from_value(rule, field, &self.settings.event_name_prefix)?;
        self.rules.push(rule);
        Ok(self.rules.len() - 1)
    }

    pub fn plan(&self, event: &Value, rule: Option<usize>, data: &Value, host: &dyn Host) -> Plan {
        let rule = rule.and_then(|id| self.rules.get(id));
        plan::plan(&self.settings, event, rule, data, host)
    }

    /// What planning an event under `rule` reads of it, or `None` when it
    /// may read anything. The shell serialises only that.
    pub fn projection(&self, rule: Option<usize>) -> Option<Projection> {
        let mut projection = Projection::default();
        for always in ["name", "id", "timestamp", "consent"] {
            projection.include(always);
        }
        let s = &self.settings;
        let rule = rule.and_then(|id| self.rules.get(id));
        let mappings = [&s.email, &s.object_id, &s.identify]
            .into_iter()
            .chain(rule.map(|r| &r.identify))
            .chain(rule.map(|r| &r.properties))
            .flatten();
        for mapping in mappings {
            if !mapping.project(&mut projection) {
                return None;
            }
        }
        Some(projection)
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
        if let Some(upsert) = plan.upsert {
            requests.push(Request::upsert(&[upsert]));
        }
        if let Some(input) = plan.send {
            requests.push(if self.settings.batch {
                Request::send_batch(&[input.to_json()])
            } else {
                Request::send_event(input.to_json())
            });
        }
        (requests, plan.notices)
    }

    /// Events waiting in the batch queue.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Contact upserts waiting for the next flush (batch mode).
    pub fn queued_upserts(&self) -> usize {
        self.upserts.len()
    }

    /// Keeps the upserts this destination has not sent with these
    /// properties yet, counting them as sent.
    fn claim(&mut self, upserts: Vec<ContactUpsert>) -> Vec<ContactUpsert> {
        upserts
            .into_iter()
            .filter(|u| self.dedup.claim(u))
            .collect()
    }
}

/// Handles one event from `push`. `event` may hold only what
/// `Core::projection` names; `whole_event` then gives all of them, for the
/// rare mapping that needs them.
pub async fn push(
    core: &RefCell<Core>,
    transport: &impl Transport,
    event: &Value,
    rule: Option<usize>,
    data: &Value,
    host: &dyn Host,
    whole_event: &dyn Fn() -> Option<Value>,
) -> Report {
    let mut plan = core.borrow().plan(event, rule, data, host);
    if plan.needs_whole_event {
        if let Some(whole) = whole_event() {
            plan = core.borrow().plan(&whole, rule, data, host);
        }
    }
    let mut report = Report {
        notices: plan.notices,
        ..Report::default()
    };
    let batch = core.borrow().settings.batch;
    if let Some(upsert) = plan.upsert {
        let claimed = core.borrow_mut().claim(vec![upsert]);
        if batch {
            // Queued like events, and sent before them.
            core.borrow_mut().upserts.extend(claimed);
        } else {
            send_upserts(core, transport, claimed, &plan.event, &mut report.notices).await;
        }
    }
    let Some(input) = plan.send else {
        if batch {
            flush(core, transport, false, &mut report.notices).await;
        }
        return report;
    };
    if batch {
        core.borrow_mut().queue.push(input.to_json());
        flush(core, transport, false, &mut report.notices).await;
    } else {
        let outcome = send(
            transport,
            &Request::send_event(input.to_json()),
            http::classify,
        )
        .await;
        if let Some(reason) = outcome.reason() {
            report.error = Some(format!(
                "event {:?} was not delivered to HubSpot: {reason}",
                plan.event
            ));
        }
    }
    report
}

/// Handles the collector's own batches (`pushBatch`): upserts first, then
/// the events in chunks of `batchSize`. `host(i)` calls entry `i`'s mapping
/// functions.
pub async fn push_batch<'h>(
    core: &RefCell<Core>,
    transport: &impl Transport,
    entries: &[(Value, Option<usize>, Value)],
    host: &dyn Fn(usize) -> Box<dyn Host + 'h>,
) -> Report {
    let mut report = Report::default();
    let mut upserts = Vec::new();
    let mut inputs = Vec::new();
    for (index, (event, rule, data)) in entries.iter().enumerate() {
        let plan = core.borrow().plan(event, *rule, data, &*host(index));
        report.notices.extend(plan.notices);
        upserts.extend(plan.upsert);
        if let Some(input) = plan.send {
            inputs.push((index, input.to_json()));
        }
    }
    let claimed = core.borrow_mut().claim(upserts);
    send_upserts(core, transport, claimed, "", &mut report.notices).await;
    let size = core.borrow().settings.batch_size;
    for chunk in inputs.chunks(size) {
        let bodies: Vec<String> = chunk.iter().map(|(_, json)| json.clone()).collect();
        let outcome = send(transport, &Request::send_batch(&bodies), http::classify).await;
        if let Some(reason) = outcome.reason() {
            report
                .failed
                .extend(chunk.iter().map(|(index, _)| (*index, reason.to_string())));
        }
    }
    report
}

/// Sends what is queued: contact upserts first (the events may depend on
/// them), then events, in full batches only, or everything when `all`. A
/// batch that fails with a retryable answer goes back to the front of the
/// queue.
pub async fn flush(
    core: &RefCell<Core>,
    transport: &impl Transport,
    all: bool,
    notices: &mut Vec<Notice>,
) {
    loop {
        let (upserts, batch) = {
            let mut core = core.borrow_mut();
            let size = core.settings.batch_size;
            let events_ready = core.queue.len() >= size || (all && !core.queue.is_empty());
            let upserts_ready = events_ready || all || core.upserts.len() >= http::MAX_UPSERT_BATCH;
            let upserts = if upserts_ready {
                std::mem::take(&mut core.upserts)
            } else {
                Vec::new()
            };
            let batch = events_ready.then(|| core.queue.take(size));
            (upserts, batch)
        };
        if upserts.is_empty() && batch.is_none() {
            return;
        }
        send_upserts(core, transport, upserts, "", notices).await;
        let Some(batch) = batch else {
            continue;
        };
        match send(transport, &Request::send_batch(&batch), http::classify).await {
            Outcome::Accepted => {}
            Outcome::Retryable(reason) => {
                let count = batch.len();
                core.borrow_mut().queue.restore(batch);
                notices.push(Notice::warn(
                    "",
                    format!("a batch of {count} events was not accepted and stays queued for the next flush: {reason}"),
                ));
                return;
            }
            Outcome::Permanent(reason) => {
                notices.push(Notice::error(
                    "",
                    format!(
                        "a batch of {} events was rejected by HubSpot and dropped: {reason}",
                        batch.len()
                    ),
                ));
            }
        }
    }
}

/// Sends claimed upserts, merged per email, up to 100 a request. A contact
/// HubSpot did not take is forgotten by the dedup, so its next event
/// retries it.
async fn send_upserts(
    core: &RefCell<Core>,
    transport: &impl Transport,
    claimed: Vec<ContactUpsert>,
    event: &str,
    notices: &mut Vec<Notice>,
) {
    if claimed.is_empty() {
        return;
    }
    let merged = merge_by_email(claimed.clone());
    for chunk in merged.chunks(http::MAX_UPSERT_BATCH) {
        let failed = match transport.send(&Request::upsert(chunk)).await {
            Response::Status(status, body) => http::read_upsert(status, &body, chunk.len())
                .unwrap_or_else(|outcome| everything(chunk.len(), &outcome)),
            Response::Network(message) => everything(chunk.len(), &http::network_failure(&message)),
        };
        if failed.is_empty() {
            continue;
        }
        let mut core = core.borrow_mut();
        for (index, _) in &failed {
            let email = &chunk[*index].email;
            for upsert in claimed
                .iter()
                .filter(|u| u.email.eq_ignore_ascii_case(email))
            {
                core.dedup.forget(upsert);
            }
        }
        let detail: Vec<String> = failed
            .iter()
            .map(|(i, reason)| format!("{}: {reason}", chunk[*i].email))
            .collect();
        notices.push(Notice::error(
            event,
            format!(
                "contact upsert failed for {} of {} contact(s) (their events are still sent): {}",
                failed.len(),
                chunk.len(),
                detail.join("; ")
            ),
        ));
    }
}

/// Every input of a request that failed as a whole, with the reason.
fn everything(inputs: usize, outcome: &Outcome) -> Vec<(usize, String)> {
    let reason = outcome.reason().unwrap_or("failed").to_string();
    (0..inputs).map(|i| (i, reason.clone())).collect()
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
            Some(existing) => crate::properties::merge(&mut existing.properties, upsert.properties),
            None => merged.push(upsert),
        }
    }
    merged
}

async fn send(
    transport: &impl Transport,
    request: &Request,
    classify: impl Fn(u16, &str) -> Outcome,
) -> Outcome {
    match transport.send(request).await {
        Response::Status(status, body) => classify(status, &body),
        Response::Network(message) => http::network_failure(&message),
    }
}
