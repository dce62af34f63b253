//! Events planned straight from their entries' values. Under a rule whose
//! mappings are all plain paths (`"user.email"`, `{ map: { total:
//! "data.total" } }`), the value at each path is one of the entry's values,
//! so the event need not be rebuilt as a tree nor its paths looked up: each
//! value is found in the entry's bytes and kept where it lies, by number
//! (`Projection::leaf_number`). The usual event is then written as HubSpot
//! JSON from there (`straight`); one with something to report is planned
//! as any other (`plan::plan_with`) from its values. Other rules, entries
//! with the collector's mapped data, and entries with an array where a path
//! goes through take the general way (`slots::read_entry`, then
//! `plan::plan`).

use std::cell::Cell;
use std::iter::Copied;
use std::slice;

use crate::mapping::{cast_to_property, Mapping, Path, Projection};
use crate::plan::{self, Fields, Plan, Which};
use crate::rule::Rule;
use crate::settings::Settings;
use crate::slots::{Entry, Raw, Values};
use crate::straight::Straight;
use crate::value::{Key, Value};

/// Where planning finds what it reads under one rule: node numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Direct {
    nodes: usize,
    pub(crate) name: usize,
    pub(crate) id: usize,
    pub(crate) timestamp: usize,
    pub(crate) email: Option<usize>,
    pub(crate) object_id: Option<usize>,
    pub(crate) utk: Option<usize>,
    pub(crate) properties: Option<Vec<(Key, usize)>>,
    /// Per node, whether more than one of the above reads it: a value read
    /// once is moved into the plan, not copied.
    shared: Vec<bool>,
    straight: Option<Straight>,
}

/// A value planning reads, where it lies in its entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Leaf<'a> {
    Absent,
    Number(f64),
    Raw(Raw<'a>),
}

impl Direct {
    /// `None` where a mapping is more than plain paths.
    pub fn compile(
        settings: &Settings,
        rule: Option<&Rule>,
        projection: &Projection,
    ) -> Option<Direct> {
        if settings.identify.is_some() || rule.is_some_and(|r| r.identify.is_some()) {
            return None;
        }
        let leaf = |m: &Mapping| m.plain_path().and_then(|p| projection.leaf_number(p));
        let optional = |m: &Option<Mapping>| match m {
            None => Some(None),
            Some(m) => leaf(m).map(Some),
        };
        let top = |key: &str| projection.leaf_number(&Path::new(key));
        let properties = match rule.and_then(|r| r.properties.as_ref()) {
            None => None,
            Some(m) => Some(
                m.plain_map()?
                    .iter()
                    .map(|(key, m)| Some((key.clone(), leaf(m)?)))
                    .collect::<Option<Vec<_>>>()?,
            ),
        };
        let mut direct = Direct {
            nodes: projection.node_count(),
            name: top("name")?,
            id: top("id")?,
            timestamp: top("timestamp")?,
            email: optional(&settings.email)?,
            object_id: optional(&settings.object_id)?,
            utk: optional(&settings.utk)?,
            properties,
            shared: Vec::new(),
            straight: None,
        };
        let mut readers = vec![0u8; direct.nodes];
        let read = [direct.name, direct.id, direct.timestamp]
            .into_iter()
            .chain(
                [direct.email, direct.object_id, direct.utk]
                    .into_iter()
                    .flatten(),
            )
            .chain(direct.properties.iter().flatten().map(|(_, n)| *n));
        for number in read {
            readers[number] = readers[number].saturating_add(1);
        }
        direct.shared = readers.into_iter().map(|n| n > 1).collect();
        direct.straight = Straight::compile(settings, rule, &direct);
        Some(direct)
    }

