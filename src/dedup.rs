//! Remembers, per contact, the properties last upserted, so an unchanged
//! contact is not upserted again.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::plan::ContactUpsert;

pub const DEFAULT_CAPACITY: usize = 10_000;

/// Keyed by a hash of the lowercased email (HubSpot matches emails without
/// regard to case), holding a hash of the properties: 16 bytes of payload a
/// contact, whatever the size of its properties.
#[derive(Debug)]
pub struct Dedup {
    seen: HashMap<u64, u64>,
    capacity: usize,
}

impl Dedup {
    pub fn new(capacity: usize) -> Dedup {
        Dedup {
            seen: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// True when this upsert would change something HubSpot does not have
    /// from us yet. It is then counted as sent; call `forget` if it fails.
    pub fn claim(&mut self, upsert: &ContactUpsert) -> bool {
        let (contact, props) = keys(upsert);
        if self.seen.get(&contact) == Some(&props) {
            return false;
        }
        if self.seen.len() >= self.capacity && !self.seen.contains_key(&contact) {
            // Bounded memory: give up one remembered contact. At worst that
            // contact is upserted once more.
            if let Some(victim) = self.seen.keys().next().copied() {
                self.seen.remove(&victim);
            }
        }
        self.seen.insert(contact, props);
        true
    }

    /// Undoes a `claim` whose upsert failed, so the next event retries it.
    pub fn forget(&mut self, upsert: &ContactUpsert) {
        let (contact, props) = keys(upsert);
        if self.seen.get(&contact) == Some(&props) {
            self.seen.remove(&contact);
        }
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

fn keys(upsert: &ContactUpsert) -> (u64, u64) {
    let mut h = DefaultHasher::new();
    upsert.email.to_lowercase().hash(&mut h);
    let contact = h.finish();
    let mut h = DefaultHasher::new();
    upsert.properties.hash(&mut h);
    (contact, h.finish())
}
