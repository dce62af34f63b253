'use strict';

// One configured destination: the Rust core, the handles of its compiled
// rules, the events held for a batch, and its flush timer.

const { HubspotCore } = require('./wasm/walkeros_destination_hubspot.js');
const { caller, ignoreThrow, taggedJson, entryJson } = require('./config.js');
const shutdown = require('./shutdown.js');
const { fetch } = require('./fetch.js');
const { Spool, SpoolWriteError } = require('./spool.js');

// Requests sent side by side at most: events in single mode, batches in
// batch mode.
const SINGLE_CONCURRENCY = 8;
const BATCH_CONCURRENCY = 2;
// The longest delay setTimeout takes.
const MAX_TIMER_MS = 2 ** 31 - 1;
// What a failed env.onToken is told with: not what it threw, which may
// hold the token.
const UNSTORED_TOKEN = 'HubSpot: env.onToken failed, so the rotated refresh token may not be stored; HubSpot may refuse the old one at the next start. Fix: make env.onToken store it, or set settings.oauth.refreshToken to a new one then';

/** Every rule of a walkerOS `mapping` with the path that names it and the
 * walkerOS event name its key (or its `name`) gives: the definition it
 * names is then known at init. */
function* rulesOf(mapping) {
  for (const [entity, actions] of Object.entries(mapping || {})) {
    for (const [action, rules] of Object.entries(actions || {})) {
      const field = `mapping.${entity}.${action}`;
      const named = entity === '*' || action === '*' ? undefined : `${entity} ${action}`;
      const list = Array.isArray(rules) ? rules.map((rule, i) => [rule, `${field}[${i}]`]) : [[rules, field]];
      for (const [rule, path] of list) yield [rule, path, rule && typeof rule.name === 'string' ? rule.name : named];
    }
  }
}

class Instance {
  constructor(config, env, { timers = true, logger } = {}) {
    const { fetch: ownFetch, onDrop, onToken } = env || {};
    const settings = config.settings === undefined ? {} : config.settings;
    this.callbacks = [];
    // Batch mode: pushes waiting for the queue to fall below high water.
    this.waiting = [];
    // What each call of the core reports: the spool's journal is written
    // before the call returns. A journal that cannot be written fails a
    // `strict` call (a push), once the rest is handed on: the events are
    // queued, a rotated refresh token is in use, and dropped events are
    // gone either way. A background send logs it instead.
    const report = ({ rewrite, journal, notes, token, dropped }, logger, strict) => {
      let unwritten;
      if (rewrite !== undefined || journal) {
        try {
          this.spool.write(rewrite, journal);
        } catch (error) {
          unwritten = error;
        }
      }
      for (const { level, message, event } of notes) ignoreThrow(() => logger[level](`HubSpot: ${message}`, event ? { event } : {}));
      // Only a function is called: calling anything else would throw, and
      // an exception per dropped event is costly once a queue overflows.
      if (token && typeof onToken === 'function') ignoreThrow(() => onToken(token), () => logger.error(UNSTORED_TOKEN, {}));
      if (typeof onDrop === 'function') for (const [input, reason] of dropped) ignoreThrow(() => onDrop(input, reason));
      // Each answered request reports (its debug line at least): the
      // queue may have fallen below high water.
      this.release(false);
      if (unwritten && strict) throw unwritten;
      if (unwritten) ignoreThrow(() => logger.error(unwritten.message, {}));
    };
    this.core = new HubspotCore(taggedJson(settings, 'settings', this.callbacks), typeof ownFetch === 'function' ? ownFetch : fetch, caller(this.callbacks), report);
    this.options = this.core.options();
    this.batch = this.options.batch;
    this.logger = logger;
    this.collector = undefined;
    this.rules = new WeakMap();
    // Per rule handle (undefined for none): the event fields the core reads.
    this.reads = new Map();
    // Requests under way, which stop() waits for.
    this.running = new Set();
    // Flush loops running in the background.
    this.loops = 0;
    this.retryTimer = undefined;
    this.retryAt = Infinity;
    // Batch mode: events held until a batch is full or the next flush, when
    // they go to the core together (one boundary crossing instead of one
    // per event): their entries (JSON text) and the event objects, for the
    // mapping functions.
    this.held = [];
    this.heldRoots = [];
    this.addRules(config.mapping);

    this.timers = timers;
    // The dry run neither spools (it sends nothing and must not take a
    // lock) nor sets timers.
    if (!timers) return;
    if (this.options.spool !== undefined) {
      // Takes the directory's lock, queues again what the journal holds
      // that HubSpot has not taken, and rewrites the journal to that.
      this.spool = new Spool(this.options.spool, this.options.spoolSyncInterval);
      try {
        this.spool.read((text, tail) => this.core.spoolRead(text, tail, this.logger));
        this.core.replay(this.logger);
      } catch (error) {
        this.spool.close();
        throw error;
      }
    }
    if (this.options.flushInterval > 0) {
      // Timed flushes must not keep the process alive on their own.
      this.timer = setInterval(() => this.flush(true), this.options.flushInterval);
      this.timer.unref();
    }
    shutdown.register(this);
    // What the spool held from before is sent first.
    if (this.core.pending() > 0) this.resume();
  }

