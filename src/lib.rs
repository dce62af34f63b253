//! walkerOS → HubSpot: the Rust core of `walkeros-destination-hubspot`.
//!
//! Pure modules (no JavaScript): [`value`], [`mapping`], [`settings`],
//! [`rule`], [`names`], [`properties`], [`js_number`], [`time`], [`plan`], [`dedup`],
//! [`queue`], [`http`] and [`destination`]. The JavaScript-facing ones are
//! [`fetch`] (HTTP through `fetch`) and [`wasm`] (the wasm-bindgen surface);
//! [`small_alloc`] is the wasm build's allocator.

pub mod backoff;
pub mod dedup;
pub mod destination;
pub mod direct;
pub mod error;
pub mod http;
pub mod js_number;
pub mod json;
pub mod json_parse;
pub mod limiter;
pub mod mapping;
pub mod names;
pub mod plan;
pub mod properties;
pub mod queue;
pub mod rule;
pub mod rules;
pub mod schema;
pub mod settings;
pub mod short_text;
pub mod slots;
pub mod small_alloc;
pub mod stats;
pub mod straight;
pub mod time;
pub mod uuid;
pub mod value;

#[cfg(target_arch = "wasm32")]
pub mod fetch;
#[cfg(target_arch = "wasm32")]
pub mod js_host;
#[cfg(target_arch = "wasm32")]
pub mod js_value;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: small_alloc::SmallAlloc = small_alloc::SmallAlloc::new();
