'use strict';

// The destination end to end: built package → real collector → sandbox.

const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, errorText, TOKEN, PREFIX, destinationHubspot, startSandbox } = require('./helpers.js');

const user = { email: 'ann@example.com', id: 'u1', name: 'Ann' };

test('default event: name, email, occurredAt and empty properties', async () => {
  const t = await setup();
  await t.elb({ name: 'product view', user, timestamp: 1700000100000 });
  await t.shutdown();
  const [{ uuid, ...event }] = t.sandbox.events;
  assert.match(uuid, /^[0-9a-f-]{36}$/);
  assert.deepEqual([event], [
    {
      eventName: `${PREFIX}product_view`,
      email: 'ann@example.com',
      occurredAt: '2023-11-14T22:15:00.000Z',
      properties: {},
      via: 'send',
    },
  ]);
  assert.deepEqual(t.sandbox.upserts, []);
});

test('defaultProperties go with every event, as strings', async () => {
  const t = await setup({
    settings: { defaultProperties: { hs_touchpoint_source: 'walkerOS', tier: 2, beta: true } },
  });
  await t.elb({ name: 'page view', user });
  await t.elb({ name: 'page view', user });
  await t.shutdown();
  assert.equal(t.sandbox.events.length, 2);
  for (const event of t.sandbox.events) {
    assert.deepEqual(event.properties, { hs_touchpoint_source: 'walkerOS', tier: '2', beta: 'true' });
  }
});

test('destination-level identify upserts the contact before the event, once while unchanged', async () => {
  const t = await setup({
    settings: {
      identify: { map: { email: 'user.email', properties: { map: { firstname: 'user.name' } } } },
    },
  });
  const bob = { email: 'bob@example.com', name: 'Bob' };
  await t.elb({ name: 'page view', user });
  await t.elb({ name: 'page view', user: bob });
  await t.elb({ name: 'page view', user });
  await t.elb({ name: 'page view', user: bob });
  await t.elb({ name: 'page view', user: { ...user, name: 'Annie' } });
  await t.shutdown();

  assert.equal(t.sandbox.events.length, 5);
  assert.deepEqual(
    t.sandbox.upserts.map((u) => [u.id, u.properties.firstname]),
    [
      ['ann@example.com', 'Ann'],
      ['bob@example.com', 'Bob'],
      ['ann@example.com', 'Annie'],
    ],
  );
  assert.equal(t.sandbox.contacts.get('ann@example.com').properties.firstname, 'Annie');
  // Each contact's upsert is made before its first event is sent.
  for (const email of ['ann@example.com', 'bob@example.com']) {
    const upsert = t.sandbox.requests.findIndex((r) => r.path.endsWith('/batch/upsert') && r.body.inputs.some((i) => i.id === email));
    const event = t.sandbox.requests.findIndex((r) =>
      r.path === '/events/v3/send' ? r.body.email === email : r.path === '/events/v3/send/batch' && r.body.inputs.some((i) => i.email === email),
    );
    assert.ok(upsert >= 0 && upsert < event, `${email}: upsert ${upsert}, event ${event}`);
  }
});

test('a mapped event name with properties mapped from data', async () => {
  const t = await setup({
    config: {
      mapping: {
        order: {
          complete: {
            settings: {
              eventName: 'purchase_completed',
              properties: {
                map: {
                  revenue: 'data.total',
                  currency: 'data.currency',
                  order_id: 'data.id',
                  phone: 'data.phone',
                  items: { loop: ['nested', 'data.name'] },
                  missing: 'data.nope',
                },
              },
            },
          },
        },
      },
    },
  });
  await t.elb({
    name: 'order complete',
    user,
    data: { total: 99.5, currency: 'EUR', id: '007', phone: '+4917012345' },
    nested: [
      { entity: 'product', data: { name: 'Cap' } },
      { entity: 'product', data: { name: 'Ruck' } },
    ],
  });
  await t.shutdown();
  assert.equal(t.sandbox.events.length, 1);
  assert.equal(t.sandbox.events[0].eventName, `${PREFIX}purchase_completed`);
  assert.deepEqual(t.sandbox.events[0].properties, {
    revenue: '99.5',
    currency: 'EUR',
    order_id: '007',
    phone: '+4917012345',
    items: 'Cap;Ruck',
  });
});

