'use strict';

// Issue 4's guarantees end to end: true upserts, per-contact dedup,
// idempotent events, timed and shutdown flushes, limits, and explain().

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { setup, TOKEN, PREFIX, destinationHubspot, startSandbox, waitFor } = require('./helpers.js');

const user = { email: 'ann@example.com', name: 'Ann' };
const identify = { map: { email: 'user.email', properties: { map: { firstname: 'user.name' } } } };

test('a contact that does not exist yet is created, and its event lands', async () => {
  const t = await setup({ settings: { identify } });
  await t.elb({ name: 'page view', user: { email: 'new@example.com', name: 'Nu' } });
  await t.shutdown();
  const contact = t.sandbox.contacts.get('new@example.com');
  assert.equal(contact.properties.firstname, 'Nu');
  assert.equal(t.sandbox.events.length, 1);
  assert.equal(t.sandbox.events[0].email, 'new@example.com');
});

test('single mode sends waiting events together (up to batchSize), a lone one alone, and loses none', async () => {
  const t = await setup({ settings: { batchSize: 10 } });
  await t.elb({ name: 'page view', id: 'lone', user });
  // The lone event has gone out before the burst.
  for (let i = 0; i < 50 && t.sandbox.events.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 300; i++) await t.elb({ name: 'page view', id: `burst${i}`, user });
  await t.shutdown();
  const sends = t.sandbox.requests.filter((r) => r.path.startsWith('/events/v3/send'));
  assert.equal(sends[0].path, '/events/v3/send');
  assert.equal(t.sandbox.events.length, 301);
  assert.equal(new Set(t.sandbox.events.map((e) => e.uuid)).size, 301);
  const batches = sends.filter((r) => r.path === '/events/v3/send/batch');
  assert.ok(batches.length > 0 && sends.length < 100, `${sends.length} requests for 301 events`);
  for (const r of batches) assert.ok(r.body.inputs.length <= 10, `a batch of ${r.body.inputs.length}`);
});

test('every event carries a uuid derived from its id; a replay creates no duplicate', async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  const events = Array.from({ length: 5 }, (_, i) => ({ name: 'page view', id: `evt${i}`, user }));
  for (let run = 0; run < 2; run++) {
    const t = await setup({ settings: { apiBase: sandbox.url, batch: true, batchSize: 2 } });
    await t.sandbox.close();
    for (const event of events) await t.elb(event);
    await t.elb('walker shutdown');
  }
  await sandbox.close();
  assert.equal(sandbox.events.length, 5, 'the replayed batch added nothing');
  assert.equal(sandbox.duplicates.length, 5);
  const uuids = sandbox.events.map((e) => e.uuid);
  assert.equal(new Set(uuids).size, 5);
  for (const uuid of uuids) assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(sandbox.duplicates.map((e) => e.uuid), uuids);
});

test('a batch retried after a failure carries the same uuids', async () => {
  let calls = 0;
  const bodies = [];
  const t = await setup({
    settings: { batch: true, batchSize: 2 },
    config: {
      env: {
        fetch: async (url, init) => {
          calls += 1;
          bodies.push(init.body);
          if (calls === 1) return new Response('{"message":"try later"}', { status: 503 });
          return fetch(url, init);
        },
      },
    },
  });
  await t.elb({ name: 'page view', id: 'a1', user });
  await t.elb({ name: 'page view', id: 'a2', user });
  assert.equal(t.sandbox.events.length, 0, 'the first try failed');
  await t.shutdown();
  assert.equal(t.sandbox.events.length, 2);
  assert.equal(bodies[0], bodies[1], 'the retry sent the very same batch');
  const warning = t.logged('warn').find((l) => /stay queued/.test(l.message));
  assert.ok(warning, 'the failed try was logged');
});

