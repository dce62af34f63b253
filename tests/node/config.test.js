'use strict';

// The shell's event serialisation: what it writes of an event under a
// projection must be exactly JSON.stringify of the projected copy.

const test = require('node:test');
const assert = require('node:assert/strict');
const { projector, project } = require('../../pkg/dist/config.js');

test('the projector writes exactly what JSON.stringify writes of the projected event', () => {
  // With an own "__proto__" key, as JSON.parse makes it from the core's
  // projection of a mapping that reads `__proto__`.
  const projection = JSON.parse('[{"a":true,"b":true,"c":[{"d":true},null],"__proto__":true},null]');
  const write = projector(projection);
  const values = [
    { a: 'x"y', b: '\\', c: { d: '\u0001\n' } },
    { a: '\ud83d\ude00', b: 'cut \ud83d', c: { d: -0 } },
    { a: NaN, b: Infinity, c: { d: 1e21 } },
    { a: true, b: false, c: { d: null } },
    { a: undefined, b: () => 1, c: { d: Symbol('s') } },
    { a: new Date(0), b: { toJSON: () => 'j' }, c: 'not an object' },
    { a: '\u2028\u2029 é€', b: '\x7f', c: { d: 5e-7, e: 'left out' } },
    { a: [1, 'two', { three: 3 }], b: { nested: ['x'] }, c: [{ d: 1 }, { d: 2 }] },
    JSON.parse('{"__proto__":"data","a":"z"}'),
    [{ a: 1 }, { b: 2 }],
    { a: new String('boxed'), b: Object(5), c: null },
    'a string event',
    null,
  ];
  for (const value of values) assert.equal(write(value), JSON.stringify(project(value, projection)), String(JSON.stringify(value)));
  assert.throws(() => write({ a: 10n }), /BigInt/);
});

// The entries written into an Entries buffer, each as [shape, ...values],
// and the numbers beside them, read as src/slots.rs `entries` reads them.
function decode(entries) {
  const [bytes, numbers] = entries.view();
  let at = 0;
  const u32 = () => {
    const n = bytes.readUInt32LE(at);
    at += 4;
    return n;
  };
  const text = () => {
    const n = u32();
    at += n;
    return bytes.toString('utf8', at - n, at);
  };
  const out = [];
  while (at < bytes.length) {
    const end = u32() + at;
    const values = [];
    while (at < end) {
      const tag = String.fromCharCode(bytes[at++]);
      if (tag === 's') values.push(text());
      else if (tag === 'j') values.push(JSON.parse(text()));
      else values.push({ t: true, f: false, z: null }[tag]);
    }
    assert.equal(at, end, 'values end where their length says');
    out.push([text(), ...values]);
  }
  return { entries: out, numbers: [...numbers] };
}