  /** Compiles every rule of a walkerOS `mapping` now, which turns a
   * mistake in any of them into an init error that names it, instead of a
   * surprise on the first such event. */
  addRules(mapping) {
    for (const [rule, field, name] of rulesOf(mapping)) {
      // A rule that is not an object (a string, as if it named the event)
      // would be passed over; the core names it as the mistake it is.
      if (rule !== null && rule !== undefined && typeof rule !== 'object') this.core.addRule(taggedJson(rule, field), field, name);
      else this.ruleId(rule, field, name);
    }
  }

  ruleId(rule, field = 'mapping rule', name = undefined) {
    if (!rule || typeof rule !== 'object') return undefined;
    let id = this.rules.get(rule);
    if (id === undefined) {
      id = this.core.addRule(taggedJson(rule, field, this.callbacks), field, name);
      this.rules.set(rule, id);
    }
    return id;
  }

  /** An event's entry for the core, with only the fields its rule reads. */
  entry(event, rule, data) {
    const id = this.ruleId(rule);
    if (!this.reads.has(id)) this.reads.set(id, this.core.reads(id));
    return entryJson(event, id, this.reads.get(id), data);
  }

  /** At init, once: checks or creates the definitions the rules name
   * (settings.definitions); events of those names wait for it, and are
   * sent once it settles. */
  prepare() {
    if (this.preparing) return this.preparing;
    this.preparing = this.track(this.core.prepare(this.logger)).then(
      () => this.timers && this.sendDue(),
      (error) => {
        if (this.logger) this.logger.error('HubSpot: preparing the event definitions failed', { error });
      },
    );
    return this.preparing;
  }

  /** Queues an event; returns a promise only when a flush is due. */
  push(event, rule, data, logger, collector) {
    // A mapping function pushing into this destination while its event is
    // planned: queue the push once that is done.
    if (this.core.busy()) return Promise.resolve().then(() => this.push(event, rule, data, logger, collector));
    this.logger = logger;
    this.collector = collector;
    // Written now, so later changes to the event's objects do not matter.
    const entry = this.entry(event, rule, data);
    if (!this.batch) {
      // Single mode plans at once and delivers in the background, several
      // events side by side, so a push never waits on HubSpot (stop() waits
      // for all of it).
      this.queueEntries([entry], [event]);
      this.send();
      return undefined;
    }
    // Held until a batch is full or the next flush, when the core plans
    // them all at once and the batch goes out in the background. A push
    // waits only once HubSpot falls behind (high water), which slows a
    // faster producer down instead of letting maxQueue drop events.
    this.held.push(entry);
    this.heldRoots.push(event);
    // With a spool the event's record must be written before this push
    // returns, so it goes to the core (which writes it) now.
    if ((this.spool || this.held.length >= this.options.batchSize) && this.handOver()) this.send();
    return this.queued() >= this.options.highWater ? this.belowHighWater() : undefined;
  }

