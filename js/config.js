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

// Tags of src/slots.rs `entries`: a value, and a shape's steps.
const TAG_STRING = 0x73; // s
const TAG_TRUE = 0x74; // t
const TAG_FALSE = 0x66; // f
const TAG_NULL = 0x7a; // z
const TAG_JSON = 0x6a; // j
const STEP_DATA = 0x64; // d
const STEP_NO_DATA = 0x2d; // -
const STEP_ABSENT = 0x61; // a
const STEP_VALUE = 0x76; // v
const STEP_NUMBER = 0x6e; // n
const STEP_OBJECT = 0x6f; // o

// Past this, a buffer is let go of once its entries are handed over, so one
// huge event does not keep its memory for good.
const KEEP_BYTES = 1 << 20;

function putU32(bytes, at, n) {
  bytes[at] = n;
  bytes[at + 1] = n >>> 8;
  bytes[at + 2] = n >>> 16;
  bytes[at + 3] = n >>> 24;
}

/**
 * Entries for the core as src/slots.rs `entries` reads them, written into
 * one buffer that is used again after each hand-over, and the finite
 * numbers beside them (float64). Strings go in as their UTF-8, unescaped.
 */
class Entries {
  constructor() {
    this.bytes = Buffer.allocUnsafe(4096);
    this.length = 0;
    this.numbers = new Float64Array(256);
    this.count = 0;
  }

  reserve(n) {
    if (this.length + n <= this.bytes.length) return;
    const bytes = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.length + n));
    this.bytes.copy(bytes, 0, 0, this.length);
    this.bytes = bytes;
  }

  number(value) {
    if (this.count === this.numbers.length) {
      const numbers = new Float64Array(2 * this.count);
      numbers.set(this.numbers);
      this.numbers = numbers;
    }
    this.numbers[this.count++] = value;
  }

  tag(tag) {
    this.reserve(1);
    this.bytes[this.length++] = tag;
  }

  /** `tag`, then `text` as UTF-8 after its length. */
  text(tag, text) {
    const n = text.length;
    // A UTF-16 unit takes at most 3 bytes.
    this.reserve(5 + 3 * n);
    const { bytes } = this;
    const head = this.length;
    let end = head + 5;
    // ASCII byte by byte (the usual event), anything else by Buffer.
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        end = head + 5 + bytes.write(text, head + 5);
        break;
      }
      bytes[end++] = c;
    }
    bytes[head] = tag;
    putU32(bytes, head + 1, end - head - 5);
    this.length = end;
  }

  /** A value as JSON would hold it (not undefined, a function or a
   * symbol: those are left out before). */
  value(value) {
    switch (typeof value) {
      case 'string':
        this.text(TAG_STRING, value);
        return;
      case 'boolean':
        this.tag(value ? TAG_TRUE : TAG_FALSE);
        return;
      default:
        if (value === null) this.tag(TAG_NULL);
        // A toJSON may give undefined: JSON holds that as null in an array.
        else this.text(TAG_JSON, JSON.stringify(value) ?? 'null');
    }
  }

  /** The bytes and numbers written, as views (valid until `clear`). */
  view() {
    return [this.bytes.subarray(0, this.length), this.numbers.subarray(0, this.count)];
  }

  clear() {
    this.length = 0;
    this.count = 0;
    if (this.bytes.length > KEEP_BYTES) this.bytes = Buffer.allocUnsafe(4096);
    if (this.numbers.length > KEEP_BYTES / 8) this.numbers = new Float64Array(256);
  }
}

