'use strict';

// The walkerOS server destination around the Rust core. It only moves data
// across the boundary (as JSON text); every decision is made in Rust, and
// what it reports goes to the collector's logger and `env.onDrop`.

const { Instance } = require('./instance.js');
const shutdown = require('./shutdown.js');
const { emptyStats } = require('./wasm/walkeros_destination_hubspot.js');

// One instance per destination config: a collector may register this
// destination more than once (for two HubSpot accounts, say). The collector
// hands push a shallow copy of the config init got, so its settings object
// is what names the instance when the config object is new.
const instances = new WeakMap();
const bySettings = new WeakMap();

function settingsOf(config) {
  const settings = config && config.settings;
  return settings !== null && typeof settings === 'object' ? settings : undefined;
}

/** Init's instance (which holds the spool's lock, what it replayed and the
 * definitions it prepared), found from the config or any copy of it. */
function lookup(config) {
  const settings = settingsOf(config);
  return instances.get(config) || (settings && bySettings.get(settings));
}

function instanceFor(config, env, logger) {
  let instance = lookup(config);
  if (!instance) {
    instance = new Instance(config, env, { logger });
    const settings = settingsOf(config);
    if (settings) bySettings.set(settings, instance);
  }
  instances.set(config, instance);
  return instance;
}

/** The dry run (see explain.js), loaded on first use: a destination that
 * only delivers need not load it at start. */
function explain(...args) {
  return require('./explain.js').explain(...args);
}

function add(total, counts) {
  for (const [key, value] of Object.entries(counts)) {
    if (typeof value === 'number') total[key] = (total[key] || 0) + value;
    else if (typeof value === 'boolean') total[key] = Boolean(total[key]) || value;
    else total[key] = add(total[key] || {}, value);
  }
  return total;
}

/**
 * The delivery counters of the destination with this `config`, or summed
 * over every live one without it: accepted, sent, retried, deduplicated,
 * contactsUpserted, skipped and dropped (by reason), queued, queuedUpserts,
 * rateLimited (429s by policy), and draining (a shutdown is under way).
 */
function stats(config) {
  if (config) {
    const instance = lookup(config);
    return instance ? instance.stats() : undefined;
  }
  // From every counter at zero: before the first event (init is lazy) and
  // after shutdown there is no live destination.
  return shutdown.running().reduce((total, instance) => add(total, instance.stats()), { ...emptyStats(), draining: false });
}

const destinationHubspot = {
  type: 'hubspot',
  config: {},

  init({ config, env, logger }) {
    const instance = instanceFor(config, env, logger);
    instance.logger = logger;
    // Another destination given the same settings object shares its
    // instance: this one's rules are checked too (each compiles once).
    instance.addRules(config.mapping);
    // In the background: events needing a definition wait for it, the
    // others go at once.
    instance.prepare();
  },

  // Not async: in batch mode most pushes only queue, and return nothing to
  // wait for. A bad event still rejects, as a promise.
  push(event, { config, rule, data, env, logger, collector }) {
    try {
      return instanceFor(config, env).push(event, rule, data, logger, collector);
    } catch (error) {
      return Promise.reject(error);
    }
  },

  async pushBatch(batch, { config, env, logger, collector }) {
    return instanceFor(config, env).pushBatch(batch.entries || batch.events.map((event) => ({ event })), logger, collector);
  },

  async destroy({ config, logger }) {
    const instance = lookup(config);
    if (!instance) return;
    // Still found by stats(config) while it drains.
    await instance.stop(logger);
    instances.delete(config);
    const settings = settingsOf(config);
    if (settings) bySettings.delete(settings);
  },
};

// `require()` gives the destination itself, and `.destinationHubspot`,
// `.default`, `.explain` and `.stats` name it, the dry run and the counters
// too. Those are not enumerable, so a collector that spreads the destination
// does not copy them.
for (const [name, value] of Object.entries({ destinationHubspot, default: destinationHubspot, explain, stats })) {
  Object.defineProperty(destinationHubspot, name, { value, enumerable: false });
}

module.exports = destinationHubspot;
