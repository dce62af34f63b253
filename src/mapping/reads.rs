//! What a mapping reads of the event it resolves against, so the shell
//! hands over only those top-level fields instead of the whole event.

use super::{Chain, Item, Mapping, Scope, Shape};

impl Mapping {
    /// Adds the event's top-level keys this mapping reads to `keys`. False
    /// when it may read anything: it has functions (given the event), its
    /// result may be the event itself, or a path starts with `*`.
    pub fn read_keys(&self, keys: &mut Vec<String>) -> bool {
        !self.takes_whole() && self.alternatives.iter().all(|c| c.read_keys(keys))
    }

    /// Whether a result may be the value itself (or hold it).
    fn takes_whole(&self) -> bool {
        self.alternatives.iter().any(|chain| {
            chain.items.iter().any(|item| match item {
                Item::Path(_) | Item::Nothing | Item::Fails => false,
                Item::Config(c) => {
                    let plain_default = c.key.is_none() && c.value.is_undefined();
                    match &c.shape {
                        Shape::Plain => plain_default || c.callbacks.is_some(),
                        Shape::Loop(Scope::This, _) => true,
                        // A scope that is not an array leaves the default.
                        Shape::Loop(Scope::Value(scope), inner) => {
                            plain_default || scope.takes_whole() || inner.takes_whole()
                        }
                        Shape::Map(entries) => entries.iter().any(|(_, m)| m.takes_whole()),
                        Shape::Set(chains) => chains.iter().any(|c| {
                            Mapping {
                                alternatives: vec![c.clone()],
                            }
                            .takes_whole()
                        }),
                    }
                }
            })
        })
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

    fn read_keys(&self, keys: &mut Vec<String>) -> bool {
        self.items.iter().all(|item| match item {
            Item::Path(p) => read_path(p.segments(), keys),
            Item::Nothing | Item::Fails => true,
            Item::Config(c) if c.callbacks.is_some() => false,
            Item::Config(c) => {
                c.key
                    .as_ref()
                    .map_or(true, |p| read_path(p.segments(), keys))
                    && match &c.shape {
                        Shape::Plain => true,
                        Shape::Loop(Scope::This, inner) => inner.read_keys(keys),
                        // The loop's items come from the scope, whole.
                        Shape::Loop(Scope::Value(scope), _) => scope.read_keys(keys),
                        Shape::Map(entries) => entries.iter().all(|(_, m)| m.read_keys(keys)),
                        Shape::Set(chains) => chains.iter().all(|c| c.read_keys(keys)),
                    }
            }
        })
    }
}

/// Adds a path's first segment to `keys`; false for a `*`, which may read
/// any of them.
fn read_path(segments: &[String], keys: &mut Vec<String>) -> bool {
    match segments.first() {
        Some(first) if first != "*" => {
            if !keys.contains(first) {
                keys.push(first.clone());
            }
            true
        }
        _ => false,
    }
}
