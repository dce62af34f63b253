'use strict';

// JSON text for the Rust core. Configs (settings, rules, mapping values) and
// the values handed to the mapping functions go through a tagging encoder
// that keeps what JSON cannot hold as strings starting with NUL: undefined,
// non-plain values (Dates, class instances, BigInt), NaN, infinities, -0 and
// functions. A config's functions (a mapping `fn`, `condition` or
// `validate`, a rule `condition`) go into a registry and become markers the
// core calls them by. Events on the hot path use plain JSON semantics: the
// destination hands over entries (`slotWriter`, the values the core reads),
// `compileMappings` the cut-down event (`projector`).

const NUL = '\u0000';

function isPlainObject(value) {
  return Object.prototype.toString.call(value) === '[object Object]';
}

/** walkerOS's castToProperty test: no null, function or non-plain value. */
function isProperty(value) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return !Number.isNaN(value);
    case 'object':
      if (value === null) return false;
      if (Array.isArray(value)) return value.every(isProperty);
      if (!isPlainObject(value)) return false;
      for (const key in value) if (!isProperty(value[key])) return false;
      return true;
    default:
      return false;
  }
}

function fail(what, error) {
  return new Error(`HubSpot destination: the ${what} could not be serialized: ${error.message}`);
}

/** JSON text of `value` (by `write`, a `projector`, when given), or an
 * error that says what could not be serialized. */
function toJson(value, what, write = JSON.stringify) {
  try {
    return write(value);
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
 * The parts of `value` the core reads, from its `projection()`: a node is
 * `true` for a part taken whole, or `[fields, each]`: of a plain object the
 * keys in `fields`, of an array each item through `each` (the whole array
 * when `each` is null or an index is read too), anything else whole.
 */
function project(value, node) {
  if (node === true || value === null || typeof value !== 'object') return value;
  const [fields, each] = node;
  if (Array.isArray(value)) {
    if (!each) return value;
    for (const key in fields) return value; // read by index as well
    // walkerOS casts the looped array as a whole: keep it whole where a part
    // of an item that would be cut away makes that cast fail.
    if (!value.every(isProperty)) return value;
    return value.map((item) => project(item, each));
  }
  const out = {};
  for (const key in fields) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const part = project(value[key], fields[key]);
    // An event's own "__proto__" key is data: assigning it would set the
    // copy's prototype instead.
    if (key === '__proto__') Object.defineProperty(out, key, { value: part, enumerable: true, writable: true, configurable: true });
    else out[key] = part;
  }
  return out;
}

// What JSON.stringify would escape in a string (a quote, a backslash, a
// control character, a surrogate): strings without any are quoted as they are.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(value)`, without the call for the common strings and
 * numbers of an event (it costs more than the writing). */
function leafJson(value) {
  switch (typeof value) {
    case 'string':
      return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      return Number.isFinite(value) ? `${value}` : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return JSON.stringify(value);
  }
}

/**
 * A function that writes `JSON.stringify(project(value, node))` without
 * building the projected copy: one closure per projection node, made once
 * per rule. Arrays, rare on this path, go through `project`.
 */
function projector(node) {
  if (node === true) return leafJson;
  const [fields] = node;
  const parts = Object.keys(fields).map((key) => [key, `${JSON.stringify(key)}:`, projector(fields[key])]);
  return (value) => {
    if (value === null || typeof value !== 'object') return JSON.stringify(value);
    if (Array.isArray(value)) return JSON.stringify(project(value, node));
    let out = '';
    for (const [key, prefix, write] of parts) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      const json = write(value[key]);
      if (json === undefined) continue;
      out += out === '' ? prefix + json : `,${prefix}${json}`;
    }
    return `{${out}}`;
  };
}

/** The object form `project` takes, from the core's order form (`1` for a
 * part taken whole, else `[[[key, node], ...], each]`). */
function objectForm(node) {
  if (node === 1) return true;
  const [entries, each] = node;
  return [Object.fromEntries(entries.map(([key, below]) => [key, objectForm(below)])), each && objectForm(each)];
}

/** A value as JSON.stringify takes it as the member `key` of an object:
 * after `toJSON`, or undefined where it would be left out. */
function member(value, key) {
  if (value !== null && typeof value === 'object' && typeof value.toJSON === 'function') value = value.toJSON(key);
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      return value;
  }
}

/**
 * The writer of an event's entry for the core (see src/slots.rs) under the
 * core's `slots` order (undefined: the whole event): `write(event, data,
 * numbers)` returns the JSON text of `[shape, data?, ...values]`, the values
 * being what `project` keeps of the event, leaf by leaf in the order's
 * order, and appends its finite numbers to `numbers` instead (the core takes
 * them as float64). One JSON.stringify of a flat array per event, and no key
 * is written.
 */
function slotWriter(order) {
  const root = order === undefined ? 1 : order;
  function compile(node) {
    if (node === 1) return null;
    const [entries] = node;
    return {
      form: objectForm(node),
      names: entries.map(([key]) => key),
      below: entries.map(([, below]) => compile(below)),
    };
  }
  const compiled = compile(root);
  const hasOwn = Object.prototype.hasOwnProperty;
  // Appends what is kept of `value` (present, as the member `key`) to
  // `values` (finite numbers to `numbers`); returns its shape.
  function put(value, node, key, values, numbers) {
    switch (typeof value) {
      case 'number':
        if (Number.isFinite(value)) {
          numbers.push(value);
          return 'n';
        }
        values.push(value);
        return 'v';
      case 'string':
      case 'boolean':
        values.push(value);
        return 'v';
      case 'object':
        if (node === null || value === null) break;
        if (Array.isArray(value)) return put(project(value, node.form), null, key, values, numbers);
        {
          const { names, below } = node;
          let shape = 'o';
          for (let i = 0; i < names.length; i++) {
            const name = names[i];
            shape += hasOwn.call(value, name) ? put(value[name], below[i], name, values, numbers) : 'a';
          }
          return shape;
        }
      default:
    }
    const kept = member(value, key);
    if (kept === undefined) return 'a';
    values.push(kept);
    return 'v';
  }
  return (event, data, numbers) => {
    const values = [''];
    let shape = '-';
    const mapped = member(data, '');
    if (mapped !== undefined) {
      shape = 'd';
      values.push(mapped);
    }
    const start = numbers.length;
    try {
      values[0] = shape + put(event, compiled, '', values, numbers);
      return JSON.stringify(values);
    } catch (error) {
      // The entry is not handed over: neither are its numbers.
      numbers.length = start;
      if (mapped !== undefined) toJson(mapped, 'mapped data');
      throw fail('event', error);
    }
  };
}

module.exports = { toJson, taggedJson, project, projector, slotWriter, objectForm };
