'use strict';

// The shell's event serialisation: an entry for the core holds exactly
// JSON.stringify of the event fields the core reads, and the mapped data.

const test = require('node:test');
const assert = require('node:assert/strict');
const { pick, entryJson } = require('../../pkg/dist/config.js');

test('an entry holds JSON.stringify of the fields the core reads, and the mapped data', () => {
  const event = { name: 'a b', data: { x: 'q"uote', d: new Date(0), t: { toJSON: (key) => `j:${key}` } }, user: { id: 1 }, nested: [{ big: 'x' }] };
  const entry = JSON.parse(entryJson(event, 3, ['name', 'data', 'absent'], { total: 5 }));
  assert.deepEqual(entry, {
    rule: 3,
    event: JSON.parse(JSON.stringify({ name: 'a b', data: event.data })),
    data: { total: 5 },
  });
  // No rule, no mapped data, every field.
  assert.deepEqual(JSON.parse(entryJson(event, undefined, undefined, undefined)), { event: JSON.parse(JSON.stringify(event)) });
  // Not a plain object: handed over as it is.
  assert.deepEqual(JSON.parse(entryJson([1, 2], undefined, ['name'], undefined)), { event: [1, 2] });
});

test('an own "__proto__" field is kept as data, not as the copy\'s prototype', () => {
  const event = JSON.parse('{"name":"a b","__proto__":{"polluted":true}}');
  const picked = pick(event, ['name', '__proto__']);
  assert.equal(Object.getPrototypeOf(picked), Object.prototype);
  assert.deepEqual(JSON.parse(entryJson(event, 0, ['name', '__proto__'])).event, JSON.parse('{"name":"a b","__proto__":{"polluted":true}}'));
  assert.equal({}.polluted, undefined);
});

test('a lone surrogate becomes U+FFFD; an escaped backslash before "ud83d" text stays as it is', () => {
  const entry = JSON.parse(entryJson({ name: 'a b', data: { cut: 'cut \ud83d', whole: '🙂', text: '\\ud83d', both: '\\\ud83d' } }, 0, ['name', 'data']));
  assert.deepEqual(entry.event.data, { cut: 'cut \ufffd', whole: '🙂', text: '\\ud83d', both: '\\\ufffd' });
});

test('what cannot be serialized is named: the event or the mapped data', () => {
  assert.throws(() => entryJson({ name: 'a b', big: 10n }, 0, undefined), /the event could not be serialized: .*BigInt/);
  assert.throws(() => entryJson({ name: 'a b' }, 0, undefined, { big: 10n }), /the mapped data could not be serialized: .*BigInt/);
  // A field the core does not read is not serialized at all.
  assert.doesNotThrow(() => entryJson({ name: 'a b', big: 10n }, 0, ['name']));
});
