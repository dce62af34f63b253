'use strict';

// getMappingValue's calling convention against @walkeros/core 4.2.1, side by
// side: the required collector, results that are the input's own objects,
// and inputs that throw when read.

const test = require('node:test');
const assert = require('node:assert/strict');
const core = require('@walkeros/core');
const { startFlow } = require('@walkeros/collector');
const ours = require('../../pkg/dist/mapping.js');

const impls = { core: core.getMappingValue, ours: ours.getMappingValue };

/** A collector whose logger records error calls. */
async function recording() {
  const { collector } = await startFlow({ logger: { level: 0, handler: () => {} } });
  const errors = [];
  collector.logger = { ...collector.logger, error: (message, context) => errors.push({ message, context }) };
  return { collector, errors };
}

/** What each implementation does with `(value, mapping, context)`. */
async function both(makeValue, mapping, makeContext = (collector) => ({ collector })) {
  const out = {};
  for (const [name, getMappingValue] of Object.entries(impls)) {
    const { collector, errors } = await recording();
    const value = makeValue();
    const failedBefore = collector.status.failed;
    let result;
    try {
      result = { value: await getMappingValue(value, mapping, makeContext(collector)) };
    } catch (error) {
      result = { rejected: error.message };
    }
    out[name] = {
      result,
      failed: collector.status.failed - failedBefore,
      logged: errors.map(({ message, context }) => ({
        message,
        keys: Object.keys(context),
        error: String(context.error),
        eventIsValue: context.event === value,
      })),
    };
  }
  return out;
}

test('without a collector getMappingValue rejects as core does', async () => {
  for (const makeContext of [() => undefined, () => ({}), () => ({ consent: { marketing: true } })]) {
    const { core: theirs, ours: mine } = await both(() => core.getEvent(), 'data', makeContext);
    assert.deepEqual(theirs.result, { rejected: 'getMappingValue: context.collector is required' });
    assert.deepEqual(mine, theirs);
  }
  // An undefined value resolves before the check.
  assert.equal(await ours.getMappingValue(undefined, 'a'), undefined);
  assert.equal(await core.getMappingValue(undefined, 'a'), undefined);
});

test('context.consent stands in for the value\'s, then collector.consent', async () => {
  const mapping = { key: 'a', consent: { marketing: true }, value: 'denied' };
  const cases = [
    [{ a: 'x' }, (collector) => ({ collector, consent: { marketing: true } })],
    [{ a: 'x' }, (collector) => ({ collector })],
    [{ a: 'x' }, (collector) => ((collector.consent = { marketing: true }), { collector })],
    [{ a: 'x', consent: { marketing: false } }, (collector) => ({ collector, consent: { marketing: true } })],
  ];
  for (const [value, makeContext] of cases) {
    const { core: theirs, ours: mine } = await both(() => structuredClone(value), mapping, makeContext);
    assert.deepEqual(mine, theirs, JSON.stringify(value));
  }
});

test('a result a path names is the input\'s own object', async () => {
  const { collector } = await recording();
  const event = core.getEvent('order complete');
  const cases = [
    ['data', (e) => e.data],
    [{ key: 'nested.0' }, (e) => e.nested[0]],
    ['context', (e) => e.context],
    ['nested', (e) => e.nested],
    [['nope', 'globals'], (e) => e.globals],
    [[['nope', 'user']], (e) => e.user],
    [{ key: 'data', validate: () => true }, (e) => e.data],
    [{ fn: () => 'ignored', key: 'data' }, (e) => e.data],
    [{ loop: ['data', 'x'] }, (e) => e], // not an array: the value itself
    ['', (e) => e],
    [{ condition: () => true }, (e) => e],
  ];
  for (const [mapping, expected] of cases) {
    const theirs = await core.getMappingValue(event, mapping, { collector });
    const mine = await ours.getMappingValue(event, mapping, { collector });
    assert.equal(theirs, expected(event), `core: ${JSON.stringify(mapping)}`);
    assert.equal(mine, expected(event), `ours: ${JSON.stringify(mapping)}`);
  }
});

test('a new value is not the input\'s', async () => {
  const { collector } = await recording();
  const input = { a: { b: 1 }, list: [{ b: 1 }], fallback: null };
  const defaultValue = { z: 1 };
  const cases = [
    { map: { b: 'a.b' } },
    { set: ['a'] },
    { loop: ['list', ''] },
    'list.*',
    { key: 'missing', value: defaultValue },
    { value: defaultValue },
    { key: 'a', validate: () => false, value: defaultValue },
    { key: 'a', consent: { marketing: true }, value: defaultValue },
  ];
  for (const mapping of cases) {
    const theirs = await core.getMappingValue(input, mapping, { collector });
    const mine = await ours.getMappingValue(input, mapping, { collector });
    assert.deepEqual(mine, theirs, JSON.stringify(mapping));
    for (const part of [input, input.a, input.list]) {
      assert.equal(mine === part, theirs === part, `identity: ${JSON.stringify(mapping)}`);
    }
  }
});

test('an input that throws when the mapping reads it is logged and counted, and resolves to undefined', async () => {
  const throwing = () => ({ a: 1, get b() { throw new Error('boom'); } });
  for (const [makeValue, mapping] of [
    [throwing, 'b'],
    [throwing, ''],
    [throwing, [['b', 'a']]],
    [() => ({ d: { get x() { throw new Error('deep'); } } }), 'd.x'],
  ]) {
    const { core: theirs, ours: mine } = await both(makeValue, mapping);
    assert.deepEqual(theirs.result, { value: undefined });
    assert.equal(theirs.failed, 1);
    assert.deepEqual(mine, theirs, JSON.stringify(mapping));
  }
  // The log's event is context.event when given.
  const event = { name: 'page view' };
  const { core: theirs, ours: mine } = await both(throwing, 'b', (collector) => ({ collector, event }));
  assert.deepEqual(mine, theirs);
});

test('an input that throws before the mapping runs rejects, as in core', async () => {
  const makers = [
    () => ({ a: 1, get consent() { throw new Error('consent'); } }),
    () => new Proxy({ a: 1 }, { get() { throw new Error('proxy'); } }),
  ];
  for (const makeValue of makers) {
    for (const makeContext of [(collector) => ({ collector }), () => ({})]) {
      const { core: theirs, ours: mine } = await both(makeValue, 'a', makeContext);
      assert.ok(theirs.result.rejected);
      assert.deepEqual(mine, theirs);
    }
  }
});

test('a mapping function gets the context\'s event as ctx.event, as in core', async () => {
  const seen = {};
  for (const [name, getMappingValue] of Object.entries(impls)) {
    const { collector } = await recording();
    const given = { name: 'page view', id: 'ctx-event' };
    const mapping = { fn: (value, ctx) => `${ctx.event.id}:${value.x}`, condition: (value, ctx) => ctx.event === given };
    seen[name] = [
      await getMappingValue({ x: 1 }, mapping, { collector, event: given }),
      // Without one, the value itself when it is an object.
      await getMappingValue({ x: 2, id: 'value' }, { fn: (value, ctx) => ctx.event.id }, { collector }),
    ];
  }
  assert.deepEqual(seen.ours, seen.core);
  assert.deepEqual(seen.ours, ['ctx-event:1', 'value']);
});
