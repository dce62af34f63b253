//! The counters `stats()` returns.

use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
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

    /// JSON with `queued` filled in by the caller's current numbers.
    pub fn to_json(&self, queued: usize, queued_upserts: usize) -> String {
        let mut out = String::from("{");
        for (key, value) in [
            ("accepted", self.accepted),
            ("sent", self.sent),
            ("retried", self.retried),
            ("deduplicated", self.deduplicated),
            ("contactsUpserted", self.contacts_upserted),
            ("queued", queued as u64),
            ("queuedUpserts", queued_upserts as u64),
        ] {
            crate::json::push_key(&mut out, key);
            out.push_str(&value.to_string());
            out.push(',');
        }
        for (i, (key, counts)) in [
            ("skipped", &self.skipped),
            ("dropped", &self.dropped),
            ("rateLimited", &self.rate_limited),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push(',');
            }
            crate::json::push_key(&mut out, key);
            out.push('{');
            for (j, (reason, count)) in counts.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                crate::json::push_key(&mut out, reason);
                out.push_str(&count.to_string());
            }
            out.push('}');
        }
        out.push('}');
        out
    }
}
