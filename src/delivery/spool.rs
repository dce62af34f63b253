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

use serde::{Deserialize, Serialize};

use crate::config::types::PropertyType;
use crate::error::Notice;
use crate::hubspot::plan::{ContactUpsert, EventInput};

/// A journal with less than this in it is never compacted: rewriting a
/// small file saves nothing.
const COMPACT_MIN_BYTES: u64 = 64 * 1024;

/// A journal line: written by `Serialize` with the records borrowed, read
/// back by `parse`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum Line<E, U> {
    Event {
        id: u64,
        /// The definition's name and its properties' types, which the
        /// input does not carry to HubSpot: while the prefix is learned its
        /// `eventName` is empty, and without the types a replayed event's
        /// properties would neither be created ("create") nor converted to
        /// HubSpot's types. Records of earlier versions lack them.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        name: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        types: Vec<PropertyType>,
        input: E,
    },
    Upsert {
        id: u64,
        contact: U,
    },
    Done(Vec<u64>),
}

/// A line as written, with the records borrowed.
type Written<'a> = Line<&'a EventInput, &'a ContactUpsert>;

impl<E: Serialize, U: Serialize> Line<E, U> {
    fn text(&self) -> String {
        serde_json::to_string(self).expect("records are plain data") + "\n"
    }
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
        self.records.iter().filter(|r| r.line.is_some()).count()
    }

    fn keep(&mut self, id: u64, line: String, replay: Option<Replayed>) {
        self.next_id = self.next_id.max(id + 1);
        self.live_bytes += line.len() as u64;
        self.file_bytes += line.len() as u64;
        let record = Record {
            id,
            line: Some(line),
            replay,
        };
        match self.records.binary_search_by_key(&id, |r| r.id) {
            // A record read twice (a journal appended to after a copy of
            // it) is one record.
            Ok(at) => {
                if let Some(old) = std::mem::replace(&mut self.records[at], record).line {
                    self.live_bytes -= old.len() as u64;
                }
            }
            Err(at) => self.records.insert(at, record),
        }
    }

    /// A new record's line, kept live; returns the line to append.
    fn record(&mut self, line: Written) -> String {
        let text = line.text();
        self.keep(self.next_id, text.clone(), None);
        text
    }

    /// Gives the input its record id; returns the line to append.
    pub fn record_event(&mut self, input: &mut EventInput) -> String {
        input.spool_id = self.next_id;
        let id = input.spool_id;
        let (name, types) = (input.name.clone(), input.types.clone());
        self.record(Line::Event {
            id,
            name,
            types,
            input: &*input,
        })
    }

    /// Gives the upsert its record id; returns the line to append.
    pub fn record_upsert(&mut self, contact: &mut ContactUpsert) -> String {
        contact.spool_ids = vec![self.next_id];
        let id = self.next_id;
        self.record(Line::Upsert {
            id,
            contact: &*contact,
        })
    }

    /// Marks records done; returns the line to append when any was live.
    pub fn done(&mut self, ids: impl IntoIterator<Item = u64>) -> Option<String> {
        let done: Vec<u64> = ids.into_iter().filter(|id| self.forget(*id)).collect();
        if done.is_empty() {
            return None;
        }
        let text = Written::Done(done).text();
        self.file_bytes += text.len() as u64;
        Some(text)
    }

    /// Marks record `id` done; true when it was live.
    fn forget(&mut self, id: u64) -> bool {
        let Ok(at) = self.records.binary_search_by_key(&id, |r| r.id) else {
            return false;
        };
        let record = &mut self.records[at];
        record.replay = None;
        let Some(line) = record.line.take() else {
            return false;
        };
        self.live_bytes -= line.len() as u64;
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

    /// Reads journal lines at start: whole lines, each ending in a newline,
    /// or with `tail` the journal's last bytes, which do not (the process
    /// ended while it wrote them: a record that is whole but for its
    /// newline counts; a cut one is skipped, as its push never returned). A
    /// line that does not parse is reported and skipped: it is never
    /// guessed at.
    pub fn read(&mut self, text: &str, tail: bool, notices: &mut Vec<Notice>) {
        for line in text.split_inclusive('\n') {
            self.line += 1;
            if line.trim().is_empty() {
                continue;
            }
            let Err(problem) = self.read_line(line) else {
                continue;
            };
            notices.push(if tail {
                Notice::warn("", format!("the spool journal's last record (line {}) was cut short by a crash while it was written, and was skipped: its push never returned", self.line))
            } else {
                Notice::error("", format!("the spool journal's line {} could not be read and was skipped (it is not replayed): {problem}", self.line))
            });
        }
    }

    fn read_line(&mut self, line: &str) -> Result<(), String> {
        match parse(line)? {
            Line::Event {
                id, input: replay, ..
            }
            | Line::Upsert {
                id,
                contact: replay,
            } => {
                self.keep(id, format!("{}\n", line.trim_end()), Some(replay));
            }
            Line::Done(ids) => {
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

/// Record ids are whole numbers from 1 that JavaScript can hold.
const MAX_ID: u64 = 1 << 53;

/// Reads a line as `Line` writes it, strictly (serde): a field that is
/// missing, unknown or of another type makes the whole line unreadable,
/// and nothing is replayed on a guess.
fn parse(line: &str) -> Result<Line<Replayed, Replayed>, String> {
    let line: Line<EventInput, ContactUpsert> =
        serde_json::from_str(line).map_err(|e| e.to_string())?;
    let ids = match &line {
        Line::Event { id, .. } | Line::Upsert { id, .. } => std::slice::from_ref(id),
        Line::Done(ids) => ids.as_slice(),
    };
    if let Some(id) = ids.iter().find(|id| !(1..=MAX_ID).contains(*id)) {
        return Err(format!("{id} is not a record id"));
    }
    Ok(match line {
        Line::Event {
            id,
            name,
            types,
            mut input,
        } => {
            input.name = match name.is_empty() {
                // An earlier version's record: what follows the
                // `pe{HubID}_` prefix.
                true => input
                    .event_name
                    .split_once('_')
                    .map_or("", |(_, n)| n)
                    .into(),
                false => name,
            };
            input.types = types;
            input.spool_id = id;
            let input = Replayed::Event(input);
            Line::Event {
                id,
                name: String::new(),
                types: Vec::new(),
                input,
            }
        }
        Line::Upsert { id, mut contact } => {
            contact.spool_ids = vec![id];
            let contact = Replayed::Upsert(contact);
            Line::Upsert { id, contact }
        }
        Line::Done(ids) => Line::Done(ids),
    })
}
