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
