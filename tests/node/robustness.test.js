'use strict';

// Bad input and security: clear messages, no crash, no lost neighbours, no
// token anywhere, events are data.

const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, errorText, waitFor, TOKEN, PREFIX, destinationHubspot } = require('./helpers.js');

const user = { email: 'ann@example.com' };

test('bad events get a clear message and their neighbours still arrive', async () => {
  const t = await setup({
    config: { mapping: { order: { complete: { settings: { properties: { map: { note: 'data.note', deep: 'data.deep' } } } } } } },
  });
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  const bad = [
    { name: 'order complete', user, data: { note: 'x'.repeat(10 * 1024 * 1024) } },
    { name: 'order complete', user, data: { note: cyclic } },
    { name: 'order complete', user, data: { note: 10n } },
    { name: 'order complete', user, data: { note: NaN } },
    { name: 'order complete', user, data: { note: new Date(0) } },
    { name: 'order complete', user, data: { note: () => 1 } },
  ];
  const results = [];
  for (const event of bad) {
    results.push(await t.elb(event));
    await t.elb({ name: 'page view', user });
  }
  await t.shutdown();

  const views = t.sandbox.events.filter((e) => e.eventName === `${PREFIX}page_view`);
  assert.equal(views.length, bad.length, 'every neighbouring event arrived');
  const failures = t.logs.filter((l) => l.level === 'error').map(errorText).join('\n');
  assert.match(failures, /the event could not be serialized: .*circular/i);
  assert.match(failures, /the event could not be serialized: .*BigInt/i);
  const orders = t.sandbox.events.filter((e) => e.eventName === `${PREFIX}order_complete`);
  const notes = orders.map((e) => e.properties.note);
  assert.ok(notes.some((n) => n && n.length === 10 * 1024 * 1024), 'a 10 MB string is sent as it is');
  assert.ok(notes.includes('1970-01-01T00:00:00.000Z'), 'a Date becomes ISO 8601');
  assert.ok(!failures.includes(TOKEN));
});

test('10,000 levels of nesting fail with a clear message, not a crash', async () => {
  // The collector cannot clone such an event itself, so it goes to push.
  let deep = { end: true };
  for (let i = 0; i < 10000; i++) deep = { next: deep };
  const config = {
    settings: { accessToken: TOKEN, eventNamePrefix: PREFIX, apiBase: 'http://127.0.0.1:9' },
    mapping: { page: { view: { settings: { properties: { map: { deep: 'data.deep' } } } } } },
  };
  const logger = { error() {}, warn() {}, info() {}, debug() {} };
  await assert.rejects(
    destinationHubspot.push({ name: 'page view', user, data: { deep } }, { config, rule: config.mapping.page.view, logger, env: {} }),
    /HubSpot destination: the event could not be (read: nested too deeply|serialized: Maximum call stack)/,
  );
  await destinationHubspot.destroy({ config, logger });
});

test('events that are not objects or have no name are skipped with a message, not a crash', async () => {
  const logs = [];
  const logger = { error: (m, c) => logs.push(['error', m, c]), warn: (m, c) => logs.push(['warn', m, c]), info: () => {}, debug: () => {} };
  const config = { settings: { accessToken: TOKEN, eventNamePrefix: PREFIX, apiBase: 'http://127.0.0.1:9' } };
  for (const event of [42, 'x', null, [], {}, { name: '' }, { name: 5 }]) {
    await destinationHubspot.push(event, { config, logger, env: {} });
  }
  await destinationHubspot.destroy({ config, logger });
  assert.ok(logs.length >= 7, JSON.stringify(logs));
  for (const [, message] of logs) assert.match(message, /has no name/);
});

