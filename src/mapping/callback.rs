//! JavaScript callbacks in mapping configs (`fn`, `condition`, `validate`, and
//! `condition` on rules). The JS shell serialises each function as a marker
//! string holding its index; the host that resolves a mapping calls it.

use crate::mapping::value::{Object, Value};

/// Prefix of the marker a function becomes in a serialised config. The NUL
/// character keeps it from colliding with any path or value a user writes.
pub const MARKER: &str = "\u{0}fn:";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Callback {
    /// The host's function with this index.
    Js(u32),
    /// Something that is not a function where walkerOS calls one: calling it
    /// throws, which walkerOS treats as a failed callback.
    Broken,
}

impl Callback {
    /// The callback a config option holds, if the option is set at all.
    pub fn from_option(value: Option<&Value>) -> Option<Callback> {
        let value = value.filter(|v| v.is_truthy())?;
        Some(marker_id(value).map_or(Callback::Broken, Callback::Js))
    }
}

pub fn marker_id(value: &Value) -> Option<u32> {
    value.as_str()?.strip_prefix(MARKER)?.parse().ok()
}

pub fn is_marker(value: &Value) -> bool {
    marker_id(value).is_some()
}

/// A callback threw (or was not a function); the host has reported it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Threw;

/// Calls the functions of a config with walkerOS's arguments.
pub trait Host {
    /// Calls function `id` as `fn(value, { event, mapping, collector, logger,
    /// consent })`. `is_root` says `value` is the value the resolution
    /// started from, so the host can pass the caller's own object. `Err`
    /// means it threw (the host reports that).
    fn call(
        &self,
        id: u32,
        value: &Value,
        is_root: bool,
        consent: Option<&Object>,
    ) -> Result<Value, Threw>;
}

/// The host of configs that have no functions (all JSON configs).
pub struct NoCallbacks;

impl Host for NoCallbacks {
    fn call(&self, _: u32, _: &Value, _: bool, _: Option<&Object>) -> Result<Value, Threw> {
        Err(Threw)
    }
}

/// A config `value` with functions in it: they are not properties.
pub fn without_functions(value: &Value) -> Value {
    match value {
        v if is_marker(v) => Value::Opaque,
        Value::Array(items) => Value::Array(items.iter().map(without_functions).collect()),
        Value::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), without_functions(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
