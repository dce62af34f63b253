//! What a walkerOS event becomes in HubSpot (names, properties, uuid, time,
//! request bodies) and what HubSpot's answers mean. Pure: no state, no I/O.

pub mod api;
pub mod definitions;
pub mod oauth;
pub mod plan;
pub mod properties;
pub mod time;
pub mod uuid;