test('a Retry-After beyond a timer\'s range waits quietly instead of retrying every millisecond', async () => {
  const warnings = [];
  const onWarning = (warning) => warnings.push(warning.name);
  process.on('warning', onWarning);
  const t = await setup({ settings: { definitions: 'off' } });
  try {
    // 30 days: past the 24.8 days a Node timer can wait.
    t.sandbox.setFaults({ status: { status: 503, count: 1, retryAfter: 2592000 } });
    await t.elb({ name: 'page view', id: 'far', user });
    const cpu = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 500));
    const spent = process.cpuUsage(cpu);
    assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
    assert.ok((spent.user + spent.system) / 1000 < 100, `${(spent.user + spent.system) / 1000} ms of CPU in 500 ms of waiting`);
    assert.equal(t.sandbox.requests.filter((r) => r.path.startsWith('/events')).length, 1, 'not retried before Retry-After');
    assert.equal(destinationHubspot.stats().queued, 1);
  } finally {
    process.off('warning', onWarning);
    await t.shutdown();
  }
});

test('requests leave nothing behind: 50,000 of them do not grow the heap', { timeout: 60000 }, async () => {
  const requests = 50000;
  const output = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(__dirname, 'fixtures', 'request-memory.js')], {
      env: { ...process.env, REQUESTS: String(requests) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    const timeout = setTimeout(() => child.kill('SIGKILL'), 50000);
    child.stdout.on('data', (chunk) => (text += chunk));
    child.on('exit', (code) => {
      clearTimeout(timeout);
      if (code === 0) resolve(JSON.parse(text));
      else reject(new Error(`the fixture process ended with ${code}`));
    });
  });
  assert.equal(output.sent, requests + 5000);
  // A leak of one abort signal's link per request was 50 bytes each.
  assert.ok(output.grown < requests * 10, `the heap grew by ${output.grown} bytes over ${requests} requests`);
});

test('batch mode queues upserts and sends them before the events that need them', async () => {
  const t = await setup({ settings: { identify, batch: true, batchSize: 4 } });
  const users = ['a', 'b', 'a', 'b'].map((n) => ({ email: `${n}@example.com`, name: n }));
  for (const u of users) await t.elb({ name: 'page view', user: u });
  await t.shutdown();
  assert.deepEqual(
    t.sandbox.requests.map((r) => r.path),
    ['/crm/v3/objects/contacts/batch/upsert', '/events/v3/send/batch'],
  );
  assert.equal(t.sandbox.requests[0].body.inputs.length, 2, 'one input per contact');
  assert.equal(t.sandbox.events.length, 4);
});

