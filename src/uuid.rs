//! Deterministic event ids: a UUID version 5 (SHA-1, RFC 9562) of the
//! walkerOS event id and name, so a retried or replayed event carries the
//! same `uuid` and HubSpot keeps only its first occurrence.

/// A fixed namespace for this package's UUIDs (chosen at random once), so
/// they never collide with ids made by other schemes. Changing it would
/// change every event's uuid.
const NAMESPACE: [u8; 16] = [
    0x8c, 0x7f, 0x2e, 0x1a, 0x3b, 0x5d, 0x5f, 0x0e, 0x9a, 0x41, 0x6d, 0x2c, 0x70, 0x13, 0xb8, 0x55,
];

/// A uuid as text (`xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx`).
pub type Uuid = crate::short_text::ShortText<36>;

/// The `uuid` of the event with walkerOS id `id` and name `name`.
#[inline(never)]
pub fn event_uuid(id: &str, name: &str) -> Uuid {
    // The name is part of the key: HubSpot deduplicates per event type, and
    // a rule that renames an event makes a different occurrence.
    let hash = sha1_of(&[&NAMESPACE, id.as_bytes(), &[0], name.as_bytes()]);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC variant
    format_uuid(&bytes)
}

fn format_uuid(b: &[u8; 16]) -> Uuid {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[usize::from(byte >> 4)];
        out[at + 1] = HEX[usize::from(byte & 0x0f)];
        at += 2;
    }
    Uuid::new(&out).expect("hex digits and dashes")
}

/// SHA-1 of `parts` joined, where they fit one block with its padding (the
/// usual event id and name): the block is filled once, without
/// `Sha1::update`'s bookkeeping per part.
fn one_block(parts: &[&[u8]]) -> Option<[u8; 20]> {
    let mut block = [0u8; 64];
    let mut at = 0;
    for part in parts {
        block.get_mut(at..at + part.len())?.copy_from_slice(part);
        at += part.len();
    }
    if at > 55 {
        return None;
    }
    block[at] = 0x80;
    block[56..].copy_from_slice(&(at as u64 * 8).to_be_bytes());
    let mut state = INITIAL;
    compress(&mut state, &block);
    Some(digest(&state))
}

/// SHA-1 (FIPS 180-4) of `message`. Used only to derive ids, never for
/// security.
pub fn sha1(message: &[u8]) -> [u8; 20] {
    sha1_of(&[message])
}

/// SHA-1 of `parts` joined, without first copying them together.
fn sha1_of(parts: &[&[u8]]) -> [u8; 20] {
    one_block(parts).unwrap_or_else(|| {
        let mut hasher = Sha1::new();
        for part in parts {
            hasher.update(part);
        }
        hasher.finish()
    })
}

/// SHA-1 fed in pieces, for messages longer than one block.
struct Sha1 {
    state: [u32; 5],
    block: [u8; 64],
    filled: usize,
    length: u64,
}

impl Sha1 {
    fn new() -> Sha1 {
        Sha1 {
            state: INITIAL,
            block: [0; 64],
            filled: 0,
            length: 0,
        }
    }

    fn update(&mut self, mut bytes: &[u8]) {
        self.length += bytes.len() as u64;
        while !bytes.is_empty() {
            let take = (64 - self.filled).min(bytes.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&bytes[..take]);
            self.filled += take;
            bytes = &bytes[take..];
            if self.filled == 64 {
                compress(&mut self.state, &self.block);
                self.filled = 0;
            }
        }
    }

    fn finish(mut self) -> [u8; 20] {
        let bits = self.length * 8;
        self.update(&[0x80]);
        if self.filled > 56 {
            self.update(&[0; 64][..64 - self.filled]);
        }
        self.update(&[0; 64][..56 - self.filled]);
        self.update(&bits.to_be_bytes());
        digest(&self.state)
    }
}

const INITIAL: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];

fn digest(state: &[u32; 5]) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (i, word) in state.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn compress(state: &mut [u32; 5], block: &[u8; 64]) {
    let mut w = [0u32; 80];
    for (i, word) in block.chunks_exact(4).enumerate() {
        w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
    }
    for i in 16..80 {
        w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
    }
    // Four rounds of twenty, each with its own function: no branch per step.
    let mut s = *state;
    for &wi in &w[0..20] {
        let [_, b, c, d, _] = s;
        step(&mut s, (b & c) | (!b & d), 0x5A827999, wi);
    }
    for &wi in &w[20..40] {
        let [_, b, c, d, _] = s;
        step(&mut s, b ^ c ^ d, 0x6ED9EBA1, wi);
    }
    for &wi in &w[40..60] {
        let [_, b, c, d, _] = s;
        step(&mut s, (b & c) | (b & d) | (c & d), 0x8F1BBCDC, wi);
    }
    for &wi in &w[60..80] {
        let [_, b, c, d, _] = s;
        step(&mut s, b ^ c ^ d, 0xCA62C1D6, wi);
    }
    for (x, y) in state.iter_mut().zip(s) {
        *x = x.wrapping_add(y);
    }
}

fn step(s: &mut [u32; 5], f: u32, k: u32, wi: u32) {
    let [a, b, c, d, e] = *s;
    let t = a
        .rotate_left(5)
        .wrapping_add(f)
        .wrapping_add(e)
        .wrapping_add(k)
        .wrapping_add(wi);
    *s = [t, a, b.rotate_left(30), c, d];
}
