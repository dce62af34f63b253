//! Deterministic event ids: a UUID version 5 (SHA-1, RFC 9562) of the
//! walkerOS event id and name, so a retried or replayed event carries the
//! same `uuid` and HubSpot keeps only its first occurrence.

/// A fixed namespace for this package's UUIDs (chosen at random once), so
/// they never collide with ids made by other schemes. Changing it would
/// change every event's uuid.
const NAMESPACE: [u8; 16] = [
    0x8c, 0x7f, 0x2e, 0x1a, 0x3b, 0x5d, 0x5f, 0x0e, 0x9a, 0x41, 0x6d, 0x2c, 0x70, 0x13, 0xb8, 0x55,
];

/// The `uuid` of the event with walkerOS id `id` and name `name`.
pub fn event_uuid(id: &str, name: &str) -> String {
    // The name is part of the key: HubSpot deduplicates per event type, and
    // a rule that renames an event makes a different occurrence.
    let mut data = Vec::with_capacity(16 + id.len() + name.len() + 1);
    data.extend_from_slice(&NAMESPACE);
    data.extend_from_slice(id.as_bytes());
    data.push(0);
    data.extend_from_slice(name.as_bytes());
    let hash = sha1(&data);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC variant
    format_uuid(&bytes)
}

fn format_uuid(b: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

/// SHA-1 (FIPS 180-4). Used only to derive ids, never for security.
pub fn sha1(message: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&((message.len() as u64) * 8).to_be_bytes());
    for block in padded.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}
