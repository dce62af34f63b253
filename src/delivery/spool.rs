//! The spool's journal: what a record holds, which records are live, when
//! the journal is compacted and what a restart queues again. The shell only
//! writes the text this returns (`node:fs`), so a record's meaning is
//! decided here, as the queue's is.
//!
//! The journal is JSON lines, appended to and never edited in place:
//! `{"event":{"id":7,"input":{…EventInput…}}}`,
//! `{"upsert":{"id":8,"contact":{"email":…,"properties":{…}}}}`, and
//! `{"done":[7,8]}` once HubSpot took them or they were given up on for
//! good. Compaction writes the live records to a new file that replaces the
//! journal whole (the shell renames it over), so the file is never half
//! compacted.

use std::collections::VecDeque;

use serde::Serialize;

use crate::error::Notice;
use crate::hubspot::plan::{ContactUpsert, EventInput};
use crate::hubspot::properties::Properties;
use crate::mapping::value::{Object, Value};

/// A journal with less than this in it is never compacted: rewriting a
/// small file saves nothing.
const COMPACT_MIN_BYTES: u64 = 64 * 1024;

/// A journal line as written; writing a record borrows its input.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum LineRef<'a> {
    Event { id: u64, input: &'a EventInput },
    Upsert { id: u64, contact: &'a ContactUpsert },
    Done(&'a [u64]),
}

/// A record read back from the journal at start, to be queued again.
#[derive(Debug)]
pub enum Replayed {
    Event(EventInput),
    Upsert(ContactUpsert),
}

#[derive(Debug)]
struct Record {
    id: u64,
    /// Its journal line while it is live.
    line: Option<String>,
    /// Read at start and not queued yet.
    replay: Option<Replayed>,
}

#[derive(Debug)]
pub struct Spool {
    next_id: u64,
    /// The records by id, oldest first, with the line of each live one
    /// (what compaction writes) and, at start, what it replays. Ids only
    /// grow, so this is sorted; a done record is emptied in place and
    /// leaves at the front or at the next rewrite. (A sorted deque, not a
    /// map: a map's code would add a tenth to the WebAssembly.)
    records: VecDeque<Record>,
    live: usize,
    live_bytes: u64,
    /// Bytes in the journal file now, as far as this spool wrote or read it.
    file_bytes: u64,
    pub max_bytes: u64,
    /// Past `max_bytes` and dropping: warn once per burst.
    pub overflowing: bool,
    /// Lines read so far, for messages.
    line: u64,
}

impl Spool {
    pub fn new(max_bytes: u64) -> Spool {
        Spool {
            next_id: 1,
            records: VecDeque::new(),
            live: 0,
            live_bytes: 0,
            file_bytes: 0,
            max_bytes,
            overflowing: false,
            line: 0,
        }
    }

    /// Bytes of the records not done yet.
    pub fn live_bytes(&self) -> u64 {
        self.live_bytes
    }

    /// Records not done yet.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Where record `id` is, or would go.
    fn find(&self, id: u64) -> Result<usize, usize> {
        self.records.binary_search_by_key(&id, |r| r.id)
    }

    fn keep(&mut self, id: u64, line: String) -> String {
        self.keep_replayed(id, line.clone(), None);
        line
    }

    fn keep_replayed(&mut self, id: u64, line: String, replay: Option<Replayed>) {
        self.live_bytes += line.len() as u64;
        self.file_bytes += line.len() as u64;
        let record = Record {
            id,
            line: Some(line),
            replay,
        };
        match self.find(id) {
            // A record read twice (a journal appended to after a copy of
            // it) is one record.
            Ok(at) => {
                let old = std::mem::replace(&mut self.records[at], record);
                if let Some(old) = old.line {
                    self.live_bytes -= old.len() as u64;
                    self.live -= 1;
                }
            }
            Err(at) => self.records.insert(at, record),
        }
        self.live += 1;
    }

    fn line(line: &LineRef) -> String {
        let mut text = serde_json::to_string(line).expect("records are plain data");
        text.push('\n');
        text
    }

    /// Gives the input its record id; returns the line to append.
    pub fn record_event(&mut self, input: &mut EventInput) -> String {
        let id = self.next_id;
        self.next_id += 1;
        input.spool_id = id;
        let line = Spool::line(&LineRef::Event { id, input });
        self.keep(id, line)
    }

    /// Gives the upsert its record id; returns the line to append.
    pub fn record_upsert(&mut self, upsert: &mut ContactUpsert) -> String {
        let id = self.next_id;
        self.next_id += 1;
        upsert.spool_ids = vec![id];
        let line = Spool::line(&LineRef::Upsert {
            id,
            contact: upsert,
        });
        self.keep(id, line)
    }

    /// Marks records done; returns the line to append when any was live.
    pub fn done(&mut self, ids: impl IntoIterator<Item = u64>) -> Option<String> {
        let mut done = Vec::new();
        for id in ids {
            if self.forget(id) {
                done.push(id);
            }
        }
        if done.is_empty() {
            return None;
        }
        let line = Spool::line(&LineRef::Done(&done));
        self.file_bytes += line.len() as u64;
        Some(line)
    }

    /// Marks record `id` done; true when it was live.
    fn forget(&mut self, id: u64) -> bool {
        let Ok(at) = self.find(id) else {
            return false;
        };
        let record = &mut self.records[at];
        record.replay = None;
        let Some(line) = record.line.take() else {
            return false;
        };
        self.live_bytes -= line.len() as u64;
        self.live -= 1;
        while self.records.front().is_some_and(|r| r.line.is_none()) {
            self.records.pop_front();
        }
        true
    }

    /// The live records' lines for a new journal, once at least half of the
    /// file is done records; the caller writes them in place of the file.
    pub fn compaction(&mut self) -> Option<String> {
        if self.file_bytes < COMPACT_MIN_BYTES || self.file_bytes < 2 * self.live_bytes {
            return None;
        }
        Some(self.rewrite())
    }

    /// The live records' lines, which the journal becomes.
    pub fn rewrite(&mut self) -> String {
        self.records.retain(|r| r.line.is_some());
        let mut text = String::with_capacity(self.live_bytes as usize);
        for line in self.records.iter().filter_map(|r| r.line.as_deref()) {
            text.push_str(line);
        }
        self.file_bytes = self.live_bytes;
        text
    }

    /// Reads journal lines at start (`text`: whole lines, each ending in a
    /// newline). A line that does not parse is reported and skipped: it is
    /// never guessed at.
    pub fn read(&mut self, text: &str, notices: &mut Vec<Notice>) {
        for line in text.split_inclusive('\n') {
            self.line += 1;
            if line.trim().is_empty() {
                continue;
            }
            if let Err(problem) = self.read_line(line) {
                notices.push(Notice::error(
                    "",
                    format!("the spool journal's line {} could not be read and was skipped (it is not replayed): {problem}", self.line),
                ));
            }
        }
    }

    /// The journal's last bytes when they do not end in a newline: the
    /// process ended while it wrote them. A record that is whole but for
    /// its newline counts; a cut one is skipped (its push never returned).
    pub fn read_tail(&mut self, tail: &str, notices: &mut Vec<Notice>) {
        self.line += 1;
        if self.read_line(tail).is_err() {
            notices.push(Notice::warn(
                "",
                format!("the spool journal's last record (line {}) was cut short by a crash while it was written, and was skipped: its push never returned", self.line),
            ));
        }
    }

    fn read_line(&mut self, line: &str) -> Result<(), String> {
        let text = || {
            let mut text = line.trim_end().to_string();
            text.push('\n');
            text
        };
        match parse_line(line)? {
            Parsed::Event(id, mut input) => {
                input.spool_id = id;
                self.keep_replayed(id, text(), Some(Replayed::Event(input)));
                self.next_id = self.next_id.max(id + 1);
            }
            Parsed::Upsert(id, mut contact) => {
                contact.spool_ids = vec![id];
                self.keep_replayed(id, text(), Some(Replayed::Upsert(contact)));
                self.next_id = self.next_id.max(id + 1);
            }
            Parsed::Done(ids) => {
                for id in ids {
                    self.forget(id);
                    self.next_id = self.next_id.max(id + 1);
                }
            }
        }
        Ok(())
    }

    /// The records read that are not done, oldest first.
    pub fn take_read(&mut self) -> Vec<Replayed> {
        self.records
            .iter_mut()
            .filter_map(|r| r.replay.take())
            .collect()
    }
}

/// A journal line read back.
enum Parsed {
    Event(u64, EventInput),
    Upsert(u64, ContactUpsert),
    Done(Vec<u64>),
}

/// Reads a line as `LineRef` writes it, strictly: a field that is missing,
/// unknown or of another type makes the whole line unreadable, so nothing
/// is replayed on a guess. (Read through the JSON `Value` the mapping
/// engine already parses with serde: derived readers for these types would
/// add a fifth to the WebAssembly.)
fn parse_line(line: &str) -> Result<Parsed, String> {
    let value = Value::parse(line)?;
    let Some([(kind, body)]) = value.as_object().map(Vec::as_slice) else {
        return Err("not a spool record".into());
    };
    match (&**kind, body) {
        ("done", Value::Array(ids)) => ids
            .iter()
            .map(record_id)
            .collect::<Result<_, _>>()
            .map(Parsed::Done),
        ("event", Value::Object(body)) => {
            let [id, input] = fields(body, ["id", "input"])?;
            Ok(Parsed::Event(record_id(id)?, event_input(input)?))
        }
        ("upsert", Value::Object(body)) => {
            let [id, contact] = fields(body, ["id", "contact"])?;
            let Value::Object(contact) = contact else {
                return Err("contact is not an object".into());
            };
            let [email, properties] = fields(contact, ["email", "properties"])?;
            Ok(Parsed::Upsert(
                record_id(id)?,
                ContactUpsert {
                    email: string(email, "email")?,
                    properties: properties_of(properties)?,
                    spool_ids: Vec::new(),
                },
            ))
        }
        _ => Err("not a spool record".into()),
    }
}

/// The members `names` of `object`, which must have exactly those.
fn fields<'a, const N: usize>(
    object: &'a Object,
    names: [&str; N],
) -> Result<[&'a Value; N], String> {
    if let Some((key, _)) = object.iter().find(|(k, _)| !names.contains(&&**k)) {
        return Err(format!("unknown field {key:?}"));
    }
    let mut found = [&Value::Undefined; N];
    for (slot, name) in found.iter_mut().zip(names) {
        *slot = crate::mapping::value::lookup(object, name).ok_or(format!("no {name}"))?;
    }
    Ok(found)
}

fn record_id(value: &Value) -> Result<u64, String> {
    match value {
        Value::Number(n) if *n >= 1.0 && n.fract() == 0.0 && *n < 9_007_199_254_740_992.0 => {
            Ok(*n as u64)
        }
        _ => Err("a record id is not a whole number".into()),
    }
}

fn string(value: &Value, name: &str) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or(format!("{name} is not a string"))
}

