//! Sends what is queued: contact upserts first (the events may depend on
//! them), then events, in batches; a batch HubSpot rejects is split until
//! the events at fault are found, and what fails for now is retried after
//! a backoff.

use std::cell::RefCell;
use std::future::Future;

use super::auth::send_authorized;
use super::prepare::prepare_needs;
use super::sent::Sent;
use super::{ms_until, Core, Report, Transport};
use crate::config::settings::{Credentials, DefinitionsMode};
use crate::delivery::definitions::Work;
use crate::error::Notice;
use crate::hubspot::api::{self, Outcome, Request};
use crate::hubspot::plan::{ContactUpsert, EventInput};

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
    flush_handing_on(core, transport, all, batched, report, &mut |_| {}).await;
}

/// `flush_held`, calling `hand_on` with the report between rounds when it
/// holds anything for the shell. Under steady traffic the loop need not
/// end for hours: a rotated refresh token, dropped events and notices
/// wait no longer than a round, and the report does not grow meanwhile.
pub async fn flush_handing_on(
    core: &RefCell<Core>,
    transport: &impl Transport,
    all: bool,
    batched: bool,
    report: &mut Report,
    hand_on: &mut dyn FnMut(&mut Report),
) {
    loop {
        if report.has_output() {
            hand_on(report);
        }
        let batch = {
            let core = core.borrow();
            if core.stopped || core.aborted {
                return;
            }
            // Batch mode waits for a full batch; single mode sends as soon
            // as one event waits (several flushes run side by side).
            let size = if batched { core.settings.batch_size } else { 1 };
            let now = transport.now_ms();
            let held = now < core.events_held_until || core.upserts_in_flight > 0;
            if held && !core.queue.is_empty() {
                // Held by an upsert under way, the loop sending it sends
                // them once it is taken. The retry is a fallback, not 0 ms,
                // which had every other loop call back in a busy loop.
                let wait = ms_until(core.events_held_until, now);
                let wait = match core.upserts_in_flight {
                    0 => wait,
                    _ => wait.max(UPSERT_WAIT_MS),
                };
                report.retry_after(wait);
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
        // One upsert request at a time: a chunk tried again after a later
        // one for the same contact was taken would overwrite the newer
        // values. The loop sending them sends those queued meanwhile too.
        let upserts_idle = {
            let core = core.borrow();
            !core.upserts.is_empty() && core.upserts_in_flight == 0
        };
        if upserts_idle {
            let upserts: Boxed<'_, bool> = Box::pin(send_upserts(core, transport, report));
            // The events these held can go now: this loop sends them.
            if upserts.await && !batch {
                continue;
            }
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
            core.events_in_flight += inputs.len();
            inputs
        };
        if inputs.is_empty() {
            continue;
        }
        let taken = inputs.len();
        let done = send_isolating(core, transport, inputs, !batched, report).await;
        core.borrow_mut().events_in_flight -= taken;
        if !done {
            return;
        }
    }
}

/// Milliseconds until events waiting for a definition another loop is
/// making are looked at again.
const BUSY_RETRY_MS: u32 = 100;

/// Milliseconds until events waiting for a contact upsert under way are
/// looked at again, should the loop sending it not send them.
const UPSERT_WAIT_MS: u32 = 100;

/// Sends a batch, halving it on a 400 until the bad inputs are alone (on a
/// 413 until the halves fit); true
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
            // A 400 names a bad event somewhere in the batch, a 413 a batch
            // too large as a whole: halves find the one or fit.
            Outcome::Permanent(_) if matches!(sent.status, 400 | 413) && inputs.len() > 1 => {
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
async fn send_upserts(
    core: &RefCell<Core>,
    transport: &impl Transport,
    report: &mut Report,
) -> bool {
    loop {
        let chunk = {
            let mut core = core.borrow_mut();
            if core.upserts.is_empty() {
                return true;
            }
            let now = transport.now_ms();
            let ready = match ms_until(core.upserts_held_until, now) {
                0 => core.take_crm(now),
                held => Err(held),
            };
            if let Err(wait) = ready {
                report.retry_after(wait);
                return false;
            }
            let mut merged = merge_by_email(std::mem::take(&mut core.upserts)).into_iter();
            let chunk: Vec<ContactUpsert> = merged.by_ref().take(api::MAX_UPSERT_BATCH).collect();
            core.upserts = merged.collect();
            core.upserts_in_flight += chunk.len();
            chunk
        };
        let request = Request::upsert(&chunk);
        let sent = Sent::from(send_authorized(core, transport, &request, report).await);
        let now = transport.now_ms();
        let mut core = core.borrow_mut();
        core.upserts_in_flight -= chunk.len();
        core.limiter.observe(&sent.rate, now);
        let failed = match sent.outcome {
            Outcome::Accepted => api::read_upsert(sent.status, &sent.body, chunk.len()),
            Outcome::Permanent(reason) => Err(reason),
            Outcome::Retryable(reason) => {
                core.upserts_retry(chunk, sent.policy, sent.wait, &reason, now, report);
                return false;
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
        if self.stopped || self.aborted {
            // Nothing is sent any more: they wait for the shutdown, which
            // hands them to onDrop (or leaves them in the spool).
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
            format!(
                "{count} event(s) not accepted yet stay queued; next try in {delay} ms: {reason}"
            ),
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
            // Definition calls count against the daily limit too, and the
            // queue keeps its order: with "create", an event needing one
            // holds those behind it.
            let events = match self.definitions.mode {
                DefinitionsMode::Create => "events are still sent, except from one that needs an event definition or property created: it and the events queued after it wait too",
                _ => "events are still sent",
            };
            report.notices.push(Notice::error(
                "",
                format!("HubSpot's daily API limit is used up: contact upserts wait until it resets ({events})"),
            ));
        }
        let later = std::mem::replace(&mut self.upserts, chunk);
        self.upserts.extend(later);
        if self.stopped || self.aborted {
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
