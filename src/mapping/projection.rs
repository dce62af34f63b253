//! Which parts of an event a mapping reads, so the shell serialises only
//! those: of a plain object the keys a path goes through, of an array that a
//! `loop` walks what the loop reads of each item; anything else whole.

use super::{Chain, Config, Item, Mapping, Path, Scope, Shape};
use crate::value::{Key, Value};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Projection {
    all: bool,
    fields: Vec<(Key, Projection)>,
    /// For an array read only by loops: what to keep of each item.
    each: Option<Box<Projection>>,
}

impl Projection {
    pub fn all() -> Projection {
        Projection {
            all: true,
            ..Projection::default()
        }
    }

    pub fn is_all(&self) -> bool {
        self.all
    }

    /// Takes the value at `key` whole.
    pub fn include(&mut self, key: &str) {
        self.field(key).all = true;
    }

    fn field(&mut self, key: &str) -> &mut Projection {
        let index = match self.fields.iter().position(|(k, _)| &**k == key) {
            Some(index) => index,
            None => {
                self.fields.push((key.into(), Projection::default()));
                self.fields.len() - 1
            }
        };
        &mut self.fields[index].1
    }

    /// The node at the end of `path`, or `None` where a part on the way is
    /// taken whole already.
    fn at(&mut self, path: &Path) -> Option<&mut Projection> {
        let mut at = self;
        for segment in path.segments() {
            if at.all {
                return None;
            }
            at = at.field(segment);
        }
        (!at.all).then_some(at)
    }

    fn path(&mut self, path: &Path) {
        if let Some(leaf) = self.at(path) {
            *leaf = Projection::all();
        }
    }

    /// The array at `path` is looped over by a mapping that reads `item` of
    /// each element.
    fn each(&mut self, path: &Path, item: Projection) {
        if let Some(leaf) = self.at(path) {
            match &mut leaf.each {
                Some(each) => each.merge(item),
                None => leaf.each = Some(Box::new(item)),
            }
        }
    }

    fn merge(&mut self, other: Projection) {
        if self.all || other.all {
            *self = Projection::all();
            return;
        }
        for (key, p) in other.fields {
            self.field(&key).merge(p);
        }
        if let Some(other) = other.each {
            match &mut self.each {
                Some(each) => each.merge(*other),
                None => self.each = Some(other),
            }
        }
    }

    /// The projected keys in order, each with what is read below it.
    pub fn fields(&self) -> &[(Key, Projection)] {
        &self.fields
    }

    /// How many nodes lie below this one: an entry's shape walks them depth
    /// first, fields in order, and that order numbers them from 0.
    pub fn node_count(&self) -> usize {
        self.fields
            .iter()
            .map(|(_, below)| 1 + below.node_count())
            .sum()
    }

    /// The number of the node `path` ends at, where that node is taken
    /// whole and every node on the way is an object read field by field (so
    /// an entry holds the value at `path` as one of its values).
    pub fn leaf_number(&self, path: &Path) -> Option<usize> {
        let mut node = self;
        let mut first = 0;
        let mut number = None;
        for segment in path.segments() {
            if node.all || node.each.is_some() {
                return None;
            }
            let mut at = first;
            let mut found = None;
            for (key, below) in &node.fields {
                if **key == **segment {
                    found = Some(below);
                    break;
                }
                at += 1 + below.node_count();
            }
            node = found?;
            number = Some(at);
            first = at + 1;
        }
        number.filter(|_| node.all)
    }

    /// The shell's form, which keeps the order of the keys (a JSON
    /// object's may not survive JavaScript): `1` for a part taken whole,
    /// else `[[[key, node], ...], each]` with `each` null unless set.
    pub fn to_order_json(&self) -> String {
        let mut out = String::new();
        self.write_order(&mut out);
        out
    }

    fn write_order(&self, out: &mut String) {
        if self.all {
            out.push('1');
            return;
        }
        out.push_str("[[");
        for (i, (key, node)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            crate::json::push_str(out, key);
            out.push(',');
            node.write_order(out);
            out.push(']');
        }
        out.push_str("],");
        match &self.each {
            Some(each) => each.write_order(out),
            None => out.push_str("null"),
        }
        out.push(']');
    }

    /// `true` for a part taken whole, else `[{ key: node, ... }, each]`
    /// with `each` null unless set.
    pub fn to_json(&self) -> String {
        if self.all {
            return "true".into();
        }
        let mut out = String::from("[{");
        for (i, (key, node)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            crate::json::push_key(&mut out, key);
            out.push_str(&node.to_json());
        }
        out.push_str("},");
        out.push_str(&self.each.as_ref().map_or("null".into(), |e| e.to_json()));
        out.push(']');
        out
    }
}

impl Mapping {
    /// Adds what this mapping reads of the value it resolves against to
    /// `into`. False when it has functions, which may read anything. Where
    /// a config takes the root value whole, resolution reports it instead
    /// (see `resolve_partial`).
    pub fn project(&self, into: &mut Projection) -> bool {
        self.alternatives.iter().all(|c| c.project(into))
    }
}

impl Mapping {
    /// Whether a result may be the value itself (or hold it), which then
    /// must be there whole.
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

    /// The path of a mapping that is one plain path (`"data.total"`),
    /// resolved as `cast_to_property(getByPath(value, path))`.
    pub fn plain_path(&self) -> Option<&Path> {
        self.single_path().filter(|path| path.is_plain())
    }

    /// The fields of a mapping that is `{ map: { name: "path", ... } }` with
    /// nothing else, each field one plain path.
    pub fn plain_map(&self) -> Option<&[(Key, Mapping)]> {
        let [chain] = self.alternatives.as_slice() else {
            return None;
        };
        let [Item::Config(config)] = chain.items.as_slice() else {
            return None;
        };
        let Config {
            key: None,
            value: Value::Undefined,
            consent: None,
            shape: Shape::Map(fields),
            callbacks: None,
        } = config.as_ref()
        else {
            return None;
        };
        fields
            .iter()
            .all(|(_, field)| field.plain_path().is_some())
            .then_some(fields.as_slice())
    }

    fn single_path(&self) -> Option<&Path> {
        match self.alternatives.as_slice() {
            [chain] => match chain.items.as_slice() {
                [Item::Path(path)] => Some(path),
                _ => None,
            },
            _ => None,
        }
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

    fn project(&self, into: &mut Projection) -> bool {
        self.items.iter().all(|item| match item {
            Item::Path(p) => {
                into.path(p);
                true
            }
            Item::Nothing | Item::Fails => true,
            Item::Config(c) if c.callbacks.is_some() => false,
            Item::Config(c) => {
                if let Some(p) = &c.key {
                    into.path(p);
                }
                match &c.shape {
                    Shape::Plain => true,
                    // The items are the value itself.
                    Shape::Loop(Scope::This, inner) => inner.project(into),
                    // Looping over a path: keep what the loop reads of each
                    // item. Over anything else: keep the items whole.
                    Shape::Loop(Scope::Value(scope), inner) => match scope.single_path() {
                        Some(path) => {
                            let mut item = Projection::default();
                            item.include("consent");
                            let cut = !inner.takes_whole() && inner.project(&mut item);
                            into.each(path, if cut { item } else { Projection::all() });
                            true
                        }
                        None => scope.project(into),
                    },
                    Shape::Map(entries) => entries.iter().all(|(_, m)| m.project(into)),
                    Shape::Set(chains) => chains.iter().all(|c| c.project(into)),
                }
            }
        })
    }
}