  /** Batch mode: resolves once HubSpot has taken enough for the queue to
   * fall below high water, or no request is under way (a retry waits, and
   * maxQueue bounds the queue meanwhile). Not once every request under way
   * has ended: a flush goes on while full batches wait, so that took as
   * long as the whole backlog, past the collector's push timeout. */
  belowHighWater() {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Lets waiting pushes go on: all of them, or once the queue is below
   * high water. */
  release(all) {
    if (this.waiting.length === 0 || (!all && this.queued() >= this.options.highWater)) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  /** The collector's own batch: queued, then sent at once with the batch
   * endpoint. */
  async pushBatch(entries, logger, collector) {
    // As push: a mapping function (or onDrop) handing a batch to this
    // destination while the core is planning waits until it is done.
    if (this.core.busy()) return Promise.resolve().then(() => this.pushBatch(entries, logger, collector));
    this.logger = logger;
    this.collector = collector;
    this.queueEntries(entries.map((e) => this.entry(e.event, e.rule, e.data)), entries.map((e) => e.event));
    this.retryIn(await this.track(this.core.flush(true, true, logger)));
  }

  /** Batch mode: hands the held events to the core; true when a flush is
   * due. */
  handOver() {
    if (this.held.length === 0) return false;
    const { held, heldRoots } = this;
    this.held = [];
    this.heldRoots = [];
    try {
      return this.queueEntries(held, heldRoots);
    } catch (error) {
      if (error instanceof SpoolWriteError) throw error;
      // The core could not read them all (an event nested deeper than it
      // reads, say): nothing was planned, so one at a time, and only the
      // event at fault is lost, with its reason.
      let due = false;
      held.forEach((entry, i) => {
        try {
          due = this.queueEntries([entry], [heldRoots[i]]) || due;
        } catch (error) {
          const name = heldRoots[i] && typeof heldRoots[i].name === 'string' ? heldRoots[i].name : '';
          const reason = String(error.message).replace(/^HubSpot destination: /, '');
          if (this.logger) this.logger.error(`HubSpot: event ${JSON.stringify(name)} dropped: ${reason}`, { event: name });
        }
      });
      return due;
    }
  }

  /** Plans and queues entries (JSON texts), one call for all of them;
   * true when a flush is due. */
  queueEntries(entries, roots) {
    return this.core.queueEvents(`[${entries.join(',')}]`, this.logger, roots, this.collector);
  }

  /** Events not accepted by HubSpot yet, held ones included. */
  queued() {
    return this.held.length + this.core.pending();
  }

  /** Starts flush loops in the background: in single mode up to 8, which
   * send what waits; in batch mode one more (2 at most), for full batches. */
  send() {
    if (this.batch) {
      if (this.loops < BATCH_CONCURRENCY) this.loop(false);
      return;
    }
    while (this.timers && this.loops < SINGLE_CONCURRENCY && this.core.waiting() > this.loops) this.loop(true);
  }

  /** Batch mode: sends once a batch is full. */
  sendDue() {
    if (!this.batch || this.core.waitingEvents() >= this.options.batchSize) this.send();
  }

  loop(all) {
    this.loops += 1;
    this.flush(all).finally(() => {
      this.loops -= 1;
      // Batches that filled up while every loop was on its last request
      // (not while a retry waits: its timer sends them; nor once stopped).
      if (this.batch && this.timers && this.retryTimer === undefined) this.sendDue();
    });
  }

  /** Sends what waits: everything in batch mode, one loop per event in
   * single mode. */
  resume() {
    if (this.batch) this.flush(true);
    else this.send();
  }

  /** Resolves once the requests under way now are answered. */
  settled() {
    return Promise.allSettled([...this.running]).then(() => undefined);
  }

  /** Remembers a promise of the core's until it settles. */
  track(promise) {
    this.running.add(promise);
    const forget = () => {
      this.running.delete(promise);
      if (this.running.size === 0) this.release(true);
    };
    promise.then(forget, forget);
    return promise;
  }

  /** Schedules the next try when the core asks for one (`ms`). */
  retryIn(wait) {
    if (typeof wait !== 'number' || !this.timers) return;
    // Node fires a longer timer after 1 ms (a Retry-After of weeks would
    // retry every millisecond); the core names the rest of the wait then.
    const ms = Math.min(wait, MAX_TIMER_MS);
    const at = Date.now() + ms;
    if (this.retryTimer && this.retryAt <= at) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    // Unref'd like the flush timer: on the way out the shutdown hook
    // drains what is left.
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = Infinity;
      this.resume();
    }, ms);
    this.retryTimer.unref();
  }

