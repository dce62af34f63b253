//! Events as the shell hands them over: not as JSON objects but as the
//! values the core reads of them (its projection, in the projection's
//! order), flat, after a shape that says field by field what was there. No
//! key is written or read.
//!
//! An entry is `[shape, ...values]`. The shape has one character per step:
//! first the collector's mapped data (`d`: it is the first value; `-`: there
//! is none), then the event: `a` absent, `v` a value (the next one), `n` a
//! finite number (the next of the numbers handed over beside the entries, as
//! float64: writing and reading their digits cost more than the rest of an
//! entry), `o` an object whose projected fields follow in order, each the
//! same way.
//!
//! The shell writes entries as bytes (`entries`), not as JSON text: a string
//! is its UTF-8 as it is, so neither side escapes or unescapes it, and the
//! shell needs no `JSON.stringify` for the usual event.

use crate::mapping::Projection;
use crate::value::Value;

/// The entries of a hand-over, found but not read yet: an event that
/// `direct` reads has its values read straight into their places, others
/// are read as `[shape, ...values]` (`Entry::read`). An entry is the byte
/// length of its values (u32, little-endian), its values, then its shape
/// (u32 length, ASCII). A value is a tag and what follows it: `s` a string
/// (u32 length, UTF-8), `t` true, `f` false, `z` null, `j` anything else as
/// JSON text (u32 length).
pub fn entries(bytes: &[u8]) -> Result<Vec<Entry<'_>>, String> {
    let mut bytes = Bytes { bytes, at: 0 };
    let mut entries = Vec::new();
    while !bytes.is_empty() {
        let length = bytes.length()?;
        let start = bytes.at;
        bytes.take(length)?;
        let values = Bytes {
            // Over the same bytes, so what it reports is where in all of them.
            bytes: &bytes.bytes[..bytes.at],
            at: start,
        };
        let shape = bytes.text()?;
        entries.push(Entry { shape, values });
    }
    Ok(entries)
}

/// One entry of a hand-over: its shape, and a reader of its values.
pub struct Entry<'a> {
    shape: &'a str,
    values: Bytes<'a>,
}

impl<'a> Entry<'a> {
    pub fn shape(&self) -> &'a [u8] {
        self.shape.as_bytes()
    }

    /// A reader of the entry's values, from the first.
    pub fn values(&self) -> Values<'a> {
        Values(self.values)
    }

    /// The entry as `[shape, ...values]`.
    pub fn read(&self) -> Result<Value, String> {
        let mut items = Vec::with_capacity(self.shape.len() + 1);
        items.push(Value::String(self.shape.to_owned()));
        let mut values = self.values();
        while !values.is_empty() {
            items.push(values.read()?);
        }
        Ok(Value::Array(items))
    }
}

/// The values of an entry, one at a time.
pub struct Values<'a>(Bytes<'a>);

impl<'a> Values<'a> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next value.
    pub fn read(&mut self) -> Result<Value, String> {
        self.0.value()
    }

    /// The next value as it lies in the bytes: nothing copied or parsed.
    pub fn raw(&mut self) -> Result<Raw<'a>, String> {
        self.0.raw()
    }
}

/// A value of an entry where it lies: a string's text, or the JSON text of
/// a value given as JSON (`at`: where it starts in the entries, for errors).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Raw<'a> {
    Str(&'a str),
    Bool(bool),
    Null,
    Json { text: &'a str, at: usize },
}

impl Raw<'_> {
    pub fn into_value(self) -> Result<Value, String> {
        match self {
            Raw::Str(text) => Ok(Value::String(text.to_owned())),
            Raw::Bool(b) => Ok(Value::Bool(b)),
            Raw::Null => Ok(Value::Null),
            Raw::Json { text, at } => crate::json_parse::parse(text).map_err(|e| {
                format!(
                    "{} (in the value at byte {at} of the entries, at its byte {})",
                    e.message, e.offset
                )
            }),
        }
    }
}

/// A reader of the bytes `entries` reads.
#[derive(Clone, Copy)]
struct Bytes<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    fn is_empty(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(length)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format!("entries end early at byte {}", self.at))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn length(&mut self) -> Result<usize, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
    }

    fn text(&mut self) -> Result<&'a str, String> {
        let length = self.length()?;
        let at = self.at;
        std::str::from_utf8(self.take(length)?)
            .map_err(|_| format!("a string at byte {at} of the entries is not UTF-8"))
    }

    fn value(&mut self) -> Result<Value, String> {
        self.raw()?.into_value()
    }

    fn raw(&mut self) -> Result<Raw<'a>, String> {
        let at = self.at;
        match self.take(1)?[0] {
            b's' => Ok(Raw::Str(self.text()?)),
            b't' => Ok(Raw::Bool(true)),
            b'f' => Ok(Raw::Bool(false)),
            b'z' => Ok(Raw::Null),
            b'j' => Ok(Raw::Json {
                text: self.text()?,
                at,
            }),
            _ => Err(format!("an unknown value tag at byte {at} of the entries")),
        }
    }
}

/// The event and its mapped data from an entry, the event cut down to
/// `projection` (`None`: the entry holds the whole event).
pub fn read_entry(
    entry: Value,
    projection: Option<&Projection>,
    numbers: &mut dyn Iterator<Item = f64>,
) -> Result<(Value, Value), &'static str> {
    let Value::Array(items) = entry else {
        return Err("an entry must be an array");
    };
    let mut items = items.into_iter();
    let Some(Value::String(shape)) = items.next() else {
        return Err("an entry must start with its shape");
    };
    let mut reader = Reader {
        shape: shape.as_bytes(),
        at: 0,
        values: items,
        numbers,
    };
    let data = match reader.step()? {
        b'd' => reader.value()?,
        b'-' => Value::Undefined,
        _ => return Err("an entry's shape must start with d or -"),
    };
    let event = reader.node(projection)?;
    if reader.at != reader.shape.len() || reader.values.next().is_some() {
        return Err("an entry's shape and values do not match");
    }
    Ok((event, data))
}

struct Reader<'a> {
    shape: &'a [u8],
    at: usize,
    values: std::vec::IntoIter<Value>,
    numbers: &'a mut dyn Iterator<Item = f64>,
}

impl Reader<'_> {
    fn step(&mut self) -> Result<u8, &'static str> {
        let step = *self
            .shape
            .get(self.at)
            .ok_or("an entry's shape ends early")?;
        self.at += 1;
        Ok(step)
    }

    fn value(&mut self) -> Result<Value, &'static str> {
        self.values
            .next()
            .ok_or("an entry has fewer values than its shape")
    }

    fn node(&mut self, projection: Option<&Projection>) -> Result<Value, &'static str> {
        match self.step()? {
            b'a' => Ok(Value::Undefined),
            b'v' => self.value(),
            // + 0.0 turns -0 into 0, as JSON would have.
            b'n' => Ok(Value::Number(
                self.numbers
                    .next()
                    .ok_or("an entry has fewer numbers than its shape")?
                    + 0.0,
            )),
            b'o' => {
                let projection = projection
                    .filter(|p| !p.is_all())
                    .ok_or("an entry's shape has an object where its projection has none")?;
                let mut entries = Vec::with_capacity(projection.fields().len());
                for (key, below) in projection.fields() {
                    let value = self.node(Some(below))?;
                    if !value.is_undefined() {
                        entries.push((key.clone(), value));
                    }
                }
                Ok(Value::Object(entries))
            }
            _ => Err("an entry's shape has an unknown step"),
        }
    }
}
