//! JSON text written straight into a buffer, for the per-event hot path
//! (building an intermediate `serde_json::Value` cost about as much as
//! planning the event).

/// Appends `s` as a JSON string literal, escaped as `JSON.stringify` does.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    // Most strings need no escape at all: one scan, one copy.
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
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