    /// The values of an entry (see `slots`) by node number, found in its
    /// bytes, its numbers taken from `numbers`; `None` (and `numbers` as
    /// they were) where the entry is not one this reads: mapped data, an
    /// array where a path goes through, or anything the general way
    /// (`slots::read_entry`) would refuse, which then says why.
    pub fn leaves<'a>(
        &self,
        entry: &Entry<'a>,
        projection: &Projection,
        numbers: &mut Copied<slice::Iter<f64>>,
    ) -> Option<Vec<Leaf<'a>>> {
        let shape = entry.shape();
        if !shape.starts_with(b"-o") || projection.is_all() {
            return None;
        }
        let before = numbers.clone();
        let mut leaves = vec![Leaf::Absent; self.nodes];
        let mut fill = Fill {
            shape: &shape[2..],
            values: entry.values(),
            numbers,
            leaves: &mut leaves,
            next: 0,
        };
        let fits =
            fill.fields(projection).is_some() && fill.shape.is_empty() && fill.values.is_empty();
        if !fits {
            *numbers = before;
            return None;
        }
        Some(leaves)
    }

    /// Where the usual event under this rule is written as HubSpot JSON
    /// straight from its leaves.
    pub fn straight(&self) -> Option<&Straight> {
        self.straight.as_ref()
    }

    /// The leaves as values, for `plan`; `None` where one does not read
    /// (the general way says why).
    pub fn values(leaves: Vec<Leaf>) -> Option<Vec<Value>> {
        leaves
            .into_iter()
            .map(|leaf| match leaf {
                Leaf::Absent => Some(Value::Undefined),
                Leaf::Number(n) => Some(Value::Number(n)),
                Leaf::Raw(raw) => raw.into_value().ok(),
            })
            .collect()
    }

    /// Plans the event whose values `leaves` holds.
    pub fn plan(
        &self,
        settings: &Settings,
        mut leaves: Vec<Value>,
        rule: Option<&Rule>,
        data: &Value,
    ) -> Plan {
        // What the mappings resolve to, first, while the values they alone
        // read can be moved out.
        let mut path = |number: Option<usize>| match number {
            None => Value::Undefined,
            Some(n) if self.shared[n] => cast_to_property(leaves[n].clone()),
            Some(n) => cast_to_property(std::mem::take(&mut leaves[n])),
        };
        let email = Cell::new(path(self.email));
        let object_id = Cell::new(path(self.object_id));
        let utk = Cell::new(path(self.utk));
        let properties = Cell::new(match &self.properties {
            None => Value::Undefined,
            Some(fields) => {
                // Sized once: a filtered collect would grow it as it goes.
                let mut entries = Vec::with_capacity(fields.len());
                for (key, n) in fields {
                    let value = path(Some(*n));
                    if !value.is_undefined() {
                        entries.push((key.clone(), value));
                    }
                }
                Value::Object(entries)
            }
        });
        // `plan_with` asks for each at most once.
        let resolve = |which: Which, _: &Mapping| match which {
            Which::Email => email.take(),
            Which::ObjectId => object_id.take(),
            Which::Utk => utk.take(),
            // `compile` takes no rule with identify.
            Which::Identify => Value::Undefined,
            Which::Properties => properties.take(),
        };
        let at = |number: usize| Some(&leaves[number]).filter(|v| !v.is_undefined());
        let fields = Fields {
            name: at(self.name),
            id: at(self.id),
            timestamp: at(self.timestamp),
        };
        plan::plan_with(settings, &fields, rule, data, &resolve)
    }
}

/// Finds an entry's values and puts them in their places, as far as it is
/// one that `Direct` reads: no mapped data, the event an object, and no
/// array where the projection goes further.
struct Fill<'a, 'l, 'n> {
    shape: &'a [u8],
    values: Values<'a>,
    numbers: &'l mut Copied<slice::Iter<'n, f64>>,
    leaves: &'l mut [Leaf<'a>],
    next: usize,
}

impl Fill<'_, '_, '_> {
    /// `None` where the entry is not one `Direct` reads.
    fn fields(&mut self, projection: &Projection) -> Option<()> {
        for (_, below) in projection.fields() {
            let number = self.next;
            self.next += 1;
            let (step, rest) = self.shape.split_first()?;
            self.shape = rest;
            match step {
                b'v' => {
                    let raw = self.values.raw().ok()?;
                    // An array below which paths go: JavaScript would read
                    // its indexes and length; the general way does that.
                    // (JSON.stringify writes no space before a value.)
                    if let Raw::Json { text, .. } = raw {
                        if text.starts_with('[') && !below.is_all() {
                            return None;
                        }
                    }
                    self.leaves[number] = Leaf::Raw(raw);
                }
                // + 0.0 turns -0 into 0, as `slots` does.
                b'n' => self.leaves[number] = Leaf::Number(self.numbers.next()? + 0.0),
                b'o' if !below.is_all() => {
                    self.fields(below)?;
                    continue;
                }
                b'a' => {}
                _ => return None,
            }
            // Nothing below an absent or non-object value is there.
            self.next += below.node_count();
        }
        Some(())
    }
}
