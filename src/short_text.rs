//! Short text the core formats itself (a uuid, a timestamp): held inline,
//! with no allocation, and known to need no JSON escaping, so it is written
//! into a request body as it is.

use std::fmt;
use std::ops::Deref;

/// At most `N` bytes of printable ASCII other than `"` and `\`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShortText<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> ShortText<N> {
    /// `None` where `text` is longer than `N` bytes or holds a byte JSON
    /// would escape (or any that is not printable ASCII).
    pub fn new(text: &[u8]) -> Option<Self> {
        if text.len() > N || !text.iter().all(|&b| is_plain(b)) {
            return None;
        }
        let mut bytes = [0; N];
        bytes[..text.len()].copy_from_slice(text);
        Some(ShortText {
            bytes,
            len: text.len(),
        })
    }

    pub fn as_str(&self) -> &str {
        // Printable ASCII, checked in `new`.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

fn is_plain(b: u8) -> bool {
    (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\'
}

impl<const N: usize> Deref for ShortText<N> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> fmt::Debug for ShortText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for ShortText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> PartialEq<&str> for ShortText<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
