//! The boundary to JavaScript: the wasm-bindgen surface, `fetch`, the
//! mapping functions' host.

pub mod fetch;
pub mod host;
pub mod mapping;
pub mod wasm;
