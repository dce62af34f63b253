//! The counters `stats()` returns.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Events this destination took responsibility for delivering.
    pub accepted: u64,
    /// Events HubSpot accepted.
    pub sent: u64,
    /// Events sent again after a failed try.
    pub retried: u64,
    /// Contact upserts left out because nothing changed.
    pub deduplicated: u64,
    pub contacts_upserted: u64,
    /// Events not accepted by HubSpot yet (queued or on their way).
    pub queued: u64,
    /// Contact upserts waiting to be sent.
    pub queued_upserts: u64,
    /// Records in the spool not done yet (events and contact upserts).
    pub spooled: u64,
    /// Events the spool queued again at start.
    pub replayed: u64,
    /// Event definitions and properties this destination created.
    pub definitions_created: u64,
    pub properties_created: u64,
    /// Property values left out of their event: they could not be
    /// converted to their HubSpot property's type.
    pub values_left_out: u64,
    pub skipped: BTreeMap<String, u64>,
    pub dropped: BTreeMap<String, u64>,
    pub rate_limited: BTreeMap<String, u64>,
}

impl Stats {
    pub fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
    }

    pub fn drop_events(&mut self, reason: &str, count: u64) {
        *self.dropped.entry(reason.to_string()).or_default() += count;
    }

    pub fn rate_limit(&mut self, policy: &str) {
        *self.rate_limited.entry(policy.to_string()).or_default() += 1;
    }
}