// Rebuilds the cut-down event from an entry, as src/slots.rs does (the Rust
// side has its own tests of the same format).
function readEntry(written, order) {
  const { entries, numbers } = decode(written);
  assert.equal(entries.length, 1, 'one entry');
  const [shape, ...values] = entries[0];
  let at = 0;
  const step = () => shape[at++];
  const data = step() === 'd' ? values.shift() : undefined;
  function node(form) {
    switch (step()) {
      case 'a':
        return undefined;
      case 'v':
        return values.shift();
      case 'n':
        // JSON would have made -0 a 0.
        return numbers.shift() + 0;
      case 'o': {
        const out = {};
        for (const [key, below] of form[0]) {
          const value = node(below);
          if (value !== undefined) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
      default:
        throw new Error(`bad step at ${at}`);
    }
  }
  const event = node(order === undefined ? 1 : order);
  assert.equal(at, shape.length, 'the whole shape is read');
  assert.equal(values.length, 0, 'every value is read');
  assert.equal(numbers.length, 0, 'every number is read');
  return { event, data };
}

test('an entry holds exactly what project keeps of the event, and the mapped data', () => {
  const { slotWriter, objectForm, Entries } = require('../../pkg/dist/config.js');
  // Keys of every kind, as the writer's generated code must spell them.
  const odd = 'k"\\\n\u2028${x}`';
  const order = [[['a', 1], ['b', 1], ['c', [[['d', 1]], null]], ['__proto__', 1], ['constructor', 1], ['l', [[], [[['x', 1]], null]]], [odd, [[[odd, 1]], null]]], null];
  const write = slotWriter(order);
  const values = [
    { a: 'x"y', b: '\\', c: { d: '\u0001\n', e: 'left out' } },
    { a: '\ud83d\ude00', b: 'cut \ud83d', c: { d: -0 } },
    { a: NaN, b: Infinity, c: 'not an object' },
    { a: undefined, b: () => 1, c: { d: Symbol('s') } },
    { a: new Date(0), b: { toJSON: (key) => `j:${key}` }, c: null },
    { a: [1, 'two', { three: 3 }], b: { nested: ['x'] }, c: [{ d: 1 }] },
    JSON.parse('{"__proto__":"data","a":"z"}'),
    { l: [{ x: 1, y: 2 }, { x: 3 }], a: new String('boxed'), b: Object(5) },
    { l: [{ x: 1 }, 'not an object'] },
    { [odd]: { [odd]: 'odd key', other: 1 }, a: 'x' },
    // Only own members count, as in JSON, whatever the prototype.
    Object.assign(Object.create({ a: 'inherited', c: { d: 'inherited' } }), { b: 'own' }),
    new (class {
      constructor() {
        this.b = 'own';
      }

      get a() {
        return 'getter';
      }
    })(),
    Object.assign(Object.create(null), { a: 'no prototype', c: Object.assign(Object.create(null), { d: 1 }) }),
    { constructor: 'own', a: 1 },
    {},
    'a string event',
    null,
  ];
  for (const value of values) {
    for (const data of [undefined, { mapped: true }, 'text']) {
      const written = new Entries();
      write(value, data, written);
      const { event, data: read } = readEntry(written, order);
      // A lone surrogate (which JSON.stringify escapes) goes in as U+FFFD,
      // as the core reads one in JSON text.
      const projected = JSON.stringify(project(value, objectForm(order))).replace(/\\ud[89a-f][0-9a-f]{2}/g, '\ufffd');
      assert.equal(JSON.stringify(event), projected, String(JSON.stringify(value)));
      assert.deepEqual(read, data);
    }
  }
  const whole = slotWriter(undefined);
  const event = { name: 'page view', deep: { a: [1, { b: 2 }] } };
  const written = new Entries();
  whole(event, undefined, written);
  assert.deepEqual(readEntry(written, undefined).event, event);
  // An entry that cannot be written leaves nothing behind; entries written
  // one after another (past the buffer's first size) read back in turn.
  const many = new Entries();
  const events = [];
  for (let i = 0; i < 300; i++) {
    const one = { a: `é${'x'.repeat(i * 7)}`, b: i, c: { d: i % 2 === 0 } };
    events.push(one);
    write(one, undefined, many);
    const before = many.view().map((part) => part.length);
    assert.throws(() => write({ a: 1, b: 10n }, undefined, many), /the event could not be serialized: .*BigInt/);
    assert.throws(() => write({ a: 1 }, { big: 10n }, many), /the mapped data could not be serialized: .*BigInt/);
    assert.deepEqual(many.view().map((part) => part.length), before);
  }
  const { entries, numbers } = decode(many);
  assert.deepEqual(entries, events.map((one) => ['-ovnovaaaa', one.a, one.c.d]));
  assert.deepEqual(numbers, events.map((_, i) => i));
});

test('without code generation from strings, the writer walks the order itself and writes the same', () => {
  const { execFileSync } = require('node:child_process');
  // Each process writes a few events' entries and prints their bytes.
  const script = `
    const { slotWriter, Entries } = require(${JSON.stringify(require.resolve('../../pkg/dist/config.js'))});
    const write = slotWriter([[['name', 1], ['user', [[['email', 1], ['x"\\\\n', 1]], null]], ['data', [[['total', 1]], null]]], null]);
    const out = new Entries();
    for (const event of [
      { name: 'a b', user: { email: 'e@x.y', 'x"\\\\n': [1, 'é'] }, data: { total: 5.5 } },
      { name: 'c', user: 'not an object', data: [1, 2] },
      { user: null },
    ]) write(event, undefined, out);
    const [bytes, numbers] = out.view();
    process.stdout.write(JSON.stringify([Buffer.from(bytes).toString('base64'), [...numbers]]));
  `;
  const generated = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  const walked = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '-e', script], { encoding: 'utf8' });
  assert.ok(JSON.parse(generated)[0].length > 40, 'something is written');
  assert.equal(walked, generated);
});