test('keys such as __proto__ and constructor are data, not code', async () => {
  const t = await setup({
    config: {
      mapping: {
        page: {
          view: {
            settings: {
              properties: { map: { proto: 'data.__proto__.polluted', ctor: 'data.constructor', kept: 'data.kept' } },
              identify: { map: { email: 'user.email', properties: { map: { __proto__: { value: 'x' } } } } },
            },
          },
        },
      },
    },
  });
  const data = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "kept": "ok"}');
  await t.elb({ name: 'page view', user, data });
  await t.shutdown();
  assert.equal({}.polluted, undefined, 'Object.prototype untouched');
  assert.equal(Object.prototype.polluted, undefined);
  const [event] = t.sandbox.events;
  assert.equal(event.properties.kept, 'ok');

  // Without the collector's clone in between, an own __proto__ key is read
  // as the data it is.
  const config = {
    settings: { accessToken: TOKEN, eventNamePrefix: PREFIX },
    mapping: { page: { view: { settings: { properties: { map: { proto: 'data.__proto__.polluted' } } } } } },
  };
  const dry = destinationHubspot.explain({ name: 'page view', user, data }, config);
  const sent = dry.requests.find((r) => r.path === '/events/v3/send');
  assert.equal(sent.body.properties.proto, 'yes');
  assert.equal({}.polluted, undefined);
});

test('the token never appears in stats(), explain(), thrown errors or logs', async () => {
  const t = await setup({ settings: { accessToken: TOKEN, identify: { map: { email: 'user.email' } } } });
  await t.elb({ name: 'page view', user });
  const stats = JSON.stringify(destinationHubspot.stats());
  await t.shutdown();
  const explained = JSON.stringify(
    destinationHubspot.explain({ name: 'page view', user }, { settings: { accessToken: TOKEN, eventNamePrefix: PREFIX } }),
  );
  let thrown = '';
  try {
    await destinationHubspot.push({ name: 'page view', user }, {
      config: { settings: { accessToken: TOKEN, eventNamePrefix: 'bad' } },
      env: {},
      logger: { error() {}, warn() {}, info() {}, debug() {} },
    });
  } catch (error) {
    thrown = `${error.message}\n${error.stack}`;
  }
  assert.match(thrown, /eventNamePrefix/);
  for (const text of [stats, explained, thrown, JSON.stringify(t.logs.map((l) => [l.message, errorText(l)]))]) {
    assert.ok(!text.includes(TOKEN), text.slice(0, 200));
  }
});

test('a 401 is logged once as an auth problem and the events go to onDrop', async () => {
  const dropped = [];
  const t = await setup({
    settings: { accessToken: 'pat-na1-wrong-token' },
    config: { env: { onDrop: (event, reason) => dropped.push([event.eventName, reason]) } },
  });
  for (let i = 0; i < 3; i++) await t.elb({ name: 'page view', user });
  await t.shutdown();
  const auth = t.logs.filter((l) => /rejected the access token \(401\)/.test(l.message));
  assert.equal(auth.length, 1);
  assert.equal(dropped.length, 3);
  assert.match(dropped[0][1], /401/);
  for (const l of t.logs) assert.ok(!JSON.stringify([l.message, errorText(l)]).includes('pat-na1-wrong-token'));
});

test('stats() counts what happened', async () => {
  const t = await setup({
    settings: { identify: { map: { email: 'user.email' } } },
    config: { mapping: { debug: { '*': { ignore: true } } } },
  });
  await t.elb({ name: 'page view', user });
  await t.elb({ name: 'page view', user });
  await t.elb({ name: 'page view', user: {} });
  // Single mode delivers in the background: wait for it.
  await waitFor(() => destinationHubspot.stats().queued === 0, { what: 'the queue to empty' });
  const stats = destinationHubspot.stats();
  await t.shutdown();
  assert.equal(stats.accepted, 2);
  assert.equal(stats.sent, 2);
  assert.equal(stats.contactsUpserted, 1);
  assert.equal(stats.deduplicated, 1);
  assert.deepEqual(stats.skipped, { no_identity: 1 });
  assert.equal(stats.queued, 0);
});

