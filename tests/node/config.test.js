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

// Rebuilds the cut-down event from an entry, as src/slots.rs does (the Rust
// side has its own tests of the same format).
function readEntry(text, order, numbers = []) {
  const [shape, ...values] = JSON.parse(text);
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
  const { slotWriter, objectForm } = require('../../pkg/dist/config.js');
  const order = [[['a', 1], ['b', 1], ['c', [[['d', 1]], null]], ['__proto__', 1], ['l', [[], [[['x', 1]], null]]]], null];
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
    {},
    'a string event',
    null,
  ];
  for (const value of values) {
    for (const data of [undefined, { mapped: true }, 'text']) {
      const numbers = [];
      const { event, data: read } = readEntry(write(value, data, numbers), order, numbers);
      assert.equal(JSON.stringify(event), JSON.stringify(project(value, objectForm(order))), String(JSON.stringify(value)));
      assert.deepEqual(read, data);
    }
  }
  const whole = slotWriter(undefined);
  const event = { name: 'page view', deep: { a: [1, { b: 2 }] } };
  assert.deepEqual(readEntry(whole(event, undefined, []), undefined).event, event);
  // An entry that cannot be written leaves no numbers behind.
  const numbers = [7];
  assert.throws(() => write({ a: 1, b: 10n }, undefined, numbers), /the event could not be serialized: .*BigInt/);
  assert.throws(() => write({ a: 1 }, { big: 10n }, numbers), /the mapped data could not be serialized: .*BigInt/);
  assert.deepEqual(numbers, [7]);
});
