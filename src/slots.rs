//! Events as the shell hands them over: not as JSON objects but as the
//! values the core reads of them (its projection, in the projection's
//! order), flat, after a shape that says field by field what was there. The
//! shell then writes one small array per event with a single
//! `JSON.stringify`, and no key is written or read.
//!
//! An entry is `[shape, ...values]`. The shape has one character per step:
//! first the collector's mapped data (`d`: it is the first value; `-`: there
//! is none), then the event: `a` absent, `v` a value (the next one), `n` a
//! finite number (the next of the numbers handed over beside the entries, as
//! float64: writing and reading their digits cost more than the rest of an
//! entry), `o` an object whose projected fields follow in order, each the
//! same way.

use crate::mapping::Projection;
use crate::value::Value;

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
