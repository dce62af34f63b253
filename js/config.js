'use strict';

// JSON text for the Rust core. Configs (settings, rules, mapping values) go
// through a tagging encoder that keeps what JSON cannot hold as strings
// starting with NUL: undefined, non-plain values (Dates, class instances,
// BigInt), NaN, infinities, -0 and functions. A config's functions (a
// mapping `fn`, `condition` or `validate`, a rule `condition`) go into a
// registry and become markers the core calls them by. Events use plain
// JSON semantics, and only the fields the core reads of them are written.

const NUL = '\u0000';

/** Calls `call`, ignoring what it throws or the promise it returns rejects
 * with: a failing logger, onToken or onDrop is the user's bug and must not
 * stop delivery, nor end the process as an unhandled rejection. `failed`,
 * if given, is called instead (once, either way). */
function ignoreThrow(call, failed = () => {}) {
  try {
    const result = call();
    if (result && typeof result.then === 'function') result.then(undefined, () => ignoreThrow(failed));
  } catch {
    ignoreThrow(failed);
  }
}

function isObject(value) {
  return value !== null && typeof value === 'object';
}

function isPlainObject(value) {
  return Object.prototype.toString.call(value) === '[object Object]';
}

function fail(what, error) {
  return new Error(`HubSpot destination: the ${what} could not be serialized: ${error.message}`, { cause: error });
}

/** JSON text of `value`, or an error that says what could not be
 * serialized. */
function toJson(value, what) {
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw fail(what, error);
  }
}

/**
 * Tagged JSON text of `value`. With a `registry`, each function is added to
 * it as `{ fn, item, key, bare }` (`item` is the object holding it, which
 * walkerOS passes as `ctx.mapping`; `bare` marks rule conditions called with
 * no context) and written as a marker; without one it is a non-plain value.
 */
function taggedJson(value, what, registry, bare = false) {
  function replace(key, encoded) {
    const raw = this[key];
    switch (typeof raw) {
      case 'undefined':
        return `${NUL}u`;
      case 'function':
        if (!registry) return `${NUL}o`;
        registry.push({ fn: raw, item: this, key, bare });
        return `${NUL}fn:${registry.length - 1}`;
      case 'number':
        if (Number.isNaN(raw)) return `${NUL}nan`;
        if (raw === Infinity) return `${NUL}inf`;
        if (raw === -Infinity) return `${NUL}-inf`;
        if (Object.is(raw, -0)) return `${NUL}-0`;
        return raw;
      case 'string':
        return raw.charCodeAt(0) === 0 ? `${NUL}${raw}` : raw;
      case 'boolean':
        return raw;
      case 'bigint':
      case 'symbol':
        return `${NUL}o`;
      default:
        if (raw === null || Array.isArray(raw) || isPlainObject(raw)) return encoded;
        return `${NUL}o`;
    }
  }
  try {
    return JSON.stringify(value, replace);
  } catch (error) {
    throw fail(what, error);
  }
}

/**
 * The core's `call` of the functions in `registry` (see `taggedJson`), as
 * walkerOS calls them: `fn(value, { event, mapping, collector, logger,
 * consent })`, a `bare` one with no context. The result goes back as tagged
 * JSON text (not plain data when it cannot be written). A function that
 * throws or returns a Promise gives undefined, logged as walkerOS logs it.
 */
function caller(registry) {
  return (id, value, consent, root, collector, logger, event) => {
    const { fn, item, key, bare } = registry[id];
    const from = isObject(collector) ? collector : {};
    const ctx = bare
      ? undefined
      : {
          event: event ?? (isPlainObject(root) ? root : {}),
          mapping: item,
          collector,
          logger: isObject(from.logger) ? from.logger : logger,
          consent: consent === undefined ? from.consent : consent,
        };
    let result;
    try {
      result = fn(value, ctx);
      if (isObject(result) && typeof result.then === 'function') {
        // Its outcome is not used, and a rejection left unhandled would end
        // the process.
        ignoreThrow(() => result);
        throw new Error(`the mapping ${key} returned a Promise; walkeros-destination-hubspot calls mapping functions synchronously`);
      }
    } catch (error) {
      ignoreThrow(() => logger.error(`mapping ${key} failed`, { event: root, error }));
      return undefined;
    }
    try {
      return taggedJson(result, 'result');
    } catch {
      return JSON.stringify(`${NUL}o`);
    }
  };
}

/** The fields of `event` named in `keys` (all of it when `keys` is
 * undefined or it is not a plain object). */
function pick(event, keys) {
  if (!keys || !isPlainObject(event)) return event;
  const out = {};
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(event, key)) continue;
    // An event's own "__proto__" key is data: assigning it would set the
    // copy's prototype instead.
    if (key === '__proto__') Object.defineProperty(out, key, { value: event[key], enumerable: true, writable: true, configurable: true });
    else out[key] = event[key];
  }
  return out;
}

// JSON.stringify writes a lone surrogate (a cut emoji) as an escape, which
// serde_json refuses; it becomes U+FFFD, as TextEncoder would make it.
const LONE_SURROGATE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

function wellFormed(json) {
  return json !== undefined && json.includes('\\ud') ? json.replace(LONE_SURROGATE, '$1\\ufffd') : json;
}

/** An event's entry for the core (`{ rule, event, data }` as JSON text):
 * its rule handle, the fields of it the core reads (`keys`), and the
 * collector's mapped data. */
function entryJson(event, rule, keys, data) {
  const fields = wellFormed(toJson(pick(event, keys), 'event'));
  const mapped = data === undefined ? undefined : wellFormed(toJson(data, 'mapped data'));
  const ruleJson = rule === undefined ? '' : `"rule":${rule},`;
  const dataJson = mapped === undefined ? '' : `,"data":${mapped}`;
  return `{${ruleJson}"event":${fields === undefined ? 'null' : fields}${dataJson}}`;
}

// What `taggedJson` (and the core's `to_tagged_json`) write for values JSON
// cannot hold.
const TAGS = { u: undefined, nan: NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 };

function untag(value) {
  if (typeof value === 'string') {
    if (value.charCodeAt(0) !== 0) return value;
    return value.charCodeAt(1) === 0 ? value.slice(1) : TAGS[value.slice(1)];
  }
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const plain = untag(value[key]);
      // JSON.parse made "__proto__" an own key: assigning would set the prototype.
      if (key === '__proto__') Object.defineProperty(value, key, { value: plain, enumerable: true, writable: true, configurable: true });
      else value[key] = plain;
    }
  }
  return value;
}

/** A value from tagged JSON text (see `taggedJson`): one string crossing
 * the boundary and V8's JSON parser, instead of a call per field. */
function fromTaggedJson(text) {
  const value = JSON.parse(text);
  return text.includes('\\u0000') ? untag(value) : value;
}

module.exports = { caller, ignoreThrow, toJson, taggedJson, fromTaggedJson, pick, entryJson, isPlainObject };
