'use strict';

// Serialising configs for the Rust core. JSON cannot hold functions, so each
// function (a mapping `fn`, `condition` or `validate`, a rule `condition`)
// goes into `registry` and is written as a marker the core calls it by.

const MARKER = '\u0000fn:';

function toJson(value, what) {
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw new Error(`HubSpot destination: the ${what} could not be serialized: ${error.message}`);
  }
}

/**
 * JSON text of a config, with its functions registered as `{ fn, item, key,
 * bare }`: `item` is the object holding the function (walkerOS passes it as
 * `ctx.mapping`), `key` its option name, `bare` that it is called without a
 * context (rule conditions outside a collector).
 */
function configJson(value, registry, what, bare = false) {
  try {
    return JSON.stringify(value, function replace(key, v) {
      if (typeof v !== 'function') return v;
      registry.push({ fn: v, item: this, key, bare });
      return `${MARKER}${registry.length - 1}`;
    });
  } catch (error) {
    throw new Error(`HubSpot destination: the ${what} could not be serialized: ${error.message}`);
  }
}

module.exports = { toJson, configJson };
