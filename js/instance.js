'use strict';

// One configured destination: the Rust core, the handles of its compiled
// rules, the events held for a batch, and its flush timer.

const { HubspotCore } = require('./wasm/walkeros_destination_hubspot.js');
const { taggedJson, entryJson } = require('./config.js');
const shutdown = require('./shutdown.js');
const { fetch } = require('./fetch.js');
const { Spool, SpoolWriteError } = require('./spool.js');

// Single mode: events sent side by side at most.
const SINGLE_CONCURRENCY = 8;
// Batch mode: batch requests sent side by side at most.
const BATCH_CONCURRENCY = 2;

function pickFetch(env) {
  return env && typeof env.fetch === 'function' ? env.fetch : fetch;
}

/** The walkerOS event name a rule's events have, where its key (or its
 * `name`) tells: the definition it names is then known at init. */
function eventNameOf(rule, entity, action) {
  if (rule && typeof rule.name === 'string') return rule.name;
  return entity === '*' || action === '*' ? undefined : `${entity} ${action}`;
}

/** Every rule of a walkerOS `mapping` with the path that names it and the
 * event name its key gives. */
function* rulesOf(mapping) {
  for (const entity of Object.keys(mapping || {})) {
    const actions = mapping[entity] || {};
    for (const action of Object.keys(actions)) {
      const rules = actions[action];
      if (Array.isArray(rules)) {
        for (let i = 0; i < rules.length; i++) yield [rules[i], `mapping.${entity}.${action}[${i}]`, eventNameOf(rules[i], entity, action)];
      } else {
        yield [rules, `mapping.${entity}.${action}`, eventNameOf(rules, entity, action)];
      }
    }
  }
}

