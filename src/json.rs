//! JSON text written straight into a buffer, for the per-event hot path
//! (building an intermediate `serde_json::Value` cost about as much as
//! planning the event).

/// Appends `s` as a JSON string literal, escaped as `JSON.stringify` does.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    // Most strings need no escape at all: one scan, one copy.
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0f)] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether any byte is a quote, a backslash or a control character, eight
/// bytes at a time (this scan runs over every string of every event).
fn needs_escape(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    let mut found = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        found |= escapes_in(u64::from_le_bytes(word));
    }
    // The last few bytes padded with a letter, which needs no escape: one
    // more word instead of a branch per byte. Shifted in, not copied: a
    // copy of a length known only at run time is a call out of WebAssembly.
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = 0x6161_6161_6161_6161u64; // "aaaaaaaa"
        for (i, &byte) in rest.iter().enumerate() {
            let shift = 8 * i;
            word = (word & !(0xff << shift)) | (u64::from(byte) << shift);
        }
        found |= escapes_in(word);
    }
    found != 0
}

/// Non-zero when a byte of `x` is a quote, a backslash or below 0x20.
fn escapes_in(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte of `y` is zero exactly where this has its high bit set (`y -
    // ONES` borrows only through zero bytes, and `!y` clears bytes that had
    // their high bit). Where a byte's high bit is set, `x` was not ASCII.
    let zero = |y: u64| y.wrapping_sub(ONES) & !y;
    // Below 0x20: clearing the bits 0x1f leaves zero; then quote, backslash.
    (zero(x & !(ONES * 0x1f))
        | zero(x ^ (ONES * u64::from(b'"')))
        | zero(x ^ (ONES * u64::from(b'\\'))))
        & HIGH
}

/// Appends a JSON object of string values, in order.
pub fn push_string_map<K: AsRef<str>>(out: &mut String, entries: &[(K, String)]) {
    out.push('{');
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_key(out, key.as_ref());
        push_str(out, value);
    }
    out.push('}');
}

/// Appends `"key":` .
pub fn push_key(out: &mut String, key: &str) {
    push_str(out, key);
    out.push(':');
}
