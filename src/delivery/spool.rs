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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Notice;
use crate::hubspot::plan::{ContactUpsert, EventInput};

/// A journal with less than this in it is never compacted: rewriting a
/// small file saves nothing.
const COMPACT_MIN_BYTES: u64 = 64 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum Line {
    Event { id: u64, input: EventInput },
    Upsert { id: u64, contact: ContactUpsert },
    Done(Vec<u64>),
}

/// What a journal line written by `Line` borrows, so writing a record does
/// not copy its input.
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
pub struct Spool {
    next_id: u64,
    /// Each live (not done) record's line, by id: what compaction writes.
    live: BTreeMap<u64, String>,
    live_bytes: u64,
    /// Bytes in the journal file now, as far as this spool wrote or read it.
    file_bytes: u64,
    pub max_bytes: u64,
    /// Past `max_bytes` and dropping: warn once per burst.
    pub overflowing: bool,
    /// Read at start, queued by `replay`.
    read: BTreeMap<u64, Replayed>,
    /// Lines read so far, for messages.
    line: u64,
}

impl Spool {
    pub fn new(max_bytes: u64) -> Spool {
        Spool {
            next_id: 1,
            live: BTreeMap::new(),
            live_bytes: 0,
            file_bytes: 0,
            max_bytes,
            overflowing: false,
            read: BTreeMap::new(),
            line: 0,
        }
    }

    /// Bytes of the records not done yet.
    pub fn live_bytes(&self) -> u64 {
        self.live_bytes
    }

    /// Records not done yet.
    pub fn live(&self) -> usize {
        self.live.len()
    }

    fn keep(&mut self, id: u64, line: String) -> String {
        self.live_bytes += line.len() as u64;
        self.file_bytes += line.len() as u64;
        // A record read twice (a journal appended to after a copy of it) is
        // one record.
        if let Some(old) = self.live.insert(id, line.clone()) {
            self.live_bytes -= old.len() as u64;
        }
        line
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
            if let Some(line) = self.live.remove(&id) {
                self.live_bytes -= line.len() as u64;
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
        let mut text = String::with_capacity(self.live_bytes as usize);
        for line in self.live.values() {
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

    fn read_line(&mut self, line: &str) -> Result<(), serde_json::Error> {
        let parsed: Line = serde_json::from_str(line)?;
        let text = || {
            let mut text = line.trim_end().to_string();
            text.push('\n');
            text
        };
        match parsed {
            Line::Event { id, mut input } => {
                input.spool_id = id;
                self.keep(id, text());
                self.read.insert(id, Replayed::Event(input));
                self.next_id = self.next_id.max(id + 1);
            }
            Line::Upsert { id, mut contact } => {
                contact.spool_ids = vec![id];
                self.keep(id, text());
                self.read.insert(id, Replayed::Upsert(contact));
                self.next_id = self.next_id.max(id + 1);
            }
            Line::Done(ids) => {
                for id in ids {
                    if let Some(line) = self.live.remove(&id) {
                        self.live_bytes -= line.len() as u64;
                    }
                    self.read.remove(&id);
                    self.next_id = self.next_id.max(id + 1);
                }
            }
        }
        Ok(())
    }

    /// The records read that are not done, oldest first.
    pub fn take_read(&mut self) -> Vec<Replayed> {
        std::mem::take(&mut self.read).into_values().collect()
    }
}
