//! walkerOS → HubSpot: the Rust core of `walkeros-destination-hubspot`.
//!
//! The layers, each a folder, each using only the ones above it:
//! - [`mapping`]: the walkerOS mapping engine and rule resolution;
//! - [`config`]: settings and rule settings, their schema and defaults,
//!   and HubSpot's naming rules they are checked against;
//! - [`hubspot`]: what an event becomes in HubSpot, and what answers mean;
//! - [`delivery`]: the destination's state, queues, dedup, rate limits;
//! - [`js`]: the boundary to JavaScript, the only code that knows
//!   wasm-bindgen and js-sys.
//!
//! [`error`] holds the error and notice types every layer reports with.

pub mod config;
pub mod delivery;
pub mod error;
pub mod hubspot;
pub mod mapping;

#[cfg(target_arch = "wasm32")]
pub mod js;