test('a user login with silent: true only upserts the contact', async () => {
  const t = await setup({
    config: {
      mapping: {
        user: {
          login: {
            silent: true,
            settings: {
              identify: {
                map: {
                  email: 'data.email',
                  properties: { map: { firstname: 'data.first_name', lifecyclestage: 'data.lifecycle' } },
                },
              },
            },
          },
        },
      },
    },
  });
  await t.elb({
    name: 'user login',
    user: {},
    data: { email: 'login@acme.com', first_name: 'Jane', lifecycle: 'lead' },
  });
  await t.shutdown();
  assert.deepEqual(t.sandbox.events, []);
  assert.deepEqual(t.sandbox.upserts, [
    {
      id: 'login@acme.com',
      idProperty: 'email',
      objectWriteTraceId: '0',
      properties: { firstname: 'Jane', lifecyclestage: 'lead' },
    },
  ]);
  assert.ok(t.sandbox.contacts.get('login@acme.com').id, 'the contact was created');
});

test('objectId association when no email resolves', async () => {
  const t = await setup({ settings: { objectId: 'user.id' } });
  await t.elb({ name: 'product view', user: { id: 'hs-contact-789' } });
  await t.shutdown();
  assert.equal(t.sandbox.events.length, 1);
  assert.equal(t.sandbox.events[0].objectId, 'hs-contact-789');
  assert.equal(t.sandbox.events[0].email, undefined);
});

test('an event with no identity is skipped with a warning naming it', async () => {
  const t = await setup();
  await t.elb({ name: 'product view', user: {} });
  await t.shutdown();
  assert.deepEqual(t.sandbox.events, []);
  assert.deepEqual(t.sandbox.requests, []);
  const warnings = t.logged('warn');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].message, /"product view" skipped: no contact identity/);
  assert.equal(warnings[0].context.event, 'product view');
});

test('a rule with ignore: true sends nothing', async () => {
  const t = await setup({ config: { mapping: { debug: { '*': { ignore: true } } } } });
  await t.elb({ name: 'debug noise', user });
  await t.elb({ name: 'page view', user });
  await t.shutdown();
  assert.deepEqual(
    t.sandbox.events.map((e) => e.eventName),
    [`${PREFIX}page_view`],
  );
});