test('a contact upsert tried again after a failure does not overwrite the newer values of a later one', { timeout: 20000 }, async () => {
  const { startFlow } = require('@walkeros/collector');
  const sandbox = await startSandbox({ token: TOKEN });
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  let crm = 0;
  // The first upsert is answered late, with a 500: a later event's upsert
  // for the same contact may go meanwhile.
  const fetchHeld = async (url, init) => {
    if (String(url).includes('/crm/') && crm++ === 0) {
      await gate;
      return new Response('{"status":"error","message":"internal error"}', { status: 500 });
    }
    return fetch(url, init);
  };
  const { elb } = await startFlow({
    logger: { level: 0, handler: () => {} },
    destinations: {
      hubspot: {
        code: destinationHubspot,
        config: { settings: { accessToken: TOKEN, eventNamePrefix: PREFIX, apiBase: sandbox.url, identify }, env: { fetch: fetchHeld } },
      },
    },
  });
  try {
    await elb({ name: 'page view', id: 'first', user: { email: 'ann@example.com', name: 'Old' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await elb({ name: 'page view', id: 'second', user: { email: 'ann@example.com', name: 'New' } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
  } finally {
    await elb('walker shutdown');
    await sandbox.close();
  }
  const [contact] = [...sandbox.contacts.values()];
  assert.equal(contact.properties.firstname, 'New');
  assert.equal(sandbox.events.length, 2);
});

test('a 207 names the contacts that failed; their events still go out', async () => {
  const t = await setup({ settings: { identify: { map: { email: 'data.email' } } } });
  await t.elb({ name: 'page view', user, data: { email: 'not-an-email' } });
  await t.shutdown();
  assert.equal(t.sandbox.requests[0].status, 207);
  assert.equal(t.sandbox.events.length, 1, 'the event was sent anyway');
  const error = t.logged('error').find((l) => /contact upsert failed/.test(l.message));
  assert.match(error.message, /not-an-email: Property values were not valid/);
});

test('a timer flushes without destroy and does not hold the process open', async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  const started = Date.now();
  const code = await runFixture({ MODE: 'timer', SANDBOX_URL: sandbox.url, TOKEN });
  await sandbox.close();
  assert.equal(code, 0);
  assert.ok(Date.now() - started < 8000, 'the process ended by itself');
  assert.equal(sandbox.events.length, 2);
  assert.equal(sandbox.requests.length, 1, 'one timed batch');
});

test('SIGTERM flushes what is queued before the process ends', async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  const code = await runFixture({ MODE: 'signal', SANDBOX_URL: sandbox.url, TOKEN }, (child) => child.kill('SIGTERM'));
  await sandbox.close();
  assert.equal(code, 'SIGTERM', 'it still ended by the signal');
  assert.equal(sandbox.events.length, 3);
});

test('SIGINT flushes what is queued before the process ends, as SIGTERM does', async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  const code = await runFixture({ MODE: 'signal', SANDBOX_URL: sandbox.url, TOKEN }, (child) => child.kill('SIGINT'));
  await sandbox.close();
  assert.equal(code, 'SIGINT', 'it still ended by the signal');
  assert.equal(sandbox.events.length, 3);
});

test('a process that ends on its own (beforeExit) sends what its batch held first', async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  const code = await runFixture({ MODE: 'exit', SANDBOX_URL: sandbox.url, TOKEN });
  await sandbox.close();
  assert.equal(code, 0);
  assert.equal(sandbox.events.length, 3);
});

function runFixture(env, onReady) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'batch-process.js')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const timeout = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the fixture process did not end'));
    }, 10000);
    child.stdout.on('data', (chunk) => {
      if (onReady && String(chunk).includes('ready')) onReady(child);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timeout);
      resolve(code === null ? signal : code);
    });
  });
}

test('HubSpot limits are enforced before sending, each with a warning naming the event', async () => {
  const many = Object.fromEntries(Array.from({ length: 55 }, (_, i) => [`p${i}`, { value: i }]));
  const t = await setup({
    settings: { defaultProperties: { source: 'walkerOS' } },
    config: {
      mapping: {
        order: { complete: { settings: { properties: { map: { 'Order ID': 'data.id', order_id: 'data.other', ...many } } } } },
      },
    },
  });
  await t.elb({ name: 'order complete', user, data: { id: '007', other: 'x' } });
  await t.elb({ name: `${'x'.repeat(60)} view`, user });
  await t.elb({ name: 'page view', user, timestamp: 'not a time' });
  await t.shutdown();

  assert.equal(t.sandbox.events.length, 3, 'all accepted by the sandbox, which enforces the same limits');
  const order = t.sandbox.events[0];
  assert.equal(Object.keys(order.properties).length, 50);
  assert.equal(order.properties.order_id, '007', 'the first of two names that normalise alike wins');
  assert.equal(order.properties.source, undefined, 'defaults are dropped before mapped properties');
  assert.equal(t.sandbox.events[1].eventName, `${PREFIX}${'x'.repeat(50)}`);
  const warnings = t.logged('warn').map((l) => `${l.context.event}: ${l.message}`);
  const expect = [
    /order complete: .*"Order ID" of event "order complete" sent as "order_id"/,
    /order complete: .*"order_id" dropped .*already taken/,
    /order complete: .*properties dropped from event "order complete"/,
    /xxxx view: .*sent as "x{50}"/,
    /page view: .*occurredAt left out/,
  ];
  for (const pattern of expect) assert.ok(warnings.some((w) => pattern.test(w)), `${pattern} in ${warnings.join('\n')}`);
});

