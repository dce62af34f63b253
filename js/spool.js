'use strict';

// The disk spool's file I/O (settings.spool). What a record holds, which
// records are done, when the journal is compacted and what a restart queues
// again is the core's decision; this writes the text it is given.
//
// Files in the directory: `journal` (JSON lines, opened with 'a' and only
// appended to; a compaction writes `journal.tmp` and renames it over, which
// replaces the journal whole), and `lock` (the pid of the process using it).
//
// Every write is a synchronous write(2) before the call returns, so once a
// push has returned its record is in the OS's page cache: a killed process
// loses nothing. fsync(2) runs at most every spoolSyncInterval ms (0: after
// every write), which bounds what a power loss can take.

const fs = require('node:fs');
const path = require('node:path');

// Read the journal in pieces: a JS string cannot hold a journal of 1 GiB.
const READ_CHUNK = 1 << 20;

// The spools open in this process, by directory: a second destination here
// on the same directory is refused as one in another process is. They are
// closed when the process exits without a shutdown (a lock left behind would
// be taken over as stale anyway, but a pid may be reused).
const open = new Map();

function closeAll() {
  for (const spool of open.values()) {
    try {
      spool.close();
    } catch {
      // The process is ending; the next start reads what reached the file.
    }
  }
}

function spoolError(problem, fix) {
  return new Error(`HubSpot destination: settings.spool ${problem}; ${fix}`);
}

/** A journal write that failed: the events it recorded are queued in
 * memory all the same, so the caller must not queue them again. */
class SpoolWriteError extends Error {}

/** Whether the process `pid` is running (EPERM: it is, as another user). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code !== 'ESRCH';
  }
}

/** Takes the lock `file` of `dir`, or throws naming the process that holds
 * it. A lock whose process has ended is taken over. */
function lock(dir, file) {
  for (let attempt = 0; ; attempt++) {
    try {
      return fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    } catch (error) {
      if (error.code !== 'EEXIST' || attempt > 2) throw error;
    }
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    // Our own pid in a lock no destination here holds: a process before a
    // restart had it (PID 1 in a container, say).
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw spoolError(
        `${JSON.stringify(dir)} is in use by process ${pid} (its lock file ${file})`,
        'give each running destination its own spool directory, or stop that process first',
      );
    }
    // A stale lock (its process is gone, or it was cut short): taken over.
    fs.rmSync(file, { force: true });
  }
}

/** Writes all of `text` to `fd`, or throws: a full disk can also take part
 * of a write without an error. */
function writeAll(fd, text) {
  if (fs.writeSync(fd, text) < Buffer.byteLength(text)) throw new Error('only part of the text was written (is the disk full?)');
}

/** Opens `file`, writes `text` if given, flushes it to disk and closes it. */
function durable(file, flag, text) {
  const fd = fs.openSync(file, flag);
  try {
    if (text !== undefined) writeAll(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

class Spool {
  /** Creates the directory if need be and takes its lock. */
  constructor(dir, syncInterval) {
    this.key = path.resolve(dir);
    if (open.has(this.key)) {
      throw spoolError(`${JSON.stringify(dir)} is in use by another destination in this process`, 'give each destination its own spool directory');
    }
    this.dir = dir;
    this.journal = path.join(dir, 'journal');
    this.lockFile = path.join(dir, 'lock');
    try {
      fs.mkdirSync(dir, { recursive: true });
      lock(dir, this.lockFile);
    } catch (error) {
      if (error.code === undefined) throw error;
      throw spoolError(
        `${JSON.stringify(dir)} could not be used: ${error.message}`,
        'give a directory this process can create and write to, on a local disk',
      );
    }
    open.set(this.key, this);
    if (!process.listeners('exit').includes(closeAll)) process.on('exit', closeAll);
    this.syncInterval = syncInterval;
    this.fd = undefined;
    this.dirty = false;
    this.torn = false;
    this.syncError = undefined;
    this.timer = undefined;
  }

  /** Hands the journal to `read(text, tail)` in whole lines, then its last
   * bytes if they lack a newline (cut by a crash), with `tail` true. */
  read(read) {
    if (!fs.existsSync(this.journal)) return;
    const fd = fs.openSync(this.journal, 'r');
    try {
      const buffer = Buffer.alloc(READ_CHUNK);
      let rest = Buffer.alloc(0);
      for (let n; (n = fs.readSync(fd, buffer)) > 0; ) {
        const data = Buffer.concat([rest, buffer.subarray(0, n)]);
        const end = data.lastIndexOf(0x0a) + 1;
        // Split at a newline only, so no UTF-8 character is cut in two.
        if (end > 0) read(data.toString('utf8', 0, end), false);
        rest = data.subarray(end);
      }
      if (rest.length > 0) read(rest.toString('utf8'), true);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The core's writer: `rewrite` (if any) becomes the journal, then
   * `append` is appended. Synchronous, so it is done when the call that
   * produced it (a push) returns. */
  write(rewrite, append) {
    try {
      if (typeof rewrite === 'string') {
        // Flushed to disk before it is renamed over the journal: a crash
        // leaves either the old journal or the new one.
        const tmp = `${this.journal}.tmp`;
        durable(tmp, 'w', rewrite);
        fs.renameSync(tmp, this.journal);
        if (this.fd !== undefined) fs.closeSync(this.fd);
        this.fd = undefined;
        this.dirty = false;
        this.torn = false;
        try {
          durable(this.dir, 'r');
        } catch {
          // Not every platform can fsync a directory (Windows), which makes
          // the rename itself durable; the rename is still atomic there.
        }
      }
      this.fd ??= fs.openSync(this.journal, 'a');
      if (append) {
        // After a write that failed part way, a new line: the cut record is
        // skipped at replay, not the one after it.
        const text = this.torn ? `\n${append}` : append;
        this.torn = true;
        writeAll(this.fd, text);
        this.torn = false;
        this.dirty = true;
      }
      if (this.syncInterval === 0) this.sync();
      // An fsync that failed on the timer fails the next write: what was
      // written since may not be on disk.
      if (this.syncError) throw this.syncError;
    } catch (error) {
      this.syncError = undefined;
      throw new SpoolWriteError(spoolError(
        `could not be written: ${error.message}`,
        'free disk space or fix the directory\'s permissions; delivery goes on while this process runs',
      ).message);
    }
    if (this.dirty && this.timer === undefined) {
      // Not an interval: an idle spool does not wake the process up.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        try {
          this.sync();
        } catch (error) {
          this.syncError = error;
        }
      }, this.syncInterval).unref();
    }
  }

  sync() {
    if (!this.dirty) return;
    this.dirty = false;
    fs.fsyncSync(this.fd);
  }

  /** Flushes, closes and releases the lock: the next process takes over. */
  close() {
    if (!open.delete(this.key)) return;
    clearTimeout(this.timer);
    if (this.fd !== undefined) {
      this.sync();
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
    fs.rmSync(this.lockFile, { force: true });
  }
}

module.exports = { Spool, SpoolWriteError };
