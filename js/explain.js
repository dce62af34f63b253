'use strict';

// The dry run: what pushing an event would send, without sending anything.

const { Instance } = require('./instance.js');
const { findRule, getMappingValueSync } = require('./mapping.js');
const { entryJson } = require('./config.js');

function neverSend() {
  throw new Error('explain() never sends');
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The collector's merge of config.data and rule.data: the rule's keys
 * win, but two arrays under one key become their union without repeats. */
function merged(base, own) {
  const out = { ...base, ...own };
  for (const [key, value] of Object.entries(own)) {
    if (Array.isArray(value) && Array.isArray(base[key])) out[key] = [...new Set([...base[key], ...value])];
  }
  return out;
}

/**
 * `explain(event, config)`: `{ requests: [{ method, path, body }], notes:
 * [{ level, message }] }` for `event` under the destination `config`, the
 * rule picked as the collector picks it. A fresh destination is assumed, so
 * a contact upsert is shown even where a running one would skip it as
 * unchanged.
 */
function explain(event, config = {}) {
  const instance = new Instance(config, { fetch: neverSend }, { timers: false });
  // A collector (none here) makes rule conditions get a context ({ event,
  // mapping, collector, logger, consent }), as they do in a real push.
  const { eventMapping: rule, mappingKey } = findRule(event, config.mapping, {});
  if (rule && rule.ignore) {
    return { requests: [], notes: [{ level: 'info', message: `ignored by the mapping rule "${mappingKey}"` }] };
  }
  const named = rule && typeof rule.name === 'string' ? { ...event, name: rule.name } : event;
  // The collector's mapped `data`: config.data, then rule.data over it.
  const base = config.data === undefined ? undefined : getMappingValueSync(named, config.data);
  const own = rule && rule.data !== undefined ? getMappingValueSync(named, rule.data) : undefined;
  const data = rule && rule.data !== undefined ? (isObject(base) && isObject(own) ? merged(base, own) : own) : base;
  const ruleId = instance.ruleId(rule, mappingKey ? `mapping rule "${mappingKey}"` : 'mapping rule');
  // The collector batches (through pushBatch) when the rule or the config
  // has `batch`.
  const batched = Boolean((rule && rule.batch) || config.batch);
  return instance.core.explain(entryJson(named, ruleId, undefined, data), named, undefined, batched);
}

module.exports = { explain };