test('explain() returns exactly the requests a real push makes, and sends nothing', async () => {
  const config = {
    settings: { accessToken: TOKEN, eventNamePrefix: PREFIX, identify, defaultProperties: { source: 'walkerOS' } },
    mapping: {
      order: { complete: { settings: { eventName: 'purchase', properties: { map: { revenue: 'data.total' } } } } },
      debug: { '*': { ignore: true } },
    },
  };
  const t = await setup({ settings: config.settings, config: { mapping: config.mapping } });
  const result = await t.elb({ name: 'order complete', user, data: { total: 42 } });
  await t.shutdown();

  const dry = destinationHubspot.explain(result.event, config);
  assert.deepEqual(
    // The sandbox keeps a query apart from the path.
    dry.requests.map((r) => ({ ...r, path: r.path.split('?')[0] })),
    // A GET has no body: the sandbox keeps it as ''.
    t.sandbox.requests.map(({ method, path: p, body }) => ({ method, path: p, body: method === 'GET' ? undefined : body })),
  );
  assert.deepEqual(dry.notes, []);
  assert.ok(!JSON.stringify(dry).includes(TOKEN));

  const ignored = destinationHubspot.explain({ name: 'debug noise', user }, config);
  assert.deepEqual(ignored.requests, []);
  assert.match(ignored.notes[0].message, /ignored by the mapping rule "debug \*"/);
  const anonymous = destinationHubspot.explain({ name: 'page view', user: {} }, config);
  assert.deepEqual(anonymous.requests, []);
  assert.match(anonymous.notes.map((n) => n.message).join('\n'), /no contact identity/);
});

test('explain() merges config.data and rule.data as the collector does: two arrays under one key become their union', async () => {
  const config = {
    data: { map: { tags: { value: ['a', 'b'] }, kept: { value: 'config' } } },
    mapping: { order: { complete: { data: { map: { tags: { value: ['b', 'c'] } } } } } },
  };
  const settings = { accessToken: TOKEN, eventNamePrefix: PREFIX, definitions: 'off' };
  const t = await setup({ settings, config });
  const result = await t.elb({ name: 'order complete', user, data: { total: 42 } });
  await t.shutdown();
  const dry = destinationHubspot.explain(result.event, { ...config, settings });
  assert.deepEqual(t.sandbox.events.map((e) => e.properties), [{ tags: 'a;b;c', kept: 'config' }]);
  assert.deepEqual(dry.requests.map((r) => r.body.properties), t.sandbox.events.map((e) => e.properties));
});

test('explain() calls rule conditions with the context the collector gives them, so it picks the same rule', async () => {
  const config = {
    mapping: {
      order: {
        complete: [
          { condition: (event, ctx) => Boolean(ctx && ctx.consent && ctx.consent.marketing), settings: { eventName: 'consented' } },
          { settings: { eventName: 'plain' } },
        ],
      },
    },
  };
  const settings = { accessToken: TOKEN, eventNamePrefix: PREFIX, definitions: 'off' };
  const t = await setup({ settings, config });
  const result = await t.elb({ name: 'order complete', user, consent: { marketing: true } });
  await t.shutdown();
  assert.deepEqual(t.sandbox.events.map((e) => e.eventName), [`${PREFIX}consented`]);
  const dry = destinationHubspot.explain(result.event, { ...config, settings });
  assert.deepEqual(dry.requests.map((r) => r.body.eventName), [`${PREFIX}consented`]);
});

test('explain() shows the batch endpoint where the collector batches (config.batch or a rule\'s batch), as a real push uses', async () => {
  const settings = { accessToken: TOKEN, eventNamePrefix: PREFIX, definitions: 'off' };
  for (const config of [{ batch: { size: 1, wait: 60000 } }, { mapping: { page: { view: { batch: { size: 1, wait: 60000 } } } } }]) {
    const t = await setup({ settings, config });
    const result = await t.elb({ name: 'page view', user });
    await t.shutdown();
    const dry = destinationHubspot.explain(result.event, { ...config, settings });
    assert.deepEqual(t.sandbox.requests.map((r) => r.path), ['/events/v3/send/batch']);
    assert.deepEqual(dry.requests.map((r) => r.path), ['/events/v3/send/batch'], JSON.stringify(config));
  }
});

