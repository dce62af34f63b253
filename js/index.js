'use strict';

// The walkerOS server destination around the Rust core. It only moves data
// across the boundary (as JSON text) and hands the core's promises and
// errors back to the collector; every decision is made in Rust.

const { HubspotCore } = require('./wasm/walkeros_destination_hubspot.js');
const { toJson, taggedJson, project } = require('./config.js');

// One core per destination config: a collector may register this
// destination more than once (for two HubSpot accounts, say).
const instances = new WeakMap();

function pickFetch(env) {
  if (env && typeof env.fetch === 'function') return env.fetch;
  if (typeof globalThis.fetch === 'function') return globalThis.fetch.bind(globalThis);
  throw new Error('HubSpot destination: no fetch available; use Node 18 or later, or pass env.fetch');
}

class Instance {
  constructor(config, env) {
    const settings = config.settings === undefined ? {} : config.settings;
    this.callbacks = [];
    this.core = new HubspotCore(taggedJson(settings, 'settings', this.callbacks), pickFetch(env), this.callbacks);
    this.rules = new WeakMap();
    // Per rule handle (and -1 for none): what the core reads of an event.
    this.projections = new Map();
    // Compiling every rule now turns a mistake in any of them into an init
    // error that names it, instead of a surprise on the first such event.
    const mapping = config.mapping || {};
    for (const entity of Object.keys(mapping)) {
      const actions = mapping[entity] || {};
      for (const action of Object.keys(actions)) {
        const rules = actions[action];
        const list = Array.isArray(rules) ? rules : [rules];
        list.forEach((rule, i) => {
          const field = Array.isArray(rules)
            ? `mapping.${entity}.${action}[${i}]`
            : `mapping.${entity}.${action}`;
          this.ruleId(rule, field);
        });
      }
    }
  }

  ruleId(rule, field = 'mapping rule') {
    if (!rule || typeof rule !== 'object') return undefined;
    let id = this.rules.get(rule);
    if (id === undefined) {
      id = this.core.addRule(taggedJson(rule, field, this.callbacks), field);
      this.rules.set(rule, id);
    }
    return id;
  }

  /** What the core reads of an event under this rule, or null for all. */
  projectionFor(ruleId) {
    const slot = ruleId === undefined ? -1 : ruleId;
    let projection = this.projections.get(slot);
    if (projection === undefined) {
      const json = this.core.projection(ruleId);
      projection = json === undefined ? null : JSON.parse(json);
      this.projections.set(slot, projection);
    }
    return projection;
  }
}

function instanceFor(config, env) {
  let instance = instances.get(config);
  if (!instance) {
    instance = new Instance(config, env);
    instances.set(config, instance);
  }
  return instance;
}

const destinationHubspot = {
  type: 'hubspot',
  config: {},

  init({ config, env }) {
    instanceFor(config, env);
  },

  async push(event, { config, rule, data, env, logger, collector }) {
    const instance = instanceFor(config, env);
    const ruleId = instance.ruleId(rule);
    const dataJson = data === undefined ? undefined : toJson(data, 'mapped data');
    const projection = instance.projectionFor(ruleId);
    const partial = Boolean(projection && event && typeof event === 'object');
    const eventJson = toJson(partial ? project(event, projection) : event, 'event');
    await instance.core.push(eventJson, ruleId, dataJson, logger, event, collector, partial);
  },

  async pushBatch(batch, { config, env, logger, collector }) {
    const instance = instanceFor(config, env);
    const entries = batch.entries || batch.events.map((event) => ({ event }));
    const rules = entries.map((e) => {
      const id = instance.ruleId(e.rule);
      return id === undefined ? -1 : id;
    });
    const failed = await instance.core.pushBatch(
      toJson(entries.map((e) => e.event), 'batch'),
      Int32Array.from(rules),
      toJson(entries.map((e) => (e.data === undefined ? null : e.data)), 'mapped data'),
      logger,
      entries.map((e) => e.event),
      collector,
    );
    if (failed.length > 0) {
      return { failed: failed.map(([index, error]) => ({ index, error })) };
    }
    return undefined;
  },

  async destroy({ config, logger }) {
    const instance = instances.get(config);
    if (!instance) return;
    await instance.core.flush(true, logger);
    instances.delete(config);
  },
};

// `require()` gives the destination itself, and `.destinationHubspot` and
// `.default` name it too. They are not enumerable, so a collector that
// spreads the destination object does not copy them.
for (const name of ['destinationHubspot', 'default']) {
  Object.defineProperty(destinationHubspot, name, { value: destinationHubspot, enumerable: false });
}

module.exports = destinationHubspot;
