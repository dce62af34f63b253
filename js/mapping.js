'use strict';

// walkerOS's mapping functions, resolved by this package's Rust engine, with
// @walkeros/core 4.2.1's arguments and results. For checking a config, and
// for comparing the engine with walkerOS's own.

const wasm = require('./wasm/walkeros_destination_hubspot.js');
const { taggedJson, toJson, pick } = require('./config.js');

/**
 * `getMappingValue(value, mapping, { consent, collector })`: the mapped
 * value. `consent` is used when `value` carries no `consent` of its own.
 * Mapping functions are called synchronously.
 */
async function getMappingValue(value, mapping = {}, options = {}) {
  return getMappingValueSync(value, mapping, options);
}

function getMappingValueSync(value, mapping = {}, options = {}) {
  if (value === undefined) return undefined;
  const registry = [];
  const mappingJson = taggedJson(mapping, 'mapping', registry);
  const collector = options.collector;
  const consent = options.consent || (collector && collector.consent);
  return wasm.getMappingValue(
    taggedJson(value, 'value'),
    mappingJson,
    consent ? taggedJson(consent, 'consent') : undefined,
    registry,
    value,
    collector,
    options.logger || (collector && collector.logger),
  );
}

/**
 * `getMappingEvent(event, mapping, collector?)`: `{ eventMapping, mappingKey }`
 * for the rule the event gets (the rule object itself), `{}` for an event
 * whose name is not "entity action".
 */
async function getMappingEvent(event, mapping, collector) {
  return findRule(event, mapping, collector);
}

function findRule(event, mapping, collector) {
  const [entity, action] = String((event && event.name) || '').split(' ');
  if (!mapping || !entity || !action) return {};
  const registry = [];
  const mappingJson = taggedJson(mapping, 'mapping', registry, !collector);
  const found = wasm.getMappingEvent(taggedJson(event, 'event'), mappingJson, registry, event, collector);
  if (!found) return { eventMapping: undefined, mappingKey: '' };
  const [entityKey, actionKey, index] = found;
  const slot = mapping[entityKey][actionKey];
  return { eventMapping: index === undefined ? slot : slot[index], mappingKey: `${entityKey} ${actionKey}` };
}

/**
 * `compileMappings({ email: 'user.email', properties: { map: ... } })`
 * compiles named mapping values once; `.resolve(event, { consent })` then
 * returns `{ email, properties }` (undefined results left out) in one
 * synchronous call, reading only the event fields the mappings need. This is
 * how the destination resolves a rule.
 */
function compileMappings(mappings) {
  const registry = [];
  const set = new wasm.MappingSet(taggedJson(mappings, 'mappings', registry), registry);
  const keys = set.reads();
  return {
    resolve(event, options = {}) {
      const consent = options.consent ? taggedJson(options.consent, 'consent') : undefined;
      return set.resolve(toJson(pick(event, keys), 'event'), consent, event, options.collector);
    },
  };
}

module.exports = { getMappingValue, getMappingEvent, compileMappings, getMappingValueSync, findRule };