/**
 * The writer of an event's entry for the core under the core's `slots`
 * order (undefined: the whole event): `write(event, data, entries)` appends
 * to `entries` the values `project` keeps of the event, leaf by leaf in the
 * order's order, its finite numbers beside them, and the shape that says
 * what was there (src/slots.rs). No key is written, and no JSON.stringify
 * is needed but for values taken whole.
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
  // Steps at most: the data's and one per node of the order.
  function size(node) {
    return node === 1 ? 1 : node[0].reduce((n, [, below]) => n + size(below), 1);
  }
  const compiled = compile(root);
  const steps = new Uint8Array(1 + size(root));
  let step = 0;
  const hasOwn = Object.prototype.hasOwnProperty;
  // Writes what is kept of `value` (present, as the member `key`).
  function put(value, node, key, out) {
    switch (typeof value) {
      case 'number':
        if (Number.isFinite(value)) {
          out.number(value);
          steps[step++] = STEP_NUMBER;
          return;
        }
        break;
      case 'string':
        out.text(TAG_STRING, value);
        steps[step++] = STEP_VALUE;
        return;
      case 'boolean':
        out.tag(value ? TAG_TRUE : TAG_FALSE);
        steps[step++] = STEP_VALUE;
        return;
      case 'object':
        // Plain objects under a node are walked by `walk`: here, an array
        // the order goes into.
        if (node !== null && Array.isArray(value)) {
          put(project(value, node.form), null, key, out);
          return;
        }
        break;
      default:
    }
    const kept = member(value, key);
    if (kept === undefined) {
      steps[step++] = STEP_ABSENT;
      return;
    }
    out.value(kept);
    steps[step++] = STEP_VALUE;
  }
  // The walk through the order's objects, written out as code once per
  // rule: each field is read by its name written in the code, which V8
  // reads as fast as `event.name`, instead of by a key that changes from
  // read to read (a quarter of the writing time).
  const nodes = [];
  let fields = 0;
  function code(node, value, key) {
    const literal = JSON.stringify(key);
    if (node === null) return `put(${value}, null, ${literal}, out);`;
    const id = nodes.push(node) - 1;
    // In a plain object a defined member is its own, unless Object.prototype
    // has one of that name: one read instead of a hasOwnProperty call and a
    // read (a seventh of the writing time). Other objects are asked.
    const plain = `p${id}`;
    let body = `const ${plain} = isPlain(${value});\n`;
    node.names.forEach((name, i) => {
      const field = `v${++fields}`;
      const at = JSON.stringify(name);
      const inner = code(node.below[i], field, name);
      body += name in Object.prototype
        ? `if (hasOwn.call(${value}, ${at})) { const ${field} = ${value}[${at}]; ${inner} } else absent();\n`
        : `{ const ${field} = ${value}[${at}]; if (${field} !== undefined && (${plain} || hasOwn.call(${value}, ${at}))) { ${inner} } else absent(); }\n`;
    });
    return `if (typeof ${value} === 'object' && ${value} !== null && !Array.isArray(${value})) {\nobject();\n${body}} else put(${value}, nodes[${id}], ${literal}, out);\n`;
  }
  const isPlain = (value) => {
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  };
  const object = () => {
    steps[step++] = STEP_OBJECT;
  };
  const absent = () => {
    steps[step++] = STEP_ABSENT;
  };
  // The same walk without generated code, where Node runs with
  // --disallow-code-generation-from-strings.
  function walkNode(value, node, key, out) {
    if (node === null || typeof value !== 'object' || value === null || Array.isArray(value)) {
      put(value, node, key, out);
      return;
    }
    object();
    node.names.forEach((name, i) => {
      if (hasOwn.call(value, name)) walkNode(value[name], node.below[i], name, out);
      else absent();
    });
  }
  // An entry: its length, then the mapped data and the event's values,
  // then its shape. `begin` and `end` frame what a walk writes.
  const begin = (data, out) => {
    const mapped = member(data, '');
    out.reserve(4);
    out.length += 4;
    step = 0;
    if (mapped === undefined) {
      steps[step++] = STEP_NO_DATA;
    } else {
      steps[step++] = STEP_DATA;
      out.value(mapped);
    }
  };
  const end = (out, start) => {
    putU32(out.bytes, start, out.length - start - 4);
    out.reserve(4 + step);
    const { bytes } = out;
    putU32(bytes, out.length, step);
    for (let i = 0, at = out.length + 4; i < step; i++) bytes[at + i] = steps[i];
    out.length += 4 + step;
  };
  // Nothing of an entry that fails is handed over.
  const failed = (error, data, out, start, numbers) => {
    out.length = start;
    out.count = numbers;
    const mapped = member(data, '');
    if (mapped !== undefined) toJson(mapped, 'mapped data');
    return fail('event', error);
  };
  try {
    // One generated function for the whole entry: too large for V8 to
    // inline into the push that calls it, so it is optimised once, and the
    // push stays small.
    return new Function('put', 'hasOwn', 'isPlain', 'nodes', 'object', 'absent', 'begin', 'end', 'failed', `return (v0, data, out) => {
  const start = out.length;
  const numbers = out.count;
  try {
    begin(data, out);
    ${code(compiled, 'v0', '')}
  } catch (error) {
    throw failed(error, data, out, start, numbers);
  }
  end(out, start);
};`)(put, hasOwn, isPlain, nodes, object, absent, begin, end, failed);
  } catch {
    return (event, data, out) => {
      const start = out.length;
      const numbers = out.count;
      try {
        begin(data, out);
        walkNode(event, compiled, '', out);
      } catch (error) {
        throw failed(error, data, out, start, numbers);
      }
      end(out, start);
    };
  }
}

module.exports = { toJson, taggedJson, project, projector, slotWriter, objectForm, Entries };