test('stats().skipped and stats().dropped count under the names the declarations list', async () => {
  const fs = require('node:fs');
  const path = require('node:path');
  const { startFlow } = require('@walkeros/collector');
  const declared = (field) => {
    const types = fs.readFileSync(path.join(__dirname, '../../pkg/dist/index.d.ts'), 'utf8');
    const doc = new RegExp(`/\\*\\*([^*]*)\\*/\\s*${field}: Record`).exec(types);
    assert.ok(doc, `index.d.ts documents Stats.${field}`);
    return [...doc[1].matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
  };
  // A slow HubSpot refusing everything, and room for one event: the rest overflow.
  const fetch = async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { status: 400, headers: { get: () => null }, text: async () => '{"message":"no","category":"VALIDATION_ERROR"}' };
  };
  const config = {
    settings: { accessToken: TOKEN, eventNamePrefix: PREFIX, definitions: 'off', maxQueue: 1 },
    mapping: { debug: { '*': { ignore: true } }, login: { '*': { silent: true } } },
    env: { fetch, onDrop: () => {} },
  };
  const { elb } = await startFlow({ destinations: { hubspot: { code: destinationHubspot, config } } });
  await elb({ name: 'debug x', user });
  await elb({ name: 'login now', user });
  await elb({ name: 'page view', user: {} });
  for (let i = 0; i < 6; i++) await elb({ name: 'page view', id: `d${i}`, user });
  await waitFor(() => destinationHubspot.stats(config).queued === 0, { what: 'the queue to empty' });
  const stats = destinationHubspot.stats(config);
  await elb('walker shutdown');
  // The collector itself passes over an ignored event; the destination never sees it.
  assert.deepEqual(Object.keys(stats.skipped).sort(), ['no_identity', 'silent']);
  assert.deepEqual(Object.keys(stats.dropped).sort(), ['queue_full', 'rejected']);
  for (const key of Object.keys(stats.skipped)) assert.ok(declared('skipped').includes(key), `stats().skipped.${key} is declared`);
  for (const key of Object.keys(stats.dropped)) assert.ok(declared('dropped').includes(key), `stats().dropped.${key} is declared`);
});

test('stats() has every counter before the first event (init is lazy) and after shutdown', async () => {
  const t = await setup();
  const before = destinationHubspot.stats();
  await t.elb({ name: 'page view', user });
  await waitFor(() => destinationHubspot.stats().queued === 0, { what: 'the queue to empty' });
  const keys = Object.keys(destinationHubspot.stats()).sort();
  await t.shutdown();
  const after = destinationHubspot.stats();
  for (const stats of [before, after]) {
    assert.deepEqual(Object.keys(stats).sort(), keys);
    assert.equal(stats.queued, 0);
    assert.equal(stats.draining, false);
    assert.deepEqual(stats.dropped, {});
  }
});

