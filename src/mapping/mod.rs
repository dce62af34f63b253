//! walkerOS mapping values, compiled once and resolved per event.
//!
//! The semantics follow `getMappingValue` of @walkeros/core 4.2.1, as the
//! parity tests (tests/node/parity.test.js) check against it.

mod callback;
mod cast;
mod compile;
mod consent;
mod path;
mod reads;
mod resolve;
pub mod rules;
mod validate;
pub mod value;

pub use callback::{Callback, Host, NoCallbacks, Threw, MARKER};
pub use cast::cast_to_property;
pub use compile::compile;
pub use consent::is_granted;
pub use path::Path;
pub use resolve::{resolve_traced, Resolved};
pub use validate::validate;

use crate::mapping::value::{Key, Object, Value};

/// What `getMappingValue` receives as its mapping: a single value, or a
/// top-level array whose entries are tried in turn until one is not
/// undefined.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    alternatives: Vec<Chain>,
}

/// One entry of a top-level array. A nested array is a chain whose items are
/// tried until one gives a truthy result.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
enum Item {
    /// A string: `{ key: path }`.
    Path(Path),
    /// A value config object.
    Config(Box<Config>),
    /// An object without keys, a number or a boolean: always undefined.
    Nothing,
    /// Shapes on which walkerOS throws (and so yields undefined for this
    /// alternative), such as `null` or a `loop` that is not an array.
    Fails,
}

#[derive(Clone, Debug, PartialEq, Default)]
struct Config {
    key: Option<Path>,
    value: Value,
    consent: Option<Object>,
    shape: Shape,
    /// Boxed: JSON configs never have any.
    callbacks: Option<Box<Callbacks>>,
}

#[derive(Clone, Debug, PartialEq, Default)]
struct Callbacks {
    condition: Option<Callback>,
    fn_: Option<Callback>,
    validate: Option<Callback>,
}

#[derive(Clone, Debug, PartialEq, Default)]
enum Shape {
    #[default]
    Plain,
    Loop(Scope, Mapping),
    Map(Vec<(Key, Mapping)>),
    Set(Vec<Chain>),
}

#[derive(Clone, Debug, PartialEq)]
enum Scope {
    This,
    Value(Mapping),
}