  /** Sends what is queued (everything when `all`); never throws.
   * Resolves with the milliseconds until the next try is due, if any. */
  async flush(all) {
    try {
      if (all) this.handOver();
      if (this.core.pending() === 0) return undefined;
      const wait = await this.track(this.core.flush(all, this.batch, this.logger));
      this.retryIn(wait);
      return wait;
    } catch (error) {
      if (this.logger) this.logger.error('HubSpot: flush failed', { error });
      return undefined;
    }
  }

  /** Stops the timers and drains: see `drainUntilDeadline`. Runs once,
   * however often the collector and the process hooks ask. */
  stop(logger) {
    if (logger) this.logger = logger;
    this.stopping ??= this.drainUntilDeadline();
    return this.stopping;
  }

  /** Keeps sending what is queued (contact upserts first), with the usual
   * retries, backoff and Retry-After, until HubSpot has taken or refused
   * all of it or `shutdownTimeout` has passed; then what is left goes to
   * `onDrop`. A wait that would end past the deadline gives up at once. */
  async drainUntilDeadline() {
    if (this.timer) clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    this.timers = false;
    const timeout = this.options.shutdownTimeout;
    const deadline = Date.now() + timeout;
    let expired = false;
    // Requests under way at the deadline are aborted: what they carried
    // goes back to the queue and is given up on with the rest.
    const timer = setTimeout(() => {
      expired = true;
      this.core.abortRequests();
    }, timeout);
    try {
      for (;;) {
        await this.settled();
        // A refused OAuth refresh token: nothing will be sent, so waiting
        // out the deadline would only delay onDrop.
        if (this.queued() === 0 || expired || this.core.stopped()) break;
        const wait = await this.flush(true);
        if (expired || this.queued() === 0) continue;
        if (wait !== undefined && Date.now() + wait >= deadline) break;
        // Nothing to wait for but requests under way: settled() waits. The
        // timer keeps the process alive: a drain is under way.
        if (wait !== undefined || this.running.size === 0) await new Promise((resolve) => setTimeout(resolve, wait === undefined ? 10 : wait));
      }
    } finally {
      clearTimeout(timer);
    }
    await this.settled();
    // Batch mode: events still held go to the core, so they are given up
    // on with the rest, not lost.
    this.handOver();
    if (this.queued() > 0) {
      const reason = this.core.stopped()
        ? 'HubSpot refused the OAuth refresh token (settings.oauth.refreshToken), so nothing could be sent'
        : `the destination was shut down before HubSpot accepted them (settings.shutdownTimeout ${timeout} ms)`;
      this.core.abandon(reason, this.logger);
    }
    if (this.spool) this.spool.close();
    this.stopped = true;
    // Live until here: stats() shows the drain, and a signal during it
    // waits for it.
    shutdown.unregister(this);
  }

  stats() {
    const stats = this.core.stats();
    stats.queued += this.held.length;
    // Between a shutdown's start and the end of its drain.
    stats.draining = Boolean(this.stopping) && !this.stopped;
    return stats;
  }
}

module.exports = { Instance };