test('batch mode sends full batches and flushes the rest on shutdown', async () => {
  const t = await setup({ settings: { batch: true, batchSize: 3 } });
  for (let i = 0; i < 7; i++) {
    await t.elb({ name: 'page view', user, data: { i }, id: `ev${i}` });
  }
  // Full batches go out in the background, without waiting for shutdown.
  const deadline = Date.now() + 5000;
  while (t.sandbox.events.length < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(t.sandbox.events.length, 6, 'two full batches went out before shutdown');
  assert.ok(t.sandbox.requests.every((r) => r.path === '/events/v3/send/batch'));
  await t.shutdown();
  assert.equal(t.sandbox.events.length, 7, 'shutdown flushed the last event');
  assert.deepEqual(
    t.sandbox.requests.map((r) => [r.path, r.status]),
    [
      ['/events/v3/send/batch', 204],
      ['/events/v3/send/batch', 204],
      ['/events/v3/send/batch', 204],
    ],
  );
  assert.ok(t.sandbox.events.every((e) => e.via === 'batch'));
});

test("the collector's own batching uses pushBatch and the batch endpoint", async () => {
  const t = await setup({ config: { batch: { size: 4, wait: 60000 } } });
  for (let i = 0; i < 4; i++) await t.elb({ name: 'page view', user });
  await t.shutdown();
  assert.equal(t.sandbox.events.length, 4);
  assert.deepEqual(
    t.sandbox.requests.map((r) => r.path),
    ['/events/v3/send/batch'],
  );
});

test('registration with elb("walker destination") works the same', async () => {
  const t = await setup({ register: 'elb' });
  await t.elb({ name: 'page view', user });
  await t.shutdown();
  assert.equal(t.sandbox.events.length, 1);
});

test('env.fetch replaces the global fetch', async () => {
  const calls = [];
  const t = await setup({
    config: {
      env: {
        fetch: async (url, init) => {
          // As fetch takes them: a string body, the timeout as a signal.
          calls.push([url, init.method, JSON.parse(init.body).eventName, init.signal instanceof AbortSignal, Object.keys(init).sort()]);
          return new Response(null, { status: 204 });
        },
      },
    },
  });
  await t.elb({ name: 'page view', user });
  await t.shutdown();
  assert.deepEqual(calls, [[`${t.sandbox.url}/events/v3/send`, 'POST', `${PREFIX}page_view`, true, ['body', 'headers', 'method', 'signal']]]);
  assert.deepEqual(t.sandbox.events, [], 'nothing reached the sandbox');
});

test('a rejected token is logged with a message that names the setting, not the token', async () => {
  const dropped = [];
  const t2 = await setup({
    settings: { accessToken: 'wrong-token' },
    config: { env: { onDrop: (event, reason) => dropped.push(reason) } },
  });
  const result = await t2.elb({ name: 'page view', user });
  await t2.shutdown();
  assert.equal(result.ok, true, 'accepted: delivery goes on in the background');
  const errors = t2.logged('error').map((l) => l.message).join('\n');
  assert.match(errors, /401.*settings\.accessToken/);
  assert.match(dropped[0], /401/);
  assert.ok(!errors.includes('wrong-token'));
  assert.deepEqual(t2.sandbox.events, []);
});

test('the token never appears in any log line', async () => {
  const t = await setup({
    settings: { batch: true, batchSize: 2, identify: { map: { email: 'user.email' } } },
  });
  await t.elb({ name: 'page view', user });
  await t.elb({ name: 'page view', user: {} });
  await t.shutdown();
  const lines = t.logs.map((l) => JSON.stringify([l.message, errorText(l), l.context]));
  assert.ok(lines.length > 0);
  for (const line of lines) assert.ok(!line.includes(TOKEN), `token leaked in ${line}`);
});

// Each bad setting fails init with a message naming the field and the fix.
const badSettings = [
  ['missing accessToken', { accessToken: undefined }, /settings\.accessToken is missing/],
  ['empty accessToken', { accessToken: '  ' }, /settings\.accessToken is missing/],
  ['accessToken of the wrong type', { accessToken: 42 }, /settings\.accessToken must be a string/],
  ['missing eventNamePrefix with definitions off', { eventNamePrefix: undefined, definitions: 'off' }, /settings\.eventNamePrefix is missing/],
  ['definitions not one of the modes', { definitions: 'always' }, /settings\.definitions must be one of "off", "check", "create"/],
  ['malformed eventNamePrefix', { eventNamePrefix: '12345678' }, /settings\.eventNamePrefix is "12345678".*pe12345678_/],
  ['batchSize 0', { batchSize: 0 }, /settings\.batchSize must be a whole number from 1 to 500/],
  ['batchSize 501', { batchSize: 501 }, /settings\.batchSize must be a whole number from 1 to 500, got 501/],
  ['batchSize as a string', { batchSize: '50' }, /settings\.batchSize must be a whole number/],
  ['batchSize not whole', { batchSize: 2.5 }, /settings\.batchSize must be a whole number/],
  ['batch not a boolean', { batch: 'yes' }, /settings\.batch must be true or false/],
  ['unknown setting', { batchsize: 10 }, /settings\.batchsize is not a known setting.*did you mean "batchSize"/],
  ['defaultProperties not an object', { defaultProperties: ['a'] }, /settings\.defaultProperties must be an object/],
  ['bad default property name', { defaultProperties: { 'Bad Name': 'x' } }, /settings\.defaultProperties\.Bad Name is not a valid HubSpot property name/],
  ['email mapping of the wrong type', { email: 42 }, /settings\.email is number/],
  ['identify with an unknown option', { identify: { maps: {} } }, /settings\.identify\.maps is not a mapping value option/],
  ['plain http to a remote host', { apiBase: 'http://api.example.com' }, /settings\.apiBase .*unencrypted/],
  ['apiBase not a URL', { apiBase: 'api.hubapi.com' }, /settings\.apiBase .*not an http\(s\) URL/],
  ['timeout as NaN (Number() of an unset variable)', { timeout: Number(undefined) }, /settings\.timeout must be a whole number from 1 to 600000, got number \(NaN\)/],
  ['flushInterval as a Date', { flushInterval: new Date(0) }, /settings\.flushInterval must be a whole number from 0 to 86400000, got non-plain value/],
];

for (const [title, settings, expected] of badSettings) {
  test(`init fails on ${title}`, async () => {
    const t = await setup({ settings });
    const result = await t.elb({ name: 'page view', user });
    await t.shutdown();
    assert.deepEqual(t.sandbox.requests, [], 'nothing was sent');
    const failure = t.logs.find((l) => l.level === 'error' && /init failed/.test(l.message));
    assert.ok(failure, `init failure logged (result ${JSON.stringify(result.ok)})`);
    const message = errorText(failure);
    assert.match(message, expected);
    assert.match(message, /Fix: /);
    assert.ok(!message.includes(TOKEN));
  });
}

test('init fails on a rule with an unknown setting, naming the rule', async () => {
  const t = await setup({ config: { mapping: { order: { complete: { settings: { event_name: 'x' } } } } } });
  await t.elb({ name: 'order complete', user });
  await t.shutdown();
  const failure = t.logs.find((l) => l.level === 'error' && /init failed/.test(l.message));
  assert.match(errorText(failure), /mapping\.order\.complete\.settings\.event_name is not a known setting.*"eventName"/);
});

test('init fails on a rule that is not an object (a string as if it named the event), naming the rule', async () => {
  for (const rule of ['purchase', 42, true]) {
    const t = await setup({ config: { mapping: { order: { complete: [{ settings: { eventName: 'first' } }, rule] } } } });
    await t.elb({ name: 'order complete', user });
    await t.shutdown();
    assert.deepEqual(t.sandbox.events, [], `nothing was sent with the rule ${JSON.stringify(rule)}`);
    const failure = t.logs.find((l) => l.level === 'error' && /init failed/.test(l.message));
    assert.ok(failure, `init failed with the rule ${JSON.stringify(rule)}`);
    assert.match(errorText(failure), /mapping\.order\.complete\[1\] must be a mapping rule object, got \w+.*Fix: /);
  }
});

test('init fails on a rule eventName over 50 characters, suggesting one HubSpot takes', async () => {
  for (const [eventName, suggested] of [['a'.repeat(51), 'a'.repeat(50)], ['2024 Purchase', 'p_2024_purchase']]) {
    const t = await setup({ config: { mapping: { order: { complete: { settings: { eventName } } } } } });
    await t.elb({ name: 'order complete', user });
    await t.shutdown();
    const failure = t.logs.find((l) => l.level === 'error' && /init failed/.test(l.message));
    assert.match(errorText(failure), new RegExp(`mapping\\.order\\.complete\\.settings\\.eventName is .*Fix: use a name such as "${suggested}"$`));
  }
});

test('two destinations given one settings object: each one\'s rules are checked at its init', async () => {
  const { startFlow } = require('@walkeros/collector');
  const sandbox = await startSandbox({ token: TOKEN });
  const logs = [];
  const settings = { accessToken: TOKEN, eventNamePrefix: PREFIX, apiBase: sandbox.url, definitions: 'off' };
  const { elb } = await startFlow({
    logger: { level: 3, handler: (level, message, context, scope) => logs.push({ level, message, context, scope }) },
    destinations: {
      a: { code: destinationHubspot, config: { settings, mapping: { order: { complete: { settings: { eventName: 'from_a' } } } } } },
      b: { code: destinationHubspot, config: { settings, mapping: { order: { complete: { settings: { eventName: 'Bad Name' } } } } } },
    },
  });
  await elb({ name: 'order complete', user });
  await elb('walker shutdown');
  await sandbox.close();
  assert.deepEqual(sandbox.events.map((e) => e.eventName), [`${PREFIX}from_a`]);
  const failure = logs.find((l) => l.level === 0 && /init failed/.test(l.message));
  assert.ok(failure, `b's init failed: ${JSON.stringify(logs.filter((l) => l.level === 0).map((l) => [l.message, errorText(l)]))}`);
  assert.match(errorText(failure), /mapping\.order\.complete\.settings\.eventName is "Bad Name"/);
});

test('init fails on a rule eventName carrying another account\'s prefix', async () => {
  const t = await setup({ config: { mapping: { order: { complete: { settings: { eventName: 'pe999_purchase' } } } } } });
  await t.elb({ name: 'order complete', user });
  await t.shutdown();
  assert.deepEqual(t.sandbox.events, []);
  const failure = t.logs.find((l) => l.level === 'error' && /init failed/.test(l.message));
  assert.ok(failure, 'init failed');
  assert.match(errorText(failure), new RegExp(`mapping\\.order\\.complete\\.settings\\.eventName is "pe999_purchase", .*pe999_.*${PREFIX}.*Fix: use a name such as "purchase"`));
});

test('init fails on a rule propertyTypes naming a type HubSpot does not have', async () => {
  const t = await setup({ config: { mapping: { order: { complete: { settings: { propertyTypes: { total: 'money' } } } } } } });
  await t.elb({ name: 'order complete', user });
  await t.shutdown();
  const failure = t.logs.find((l) => l.level === 'error' && /init failed/.test(l.message));
  assert.match(errorText(failure), /mapping\.order\.complete\.settings\.propertyTypes must be an object of property names to "string", "number", "datetime" or "enumeration".*Fix: /);
});

test('init fails on a rule eventName HubSpot would reject, with a suggestion', async () => {
  const t = await setup({ config: { mapping: { order: { complete: { settings: { eventName: 'Order Complete' } } } } } });
  await t.elb({ name: 'order complete', user });
  await t.shutdown();
  const failure = t.logs.find((l) => l.level === 'error' && /init failed/.test(l.message));
  assert.match(errorText(failure), /eventName is "Order Complete".*"order_complete"/);
});

test('the package exports the destination every way', async () => {
  assert.equal(destinationHubspot.type, 'hubspot');
  assert.equal(destinationHubspot.destinationHubspot, destinationHubspot);
  assert.equal(destinationHubspot.default, destinationHubspot);
  for (const fn of ['init', 'push', 'pushBatch', 'destroy']) assert.equal(typeof destinationHubspot[fn], 'function');
  assert.deepEqual(Object.keys(destinationHubspot).sort(), ['config', 'destroy', 'init', 'push', 'pushBatch', 'type']);
  const esm = await import('../../pkg/dist/index.mjs');
  assert.equal(esm.default, destinationHubspot);
  assert.equal(esm.destinationHubspot, destinationHubspot);
});

test('numbers reach HubSpot as String(n) writes them', async () => {
  // Seeded: prices and rates (few decimals, the fast path), results of
  // arithmetic, random bit patterns (any magnitude) and integers.
  let seed = 20261124;
  const random = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const view = new DataView(new ArrayBuffer(8));
  const kinds = [
    () => Math.round(random() * 10 ** (1 + Math.floor(random() * 14))) / 10 ** Math.floor(random() * 9),
    () => (random() * 1000) * (random() * 1000) / (1 + Math.floor(random() * 100)),
    () => {
      view.setUint32(0, Math.floor(random() * 2 ** 32));
      view.setUint32(4, Math.floor(random() * 2 ** 32));
      const n = view.getFloat64(0);
      return Number.isFinite(n) ? n : 0.5;
    },
    () => Math.floor(random() * 2 ** 53) * (random() < 0.5 ? -1 : 1),
    () => -Math.round(random() * 1e8) / 1e4,
  ];
  const numbers = Array.from({ length: 2000 }, (_, i) => kinds[i % kinds.length]());
  const t = await setup({
    settings: { batch: true, batchSize: 500 },
    config: { mapping: { n: { sample: { settings: { properties: { map: { a: 'data.a', b: 'data.b', c: 'data.c', d: 'data.d' } } } } } } },
  });
  for (let i = 0; i < numbers.length; i += 4) {
    const [a, b, c, d] = numbers.slice(i, i + 4);
    await t.elb({ name: 'n sample', user, data: { a, b, c, d } });
  }
  await t.shutdown();
  const sent = t.sandbox.events.flatMap((e) => ['a', 'b', 'c', 'd'].map((k) => e.properties[k]));
  assert.equal(sent.length, numbers.length);
  const wrong = numbers.map((n, i) => [String(n), sent[i]]).filter(([want, got]) => want !== got);
  assert.deepEqual(wrong.slice(0, 5), []);
});