/** A timer that keeps the process alive (a drain is under way). */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class Instance {
  constructor(config, env, { timers = true, logger } = {}) {
    const settings = config.settings === undefined ? {} : config.settings;
    this.batch = settings.batch === true;
    this.callbacks = [];
    const onDrop = env && typeof env.onDrop === 'function' ? env.onDrop : undefined;
    // The core writes the spool's journal through this (see spool.js).
    const write = (rewrite, append) => this.spool.write(rewrite, append);
    const onToken = env && typeof env.onToken === 'function' ? env.onToken : undefined;
    this.core = new HubspotCore(taggedJson(settings, 'settings', this.callbacks), pickFetch(env), this.callbacks, onDrop, onToken, write);
    this.spool = undefined;
    this.retryTimer = undefined;
    this.retryAt = Infinity;
    // Requests under way, which stop() waits for.
    this.running = new Set();
    // Single mode: delivery loops running in the background.
    this.loops = 0;
    this.rules = new WeakMap();
    // Per rule handle (and -1 for none): the event fields the core reads.
    this.reads = new Map();
    this.logger = logger;
    this.collector = undefined;
    // Batch mode: events held until a batch is full or the next flush, when
    // they go to the core together (one boundary crossing instead of one
    // per event): their entries (JSON text) and the event objects, for the
    // mapping functions.
    this.held = [];
    this.heldRoots = [];
    this.holdLimit = this.batch ? this.core.batchSize() : 0;
    // Batch mode: flush loops running in the background, and the number of
    // events not accepted yet from which a push waits for them.
    this.sending = 0;
    this.highWater = this.batch ? this.core.highWater() : 0;
    // Compiling every rule now turns a mistake in any of them into an init
    // error that names it, instead of a surprise on the first such event.
    for (const [rule, field, name] of rulesOf(config.mapping)) this.ruleId(rule, field, name);

    // The dry run never spools: it sends nothing and must not take a lock.
    const dir = timers ? this.core.spoolDir() : undefined;
    if (dir !== undefined) this.openSpool(dir);

    this.timers = timers;
    if (timers) {
      const interval = this.core.flushInterval();
      if (interval > 0) {
        // Timed flushes must not keep the process alive on their own.
        this.timer = setInterval(() => this.flush(true), interval);
        this.timer.unref();
      }
      shutdown.register(this);
      // What the spool held from before is sent first.
      if (this.core.queued() > 0) {
        if (this.batch) this.flush(true);
        else this.drain();
      }
    }
  }

  /** Takes the spool directory's lock, queues again what its journal
   * holds that HubSpot has not taken, and rewrites the journal to that. */
  openSpool(dir) {
    this.spool = new Spool(dir, this.core.spoolSyncInterval());
    try {
      this.spool.read((text, tail) => this.core.spoolRead(text, tail, this.logger));
      this.core.replay(this.logger);
    } catch (error) {
      this.spool.close();
      throw error;
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

  /** At init, once: checks or creates the definitions the rules name
   * (settings.definitions); events of those names wait for it, and are
   * sent once it settles. */
  prepare() {
    if (this.preparing) return this.preparing;
    this.preparing = this.track(this.core.prepare(this.logger)).then(
      () => {
        if (!this.timers) return;
        if (!this.batch) this.drain();
        else if (this.core.waitingEvents() >= this.holdLimit) this.send();
      },
      (error) => {
        if (this.logger) this.logger.error('HubSpot: preparing the event definitions failed', { error });
      },
    );
    return this.preparing;
  }

  /** The event fields the core reads under a rule. */
  readsOf(ruleId) {
    const slot = ruleId === undefined ? -1 : ruleId;
    if (!this.reads.has(slot)) this.reads.set(slot, this.core.reads(ruleId));
    return this.reads.get(slot);
  }

  /** Queues an event; returns a promise only when a flush is due. */
  push(event, rule, data, logger, collector) {
    // A mapping function pushing into this destination while its event is
    // planned: queue the push once that is done.
    if (this.core.busy()) return Promise.resolve().then(() => this.push(event, rule, data, logger, collector));
    this.logger = logger;
    this.collector = collector;
    const ruleId = this.ruleId(rule);
    // Written now, so later changes to the event's objects do not matter.
    const entry = entryJson(event, ruleId, this.readsOf(ruleId), data);
    if (this.batch) {
      // Held until a batch is full or the next flush, when the core plans
      // them all at once and the batch goes out in the background. A push
      // waits only once HubSpot falls behind (high water), which slows a
      // faster producer down instead of letting maxQueue drop events.
      this.held.push(entry);
      this.heldRoots.push(event);
      // With a spool the event's record must be written before this push
      // returns, so it goes to the core (which writes it) now.
      if ((this.spool || this.held.length >= this.holdLimit) && this.handOver()) this.send();
      if (this.queued() >= this.highWater) return this.settled();
      return undefined;
    }
    // Single mode plans at once and delivers in the background, several
    // events side by side, so a push never waits on HubSpot (stop() waits
    // for all of it).
    this.queueEntries([entry], [event]);
    this.drain();
    return undefined;
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
    return this.held.length + this.core.queued();
  }

  /** Batch mode: sends the full batches in the background, a few requests
   * side by side at most. */
  send() {
    if (this.sending >= BATCH_CONCURRENCY) return;
    this.sending += 1;
    this.flush(false).finally(() => {
      this.sending -= 1;
      // Batches that filled up while every loop was on its last request
      // (not while a retry waits: its timer sends them; nor once stopped).
      if (this.timers && this.retryTimer === undefined && this.core.waitingEvents() >= this.holdLimit) this.send();
    });
  }

  /** Resolves once the requests under way now are answered. */
  settled() {
    return Promise.allSettled([...this.running]).then(() => undefined);
  }

  /** Single mode: starts delivery loops up to the concurrency limit. */
  drain() {
    while (this.timers && this.loops < SINGLE_CONCURRENCY && this.core.waiting() > this.loops) {
      this.loops += 1;
      this.flush(true).finally(() => {
        this.loops -= 1;
      });
    }
  }

  /** Remembers a promise of the core's until it settles. */
  track(promise) {
    this.running.add(promise);
    const forget = () => this.running.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Schedules the next try when the core asks for one (`ms`). */
  retryIn(ms) {
    if (typeof ms !== 'number' || !this.timers) return;
    const at = Date.now() + ms;
    if (this.retryTimer && this.retryAt <= at) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    // Unref'd like the flush timer: on the way out the shutdown hook
    // drains what is left.
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = Infinity;
      if (this.batch) this.flush(true);
      else this.drain();
    }, ms);
    this.retryTimer.unref();
  }

  /** Sends what is queued (everything when `all`); never throws.
   * Resolves with the milliseconds until the next try is due, if any. */
  async flush(all) {
    try {
      if (all) this.handOver();
      if (this.core.queued() === 0) return undefined;
      const wait = await this.track(this.core.flush(all, this.logger));
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
    if (!this.stopping) this.stopping = this.drainUntilDeadline();
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
    const timeout = this.core.shutdownTimeout();
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
        // Nothing to wait for but requests under way: settled() waits.
        if (wait !== undefined || this.running.size === 0) await sleep(wait === undefined ? 10 : wait);
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

module.exports = { Instance, rulesOf };