test('identify properties that resolve to something other than an object are named, as a rule\'s properties are', () => {
  const settings = { accessToken: TOKEN, eventNamePrefix: PREFIX, definitions: 'off', identify: { map: { email: 'user.email', properties: 'user.name' } } };
  const { requests, notes } = destinationHubspot.explain({ name: 'user login', user: { ...user, name: 'Jane' } }, { settings });
  assert.deepEqual(requests[0].body.inputs[0].properties, {});
  assert.match(notes.map((n) => `${n.level}: ${n.message}`).join('\n'), /^warn: .*identify.*properties resolved to string instead of an object/m);
  // identify as the path to the email itself.
  const path = destinationHubspot.explain({ name: 'user login', user }, { settings: { ...settings, identify: 'user.email' } });
  assert.equal(path.requests.length, 1, 'the event only');
  assert.match(path.notes.map((n) => `${n.level}: ${n.message}`).join('\n'), /^warn: no contact upsert .*identify resolved to string instead of an object \{ email, properties \}/m);
});

test('explain() says why a silent rule sends no event', () => {
  const settings = { accessToken: TOKEN, eventNamePrefix: PREFIX, definitions: 'off' };
  const mapping = { user: { login: { silent: true } } };
  const { requests, notes } = destinationHubspot.explain({ name: 'user login', user }, { settings, mapping });
  assert.deepEqual(requests, []);
  assert.match(notes.map((n) => n.message).join('\n'), /no event sent for "user login": its mapping rule is silent/);
});

test('batch mode sends in the background and slows a push down only once HubSpot falls behind', async () => {
  // maxQueue 20: pushes wait from 10 events not yet accepted.
  const t = await setup({ settings: { batch: true, batchSize: 2, maxQueue: 20 } });
  t.sandbox.setFaults({ slow: { ms: 300, count: 100 } });
  const waited = [];
  for (let i = 0; i < 30; i++) {
    const started = Date.now();
    await t.elb({ name: 'page view', user, id: `slow${i}` });
    waited.push(Date.now() - started);
  }
  assert.ok(waited.slice(0, 6).every((ms) => ms < 200), `no wait below high water: ${waited}`);
  assert.ok(waited.some((ms) => ms >= 200), `a push waited once HubSpot fell behind: ${waited}`);
  const stats = destinationHubspot.stats();
  assert.ok(stats.queued <= 20, `the queue stayed within maxQueue: ${stats.queued}`);
  await t.shutdown();
  assert.equal(t.sandbox.events.length, 30, 'nothing dropped');
});

test('a batch push at high water waits for HubSpot to take a batch, not for the whole backlog, so the collector never times it out', { timeout: 30000 }, async () => {
  // High water at 30 events; HubSpot takes 5 at a time (2 requests side by
  // side), 400 ms each: the backlog drains in over a second, past the
  // collector's push timeout (config.timeout).
  const t = await setup({ settings: { batch: true, batchSize: 5, maxQueue: 60 }, config: { timeout: 1000 } });
  t.sandbox.setFaults({ slow: { ms: 400, count: 1000 } });
  const waited = [];
  const failed = [];
  for (let i = 0; i < 100; i++) {
    const started = Date.now();
    const result = await t.elb({ name: 'page view', user, id: `hw${i}` });
    waited.push(Date.now() - started);
    if (!result.ok) failed.push(i);
  }
  await t.shutdown();
  assert.ok(waited.some((ms) => ms >= 200), `a push waited once HubSpot fell behind: ${waited}`);
  assert.deepEqual(failed, [], `no push was reported failed (waits: ${waited})`);
  assert.deepEqual(t.logs.filter((l) => l.level === 'error').map((l) => l.message), []);
  assert.equal(t.sandbox.events.length, 100);
});

test('stats() counts events as queued, not the contact upserts on their way', async () => {
  let release;
  const held = new Promise((resolve) => (release = resolve));
  // The upsert request is held; the event waits for it (it may depend on the contact).
  const fetch = async (url) => {
    if (String(url).includes('/crm/')) await held;
    const body = String(url).includes('/crm/') ? '{"status":"COMPLETE","results":[{"id":"1","properties":{"email":"ann@example.com"}}]}' : '';
    return new Response(body, { status: String(url).includes('/crm/') ? 200 : 204 });
  };
  const config = { settings: { accessToken: TOKEN, eventNamePrefix: PREFIX, definitions: 'off', identify } };
  const logger = { error() {}, warn() {}, info() {}, debug() {} };
  destinationHubspot.init({ config, env: { fetch }, logger });
  try {
    await destinationHubspot.push({ name: 'page view', id: 'e1', user }, { config, rule: undefined, data: undefined, env: { fetch }, logger, collector: {} });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stats = destinationHubspot.stats(config);
    assert.equal(stats.queued, 1, JSON.stringify(stats));
  } finally {
    release();
    await destinationHubspot.destroy({ config, logger });
  }
});

