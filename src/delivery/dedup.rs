//! Remembers, per contact, the properties last upserted, so an unchanged
//! contact is not upserted again: a bounded LRU keyed by a hash of the
//! lowercased email (HubSpot matches emails without regard to case), holding
//! a hash of the properties.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::hubspot::plan::ContactUpsert;

/// No slot: the end of the recency list.
const NONE: u32 = u32::MAX;
/// A properties hash that matches nothing: the contact must be upserted.
const UNKNOWN: u64 = 0;

/// One remembered contact, in a doubly linked recency list threaded through
/// a vector (24 bytes, with no allocation of its own).
#[derive(Debug, Clone, Copy)]
struct Node {
    contact: u64,
    props: u64,
    newer: u32,
    older: u32,
}

#[derive(Debug)]
pub struct Dedup {
    index: HashMap<u64, u32>,
    nodes: Vec<Node>,
    newest: u32,
    oldest: u32,
    capacity: usize,
}

impl Dedup {
    pub fn new(capacity: usize) -> Dedup {
        Dedup {
            index: HashMap::new(),
            nodes: Vec::new(),
            newest: NONE,
            oldest: NONE,
            capacity: capacity.clamp(1, NONE as usize - 1),
        }
    }

    /// True when this upsert would change something HubSpot does not have
    /// from us yet. It is then counted as sent; call `forget` if it fails.
    pub fn claim(&mut self, upsert: &ContactUpsert) -> bool {
        let (contact, props) = keys(upsert);
        if let Some(&slot) = self.index.get(&contact) {
            self.touch(slot);
            let node = &mut self.nodes[slot as usize];
            if node.props == props {
                return false;
            }
            node.props = props;
            return true;
        }
        let slot = if self.nodes.len() < self.capacity {
            let len = self.nodes.len();
            if len == self.nodes.capacity() {
                // Double, but never past the capacity: a full cache holds
                // exactly `capacity` nodes.
                self.nodes
                    .reserve_exact(len.max(16).min(self.capacity - len));
            }
            self.nodes.push(Node {
                contact,
                props,
                newer: NONE,
                older: NONE,
            });
            len as u32
        } else {
            // Full: the least recently seen contact makes room. At worst it
            // is upserted once more when it comes back.
            let slot = self.oldest;
            self.unlink(slot);
            let node = &mut self.nodes[slot as usize];
            self.index.remove(&node.contact);
            (node.contact, node.props) = (contact, props);
            slot
        };
        self.index.insert(contact, slot);
        self.link_newest(slot);
        true
    }

    /// Undoes a `claim` whose upsert failed, so the next event retries it.
    pub fn forget(&mut self, upsert: &ContactUpsert) {
        let (contact, props) = keys(upsert);
        if let Some(&slot) = self.index.get(&contact) {
            let node = &mut self.nodes[slot as usize];
            if node.props == props {
                node.props = UNKNOWN;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Bytes held for the remembered contacts: the hash table (keys, slots
    /// and one control byte per bucket) and the nodes.
    pub fn memory_bytes(&self) -> usize {
        let bucket = std::mem::size_of::<(u64, u32)>() + 1;
        // hashbrown keeps a power of two of buckets, 7/8 of them usable.
        let buckets = if self.index.capacity() == 0 {
            0
        } else {
            (self.index.capacity() * 8 / 7).next_power_of_two()
        };
        buckets * bucket + self.nodes.capacity() * std::mem::size_of::<Node>()
    }

    fn touch(&mut self, slot: u32) {
        if self.newest != slot {
            self.unlink(slot);
            self.link_newest(slot);
        }
    }

    fn unlink(&mut self, slot: u32) {
        let Node { newer, older, .. } = self.nodes[slot as usize];
        match newer {
            NONE => self.newest = older,
            n => self.nodes[n as usize].older = older,
        }
        match older {
            NONE => self.oldest = newer,
            o => self.nodes[o as usize].newer = newer,
        }
    }

    fn link_newest(&mut self, slot: u32) {
        let older = std::mem::replace(&mut self.newest, slot);
        let node = &mut self.nodes[slot as usize];
        (node.newer, node.older) = (NONE, older);
        match older {
            NONE => self.oldest = slot,
            o => self.nodes[o as usize].newer = slot,
        }
    }
}

fn keys(upsert: &ContactUpsert) -> (u64, u64) {
    let mut h = DefaultHasher::new();
    // ASCII case only, as `merge_by_email` compares them.
    for byte in upsert.email.bytes() {
        byte.to_ascii_lowercase().hash(&mut h);
    }
    let contact = h.finish();
    let mut h = DefaultHasher::new();
    upsert.properties.hash(&mut h);
    // UNKNOWN must never be a real properties hash.
    (contact, h.finish().max(1))
}