test('an async env.onDrop that rejects does not crash the process, and every drop still reaches it', async () => {
  const unhandled = [];
  const onUnhandled = (reason) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const dropped = [];
    const onDrop = async (event) => {
      dropped.push(event.eventName);
      throw new Error('the dead-letter store is down');
    };
    const t = await setup({ settings: { accessToken: 'pat-na1-wrong-token', definitions: 'off' }, config: { env: { onDrop } } });
    for (let i = 0; i < 3; i++) await t.elb({ name: 'page view', user });
    await t.shutdown();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(dropped.length, 3);
    assert.deepEqual(unhandled.map(String), []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('an async mapping function is logged as one, and its rejection does not crash the process', async () => {
  const unhandled = [];
  const onUnhandled = (reason) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const fn = async () => {
      throw new Error('async boom');
    };
    const t = await setup({ settings: { definitions: 'off' }, config: { mapping: { order: { complete: { settings: { properties: { map: { total: { key: 'data.total', fn } } } } } } } } });
    await t.elb({ name: 'order complete', user, data: { total: 5 } });
    await waitFor(() => t.sandbox.events.length === 1, { what: 'the event' });
    // Rejections are reported after the microtask queue drains.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await t.shutdown();
    assert.deepEqual(unhandled.map(String), []);
    assert.ok(t.logged('error').some((l) => /mapping fn failed/.test(l.message) && /returned a Promise/.test(errorText(l))));
    assert.deepEqual(t.sandbox.events[0].properties, { total: '5' });
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

/** A flow whose page view rule has a mapping function that, the first
 * time it runs, calls `reenter(context)` with the push context of the event
 * being planned: the same config, so the call reaches the very instance
 * that is planning. `run(elb, nested)` pushes; the HubSpot event names
 * delivered are returned. */
async function reentrantFlow(reenter, run) {
  const { startFlow } = require('@walkeros/collector');
  const { startSandbox } = require('../sandbox/hubspot.js');
  const sandbox = await startSandbox({ token: TOKEN });
  let context;
  let called = false;
  let nested;
  const code = {
    ...destinationHubspot,
    push(event, ctx) {
      context = ctx;
      return destinationHubspot.push(event, ctx);
    },
  };
  const fn = () => {
    if (!called) {
      called = true;
      nested = reenter({ ...context, rule: undefined, data: undefined });
    }
    return 'x';
  };
  const { elb } = await startFlow({
    destinations: {
      hubspot: {
        code,
        config: {
          settings: { accessToken: TOKEN, eventNamePrefix: PREFIX, apiBase: sandbox.url },
          mapping: { page: { view: { settings: { properties: { map: { x: { fn } } } } } } },
        },
      },
    },
  });
  try {
    await run(elb, () => nested);
  } finally {
    await elb('walker shutdown');
    await sandbox.close();
  }
  return sandbox.events.map((e) => e.eventName).sort();
}

test('a mapping function that pushes into the same destination synchronously does not break it', async () => {
  const names = await reentrantFlow(
    (context) => destinationHubspot.push({ name: 'nested push', user }, context),
    async (elb, nested) => {
      await elb({ name: 'page view', user });
      await nested();
      await elb({ name: 'page view', user });
    },
  );
  assert.deepEqual(names, [`${PREFIX}nested_push`, `${PREFIX}page_view`, `${PREFIX}page_view`]);
});

test('a mapping function that hands a batch to the same destination while its event is planned does not break it', async () => {
  const names = await reentrantFlow(
    (context) => destinationHubspot.pushBatch({ entries: [{ event: { name: 'nested push', id: 'n1', user } }] }, context),
    async (elb, nested) => {
      await elb({ name: 'page view', user });
      await nested();
    },
  );
  assert.deepEqual(names, [`${PREFIX}nested_push`, `${PREFIX}page_view`]);
});

test('batch mode: a cut emoji is sent as U+FFFD and an event too deep to read is dropped alone, with its name', async () => {
  const t = await setup({
    settings: { batch: true, batchSize: 10 },
    config: { mapping: { order: { complete: { settings: { properties: { map: { note: 'data.note' } } } } } } },
  });
  let deep = { end: true };
  for (let i = 0; i < 300; i++) deep = { next: deep };
  await t.elb({ name: 'page view', user });
  await t.elb({ name: 'order complete', user, data: { note: 'cut \ud83d' } });
  await t.elb({ name: 'order complete', user, data: { note: deep } });
  await t.elb({ name: 'page view', user });
  await t.shutdown();

  const names = t.sandbox.events.map((e) => e.eventName);
  assert.deepEqual(names, [`${PREFIX}page_view`, `${PREFIX}order_complete`, `${PREFIX}page_view`]);
  assert.equal(t.sandbox.events[1].properties.note, 'cut \ufffd');
  const errors = t.logged('error');
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.match(errors[0].message, /event "order complete" dropped: the event could not be read: nested too deeply/);
  assert.equal(errors[0].context.event, 'order complete');
});

test('batch mode: held events count as queued until they are planned and sent', async () => {
  const t = await setup({ settings: { batch: true, batchSize: 10 } });
  for (let i = 0; i < 3; i++) await t.elb({ name: 'page view', user });
  assert.equal(destinationHubspot.stats().queued, 3);
  await t.shutdown();
  assert.equal(t.sandbox.events.length, 3);
});
