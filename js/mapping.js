'use strict';

// walkerOS's mapping functions, resolved by this package's Rust engine, with
// @walkeros/core 4.2.1's arguments and results. For checking a config, and
// for comparing the engine with walkerOS's own.

const wasm = require('./wasm/walkeros_destination_hubspot.js');
const { toJson, configJson } = require('./config.js');

/**
 * `getMappingValue(value, mapping, { consent, collector })`: the mapped
 * value. `consent` is used when `value` carries no `consent` of its own.
 * Mapping functions are called synchronously.
 */
async function getMappingValue(value, mapping = {}, options = {}) {
  if (value === undefined || typeof value === 'function') return undefined;
  const registry = [];
  const mappingJson = configJson(mapping, registry, 'mapping');
  if (mappingJson === undefined) return undefined;
  const collector = options.collector;
  const consent = options.consent || (collector && collector.consent);
  return wasm.getMappingValue(
    toJson(value, 'value'),
    mappingJson,
    consent ? toJson(consent, 'consent') : undefined,
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
  const [entity, action] = String((event && event.name) || '').split(' ');
  if (!mapping || !entity || !action) return {};
  const registry = [];
  const mappingJson = configJson(mapping, registry, 'mapping', !collector);
  const found = wasm.getMappingEvent(toJson(event, 'event'), mappingJson, registry, event, collector);
  if (!found) return { eventMapping: undefined, mappingKey: '' };
  const [entityKey, actionKey, index] = found;
  const slot = mapping[entityKey][actionKey];
  return { eventMapping: index === undefined ? slot : slot[index], mappingKey: `${entityKey} ${actionKey}` };
}

module.exports = { getMappingValue, getMappingEvent };
