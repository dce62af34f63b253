//! What a mapping reads of the event it resolves against, so the shell
//! hands over only those top-level fields instead of the whole event.

use super::{Chain, Item, Mapping, Scope, Shape};

impl Mapping {
    /// Adds the event's top-level keys this mapping reads to `keys`. A
    /// function gets the caller's own event object, so it needs none; where
    /// the result is the event itself, resolution says so
    /// (`Resolved::took_input`) and the caller resolves again with all of
    /// it.
    pub fn read_keys(&self, keys: &mut Vec<String>) {
        self.alternatives.iter().for_each(|c| c.read_keys(keys));
    }

    /// Whether resolving may read an event's `consent`: a value that
    /// requires consent, or a function (which is given it).
    pub fn reads_consent(&self) -> bool {
        self.alternatives.iter().any(Chain::reads_consent)
    }
}

impl Chain {
    fn reads_consent(&self) -> bool {
        self.items.iter().any(|item| match item {
            Item::Path(_) | Item::Nothing | Item::Fails => false,
            Item::Config(c) => {
                c.consent.is_some()
                    || c.callbacks.is_some()
                    || match &c.shape {
                        Shape::Plain => false,
                        Shape::Loop(Scope::This, inner) => inner.reads_consent(),
                        Shape::Loop(Scope::Value(scope), inner) => {
                            scope.reads_consent() || inner.reads_consent()
                        }
                        Shape::Map(entries) => entries.iter().any(|(_, m)| m.reads_consent()),
                        Shape::Set(chains) => chains.iter().any(Chain::reads_consent),
                    }
            }
        })
    }

    fn read_keys(&self, keys: &mut Vec<String>) {
        for item in &self.items {
            match item {
                Item::Path(p) => read_path(p.segments(), keys),
                Item::Nothing | Item::Fails => {}
                Item::Config(c) => {
                    if let Some(p) = &c.key {
                        read_path(p.segments(), keys);
                    }
                    match &c.shape {
                        Shape::Plain => {}
                        Shape::Loop(Scope::This, inner) => inner.read_keys(keys),
                        // The loop's items come from the scope, whole.
                        Shape::Loop(Scope::Value(scope), _) => scope.read_keys(keys),
                        Shape::Map(entries) => entries.iter().for_each(|(_, m)| m.read_keys(keys)),
                        Shape::Set(chains) => chains.iter().for_each(|c| c.read_keys(keys)),
                    }
                }
            }
        }
    }
}

/// Adds a path's first segment to `keys` (a `*` there is a key too: the
/// event is an object, not an array).
fn read_path(segments: &[String], keys: &mut Vec<String>) {
    if let Some(first) = segments.first() {
        if !keys.contains(first) {
            keys.push(first.clone());
        }
    }
}
