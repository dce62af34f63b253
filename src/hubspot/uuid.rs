//! Deterministic event ids: a UUID version 5 (SHA-1, RFC 9562) of the
//! walkerOS event id and name, so a retried or replayed event carries the
//! same `uuid` and HubSpot keeps only its first occurrence.

/// A fixed namespace for this package's UUIDs (chosen at random once), so
/// they never collide with ids made by other schemes. Changing it would
/// change every event's uuid.
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_bytes([
    0x8c, 0x7f, 0x2e, 0x1a, 0x3b, 0x5d, 0x5f, 0x0e, 0x9a, 0x41, 0x6d, 0x2c, 0x70, 0x13, 0xb8, 0x55,
]);

/// The `uuid` of the event with walkerOS id `id` and name `name`, as text.
pub fn event_uuid(id: &str, name: &str) -> String {
    // The name is part of the key: HubSpot deduplicates per event type, and
    // a rule that renames an event makes a different occurrence.
    let key = [id.as_bytes(), &[0], name.as_bytes()].concat();
    uuid::Uuid::new_v5(&NAMESPACE, &key).to_string()
}
