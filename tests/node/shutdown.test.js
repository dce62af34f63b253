'use strict';

// Shutting down at once, as a deploy or a SIGTERM does: the destination
// keeps delivering what is queued, with its usual retries and Retry-After,
// until HubSpot has taken all of it or settings.shutdownTimeout has passed.
// No test here waits for delivery before it shuts down.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startFlow } = require('@walkeros/collector');
const { startSandbox, destinationHubspot, TOKEN, waitFor } = require('./helpers.js');

/** A request the client sent before it had read an answer naming a
 * Retry-After (side by side in single mode, on a busy machine) reaches the
 * sandbox a few milliseconds after that answer was written; one that comes
 * this much later was sent after it: a retry. Ignoring Retry-After retries
 * after the backoff, most of it far later than this. */
const ON_ITS_WAY_MS = 50;

async function pushThenShutDown({ faults, batch, count, settings = {} }) {
  const sandbox = await startSandbox({ token: TOKEN });
  sandbox.setFaults(faults);
  const dropped = [];
  const { elb } = await startFlow({
    logger: { level: 0, handler: () => {} },
    destinations: {
      hubspot: {
        code: destinationHubspot,
        config: {
          settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, batch, batchSize: 100, timeout: 1000, ...settings },
          env: { onDrop: (event, reason) => dropped.push({ event, reason }) },
        },
      },
    },
  });
  for (let i = 0; i < count; i++) {
    await elb({ name: 'order complete', id: `e${i}`, user: { email: `user${i % 20}@example.com` }, data: { n: i } });
  }
  const started = Date.now();
  await elb('walker shutdown');
  const returned = Date.now() - started;
  // The collector waits 5 s at most for a destination's destroy; the drain
  // goes on while the process lives.
  await waitFor(() => !destinationHubspot.stats().draining, { timeout: 70000, what: 'the drain to end' });
  const took = Date.now() - started;
  await sandbox.close();
  return { sandbox, dropped, took, returned };
}

const faulty = [
  ['30% 503 and resets', 0.3, [{ kind: 'status', status: 503 }, { kind: 'reset' }]],
  ['25% 429 with Retry-After: 1', 0.25, [{ kind: 'status', status: 429, policy: 'TEN_SECONDLY_ROLLING', retryAfter: 1 }]],
  ['20% 502 and resets', 0.2, [{ kind: 'status', status: 502 }, { kind: 'reset' }]],
];

for (const batch of [false, true]) {
  const mode = batch ? 'batch' : 'single';
  const count = batch ? 3000 : 600;
  for (const [title, rate, kinds] of faulty) {
    test(`${mode} mode, ${title}: shut down at once, and every event arrives exactly once`, { timeout: 90000 }, async () => {
      const { sandbox, dropped, took } = await pushThenShutDown({
        faults: { random: { seed: 1701, rate, kinds } },
        batch,
        count,
        settings: { shutdownTimeout: 60000 },
      });
      const uuids = sandbox.events.map((e) => e.uuid);
      assert.equal(new Set(uuids).size, uuids.length, 'no event arrived twice');
      assert.equal(sandbox.events.length, count, `all ${count} events arrived (drain took ${took} ms)`);
      assert.deepEqual(dropped, [], 'onDrop got nothing');
      const early = sandbox.earlyRetries.filter((r) => r.after_answer_ms >= ON_ITS_WAY_MS);
      assert.deepEqual(early, [], 'no retry came before the Retry-After it was given');
    });
  }
}

for (const batch of [false, true]) {
  test(`${batch ? 'batch' : 'single'} mode, HubSpot down for good: shutdown ends within shutdownTimeout, every event to onDrop`, { timeout: 30000 }, async () => {
    const count = 200;
    const { sandbox, dropped, took, returned } = await pushThenShutDown({
      faults: { status: { status: 503, count: 1e9 } },
      batch,
      count,
      settings: { shutdownTimeout: 2000 },
    });
    assert.equal(sandbox.events.length, 0);
    assert.ok(returned <= 3000 && took <= 3000, `shutdown took ${took} ms, for a shutdownTimeout of 2000 ms`);
    assert.ok(sandbox.requests.length > 1, 'the drain tried again before giving up');
    assert.equal(dropped.length, count, 'every event went to onDrop');
    assert.equal(new Set(dropped.map((d) => d.event.uuid)).size, count);
    for (const d of dropped) assert.match(d.reason, /shut down before HubSpot accepted them \(settings.shutdownTimeout 2000 ms\)/);
  });
}

test('a Retry-After that ends past the deadline gives up at once instead of waiting past it', { timeout: 30000 }, async () => {
  const { sandbox, dropped, took } = await pushThenShutDown({
    faults: { status: { status: 429, policy: 'TEN_SECONDLY_ROLLING', retryAfter: 60, count: 1e9 } },
    batch: true,
    count: 50,
    settings: { shutdownTimeout: 5000 },
  });
  assert.equal(sandbox.events.length, 0);
  assert.ok(took < 2000, `gave up after ${took} ms instead of waiting for the deadline`);
  assert.equal(dropped.length, 50);
});

test('stats() shows the drain while it runs', { timeout: 30000 }, async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  sandbox.setFaults({ status: { status: 503, count: 3 } });
  const config = { settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, batch: true, shutdownTimeout: 20000 } };
  const logger = { error() {}, warn() {}, info() {}, debug() {} };
  destinationHubspot.init({ config, env: {}, logger });
  for (let i = 0; i < 10; i++) {
    await destinationHubspot.push({ name: 'page view', id: `s${i}`, user: { email: 'a@example.com' } }, { config, env: {}, logger, collector: {} });
  }
  const draining = destinationHubspot.destroy({ config, logger });
  const during = destinationHubspot.stats(config);
  assert.equal(during.draining, true);
  assert.equal(during.queued, 10);
  await draining;
  assert.equal(sandbox.events.length, 10);
  await sandbox.close();
});

for (const batch of [false, true]) {
  test(`${batch ? 'batch' : 'single'} mode: requests cut off at the shutdown's deadline are not reported as tried again later`, { timeout: 30000 }, async () => {
    const sandbox = await startSandbox({ token: TOKEN });
    sandbox.setFaults({ slow: { ms: 5000, count: 1e9 } });
    const logs = [];
    const logger = { error: (m) => logs.push(['error', m]), warn: (m) => logs.push(['warn', m]), info() {}, debug() {} };
    const config = { settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, batch, shutdownTimeout: 500, identify: { map: { email: 'user.email', properties: { map: { firstname: { value: 'Jane' } } } } } } };
    try {
      destinationHubspot.init({ config, env: {}, logger });
      for (let i = 0; i < 20; i++) {
        await destinationHubspot.push({ name: 'page view', id: `s${i}`, user: { email: `u${i}@example.com` } }, { config, env: {}, logger, collector: {} });
      }
      await destinationHubspot.destroy({ config, logger });
      assert.deepEqual(logs.filter(([, m]) => /next try in|wait for a retry/.test(m)), [], 'no retry is announced');
      assert.ok(logs.some(([level, m]) => level === 'error' && /20 queued events could not be delivered: the destination was shut down before HubSpot accepted them \(settings.shutdownTimeout 500 ms\)/.test(m)), JSON.stringify(logs));
    } finally {
      await sandbox.close();
    }
  });
}