fn properties_of(value: &Value) -> Result<Properties, String> {
    let Value::Object(entries) = value else {
        return Err("properties is not an object".into());
    };
    entries
        .iter()
        .map(|(k, v)| Ok((k.clone(), string(v, k)?)))
        .collect()
}

/// An `EventInput` as its `Serialize` writes it.
fn event_input(value: &Value) -> Result<EventInput, String> {
    let Value::Object(entries) = value else {
        return Err("input is not an object".into());
    };
    let mut input = EventInput::default();
    let mut named = false;
    let mut has_properties = false;
    for (key, value) in entries {
        let optional = |name: &str| string(value, name).map(Some);
        match &**key {
            "eventName" => {
                input.event_name = string(value, key)?;
                named = true;
            }
            "email" => input.email = optional(key)?,
            "objectId" => input.object_id = optional(key)?,
            "utk" => input.utk = optional(key)?,
            "uuid" => input.uuid = optional(key)?,
            "occurredAt" => input.occurred_at = optional(key)?,
            "properties" => {
                input.properties = properties_of(value)?;
                has_properties = true;
            }
            other => return Err(format!("unknown field {other:?}")),
        }
    }
    if !named || !has_properties {
        return Err("an event input needs eventName and properties".into());
    }
    // Its definition's name: what follows the `pe{HubID}_` prefix.
    input.name = input
        .event_name
        .split_once('_')
        .map_or_else(String::new, |(_, name)| name.to_string());
    Ok(input)
}
