'use strict';

// walkerOS's mapping functions, resolved by this package's Rust engine, with
// @walkeros/core 4.2.1's arguments and results. For checking a config, and
// for comparing the engine with walkerOS's own.

const wasm = require('./wasm/walkeros_destination_hubspot.js');
const { caller, taggedJson, toJson, fromTaggedJson, pick, isPlainObject } = require('./config.js');

/**
 * `getMappingValue(value, mapping, { collector, consent?, event? })`: the
 * mapped value, as @walkeros/core 4.2.1 resolves it. `consent` is used when
 * `value` carries no `consent` of its own, then `collector.consent`;
 * failures are logged through `collector.logger`. Mapping functions are
 * called synchronously.
 */
async function getMappingValue(value, mapping = {}, context = {}) {
  if (value === undefined) return undefined;
  // Read before the collector check, as walkerOS does: a value that throws
  // here rejects.
  const consent = (isPlainObject(value) && value.consent) || context.consent || (context.collector && context.collector.consent);
  const event = context.event ?? (isPlainObject(value) ? value : {});
  const { collector } = context;
  if (!collector) throw new Error('getMappingValue: context.collector is required');
  let json;
  try {
    json = taggedJson(value, 'value');
  } catch (wrapped) {
    // walkerOS reads lazily and fails where a read throws; the value cannot
    // be copied for the engine, so the whole mapping fails as walkerOS's
    // does then. The error logged is the one reading threw.
    collector.status.failed++;
    collector.logger.error('mapping processing failed', { event, error: wrapped.cause });
    return undefined;
  }
  return resolveValue(value, json, mapping, consent, collector, context.event);
}

/** `getMappingValue` without walkerOS's checks, for the dry run. */
function getMappingValueSync(value, mapping) {
  return value === undefined ? undefined : resolveValue(value, taggedJson(value, 'value'), mapping);
}

function resolveValue(value, json, mapping, consent, collector, event) {
  const registry = [];
  const mappingJson = taggedJson(mapping, 'mapping', registry);
  const [text, path] = wasm.getMappingValue(
    json,
    mappingJson,
    consent ? taggedJson(consent, 'consent') : undefined,
    caller(registry),
    value,
    collector,
    collector && collector.logger,
    event,
  );
  const result = fromTaggedJson(text);
  return path ? own(value, path, result) : result;
}

/**
 * walkerOS returns the part of the value a path names, not a copy: `result`
 * is the engine's copy of what `path` leads to in `value`.
 */
function own(value, path, result) {
  let current = value;
  for (const key of path) {
    if (!(Array.isArray(current) || isPlainObject(current)) || !Object.prototype.hasOwnProperty.call(current, key)) return result;
    current = current[key];
  }
  return current !== null && typeof current === 'object' ? current : result;
}

/**
 * `getMappingEvent(event, mapping, collector?)`: `{ eventMapping, mappingKey }`
 * for the rule the event gets (the rule object itself), `{}` for an event
 * whose name is not "entity action".
 */
const getMappingEvent = async (event, mapping, collector) => findRule(event, mapping, collector);

function findRule(event, mapping, collector) {
  const [entity, action] = String((event && event.name) || '').split(' ');
  if (!mapping || !entity || !action) return {};
  const registry = [];
  const mappingJson = taggedJson(mapping, 'mapping', registry, !collector);
  const found = wasm.getMappingEvent(taggedJson(event, 'event'), mappingJson, caller(registry), event, collector);
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
  const set = new wasm.MappingSet(taggedJson(mappings, 'mappings', registry), caller(registry));
  const keys = set.reads();
  return {
    resolve(event, options = {}) {
      const consent = options.consent ? taggedJson(options.consent, 'consent') : undefined;
      return fromTaggedJson(set.resolve(toJson(pick(event, keys), 'event'), consent, event, options.collector));
    },
  };
}

module.exports = { getMappingValue, getMappingEvent, compileMappings, getMappingValueSync, findRule };
