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

// Spool directories locked by this process, so a second destination here on
// the same directory is refused as one in another process is.
const held = new Set();
// Spools open in this process, closed when it exits without a shutdown (a
// lock left behind would be taken over as stale anyway, but a pid may be
// reused).
const open = new Set();
let exitHook = false;

function closeAll() {
  for (const spool of open) {
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

/** Takes the directory's lock, or throws naming the process that holds it.
 * A lock whose process has ended is taken over. */
function lock(dir) {
  const file = path.join(dir, 'lock');
  const key = path.resolve(dir);
  if (held.has(key)) {
    throw spoolError(`${JSON.stringify(dir)} is in use by another destination in this process`, 'give each destination its own spool directory');
  }
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      held.add(key);
      return file;
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

class Spool {
  /** Creates the directory if need be and takes its lock. */
  constructor(dir, syncInterval) {
    fs.mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.journal = path.join(dir, 'journal');
    this.lockFile = lock(dir);
    this.key = path.resolve(dir);
    this.syncInterval = syncInterval;
    this.fd = undefined;
    this.dirty = false;
    this.torn = false;
    this.timer = undefined;
    open.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', closeAll);
    }
  }

  /** Hands the journal to `read(text, tail)` in whole lines, then its last
   * bytes if they lack a newline (cut by a crash), with `tail` true. */
  read(read) {
    let fd;
    try {
      fd = fs.openSync(this.journal, 'r');
    } catch (error) {
      if (error.code === 'ENOENT') return;
      throw error;
    }
    try {
      const buffer = Buffer.alloc(READ_CHUNK);
      let rest = Buffer.alloc(0);
      for (;;) {
        const n = fs.readSync(fd, buffer, 0, buffer.length, null);
        if (n === 0) break;
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
      if (typeof rewrite === 'string') this.replace(rewrite);
      if (this.fd === undefined) this.fd = fs.openSync(this.journal, 'a');
      if (append) {
        // After a write that failed part way, a new line: the cut record is
        // skipped at replay, not the one after it.
        fs.writeSync(this.fd, this.torn ? `\n${append}` : append);
        this.torn = false;
        this.dirty = true;
      }
    } catch (error) {
      this.torn = true;
      throw new SpoolWriteError(spoolError(
        `could not be written: ${error.message}`,
        'free disk space or fix the directory\'s permissions; the event is still sent while this process runs',
      ).message);
    }
    if (this.syncInterval === 0) this.sync();
    else if (this.dirty && this.timer === undefined) {
      // Not an interval: an idle spool does not wake the process up.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.sync();
      }, this.syncInterval);
      this.timer.unref();
    }
  }

  /** Writes `text` to a new file, flushes it to disk and renames it over
   * the journal: a crash leaves either the old journal or the new one. */
  replace(text) {
    const tmp = `${this.journal}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.journal);
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = fs.openSync(this.journal, 'a');
    this.dirty = false;
    this.syncDir();
  }

  /** Makes the rename itself durable. */
  syncDir() {
    let fd;
    try {
      fd = fs.openSync(this.dir, 'r');
      fs.fsyncSync(fd);
    } catch {
      // Not every platform can fsync a directory (Windows); the rename is
      // still atomic there.
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  sync() {
    if (!this.dirty || this.fd === undefined) return;
    this.dirty = false;
    fs.fsyncSync(this.fd);
  }

  /** Flushes, closes and releases the lock: the next process takes over. */
  close() {
    open.delete(this);
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd !== undefined) {
      this.sync();
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
    this.release();
  }

  release() {
    if (!held.has(this.key)) return;
    held.delete(this.key);
    fs.rmSync(this.lockFile, { force: true });
  }
}

module.exports = { Spool, SpoolWriteError };