for (const [mode, settings, most] of [['single', {}, 8], ['batch', { batch: true, flushInterval: 0 }, 2]]) {
  test(`${mode} mode sends up to ${most} requests side by side, never more, and loses none`, async () => {
    let open = 0;
    let widest = 0;
    let sent = 0;
    // A slow HubSpot, so that every request the destination would start is
    // under way at once.
    const fetch = async (url, init) => {
      open++;
      widest = Math.max(widest, open);
      await new Promise((resolve) => setTimeout(resolve, 100));
      open--;
      sent += url.endsWith('/batch') ? JSON.parse(init.body).inputs.length : 1;
      return { status: 204, headers: { get: () => null }, text: async () => '' };
    };
    const config = { settings: { accessToken: TOKEN, eventNamePrefix: PREFIX, definitions: 'off', batchSize: 1, ...settings }, env: { fetch } };
    const { startFlow } = require('@walkeros/collector');
    const { elb } = await startFlow({ destinations: { hubspot: { code: destinationHubspot, config } } });
    await Promise.all(Array.from({ length: 40 }, (_, i) => elb({ name: 'page view', id: `wide${i}`, user })));
    await elb('walker shutdown');
    assert.equal(widest, most, `${widest} requests at once`);
    assert.equal(sent, 40);
  });
}

test('a rule\'s properties win over the mapped data, which wins over defaultProperties (the rule table\'s order)', async () => {
  const t = await setup({
    settings: { defaultProperties: { a: 'default', b: 'default', c: 'default' } },
    config: {
      data: { map: { a: { value: 'data' }, b: { value: 'data' } } },
      mapping: { page: { view: { settings: { properties: { map: { a: { value: 'properties' } } } } } } },
    },
  });
  await t.elb({ name: 'page view', id: 'order1', user });
  await t.shutdown();
  assert.deepEqual(t.sandbox.events[0].properties, { a: 'properties', b: 'data', c: 'default' });
});

test('while a contact upsert is under way, the events it holds are not polled for in a busy loop, and go once it is taken', { timeout: 30000 }, async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  const { HubspotCore } = require('../../pkg/dist/wasm/walkeros_destination_hubspot.js');
  const flush = HubspotCore.prototype.flush;
  let flushes = 0;
  HubspotCore.prototype.flush = function (...args) {
    flushes += 1;
    return flush.apply(this, args);
  };
  // Each upsert takes a second.
  const fetch = async (url, init) => {
    if (String(url).includes('/crm/')) await new Promise((resolve) => setTimeout(resolve, 1000));
    return globalThis.fetch(url, init);
  };
  const config = { settings: { accessToken: TOKEN, eventNamePrefix: PREFIX, apiBase: sandbox.url, identify: { map: { email: 'user.email' } } } };
  const logger = { error() {}, warn() {}, info() {}, debug() {} };
  destinationHubspot.init({ config, env: { fetch }, logger });
  try {
    for (let i = 0; i < 20; i++) await destinationHubspot.push({ name: 'page view', id: `s${i}`, user: { email: `u${i}@example.com` } }, { config, rule: undefined, data: undefined, env: { fetch }, logger, collector: {} });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // A retry of 0 ms made thousands of calls a second here.
    assert.ok(flushes < 500, `${flushes} flushes in 1.5 s`);
    await waitFor(() => sandbox.events.length === 20, { timeout: 10000, what: 'the events, once their upserts were taken' });
  } finally {
    HubspotCore.prototype.flush = flush;
    await destinationHubspot.destroy({ config, logger });
    await sandbox.close();
  }
});
