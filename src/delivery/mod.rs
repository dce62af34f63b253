//! The destination's state and the order of its requests: queues, contact
//! dedup, rate limiting, backoff and counters. I/O goes through a
//! `Transport`, so nothing here knows JavaScript.

pub mod backoff;
pub mod core;
pub mod dedup;
pub mod definitions;
pub mod limiter;
pub mod queue;
pub mod spool;
pub mod stats;
pub mod token;
