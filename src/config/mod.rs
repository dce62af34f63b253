//! The destination's configuration: `settings`, a rule's `settings`, and
//! the table both are checked against (which also renders the published
//! JSON Schemas and the README's tables).

pub mod names;
pub mod rule;
pub mod schema;
pub mod settings;
pub mod types;
