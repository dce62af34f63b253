'use strict';

// The fault suite: under each failure HubSpot can throw at us, every event
// the destination accepts reaches the sandbox exactly once (by uuid), except
// the ones a test marks bad, each of which is handed to onDrop.
//
// FAULT_EVENTS=n sets the events per run (default 10,000);
// FAULT_SEED=n the seed of the randomized run.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startFlow } = require('@walkeros/collector');
const { startSandbox, destinationHubspot, TOKEN } = require('./helpers.js');

const EVENTS = Number(process.env.FAULT_EVENTS || 10000);
const SEED = Number(process.env.FAULT_SEED || 424242);

/** A collector whose one destination is ours, in batch mode, on the sandbox. */
function hubspotFlow(sandbox, { settings = {}, mapping, env, logger = { level: 0, handler: () => {} } }) {
  return startFlow({
    logger,
    destinations: {
      hubspot: {
        code: destinationHubspot,
        config: {
          settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, batch: true, ...settings },
          mapping,
          env,
        },
      },
    },
  });
}

/** Delivery goes on in the background: waits until no event (and, with
 * `upserts`, no contact upsert) is pending. */
async function delivered(ms, { upserts = false } = {}) {
  const pending = () => {
    const stats = destinationHubspot.stats();
    return stats.queued + (upserts ? stats.queuedUpserts : 0);
  };
  const deadline = Date.now() + ms;
  while (pending() > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Pushes `count` events (every `poisonEvery`-th one marked bad) through a
 * real collector into the sandbox under `faults`, waits until nothing is
 * queued, and checks the outcome.
 */
async function run(title, faults, { count = EVENTS, poisonEvery = 0, settings = {}, users = 50 } = {}) {
  const sandbox = await startSandbox({ token: TOKEN });
  sandbox.setFaults(faults);
  const dropped = [];
  const logs = [];
  const { elb } = await hubspotFlow(sandbox, {
    logger: { level: 3, handler: (level, message, context) => logs.push({ level, message, context }) },
    settings: { batchSize: 500, flushInterval: 200, timeout: 300, maxQueue: count * 2, ...settings },
    mapping: { order: { complete: { settings: { properties: { map: { n: 'data.n', poison: 'data.poison' } } } } } },
    env: { onDrop: (event, reason) => dropped.push({ event, reason }) },
  });

  const poisoned = new Set();
  for (let i = 0; i < count; i++) {
    const poison = poisonEvery > 0 && i % poisonEvery === poisonEvery - 1;
    if (poison) poisoned.add(String(i));
    await elb({
      name: 'order complete',
      id: `${title.replace(/\W/g, '')}-${i}`,
      user: { email: `user${i % users}@example.com` },
      data: { n: i, ...(poison ? { poison: true } : {}) },
    });
  }
  await delivered(60000);
  const stats = destinationHubspot.stats();
  await elb('walker shutdown');
  await sandbox.close();

  const uuids = sandbox.events.map((e) => e.uuid);
  assert.equal(new Set(uuids).size, uuids.length, `${title}: no event arrived twice`);
  const arrived = new Set(sandbox.events.map((e) => e.properties.n));
  const missing = [];
  for (let i = 0; i < count; i++) {
    if (!poisoned.has(String(i)) && !arrived.has(String(i))) missing.push(i);
  }
  assert.deepEqual(missing.slice(0, 10), [], `${title}: ${missing.length} accepted events never arrived`);
  assert.equal(sandbox.events.length, count - poisoned.size, `${title}: exactly the good events arrived`);
  assert.deepEqual(
    dropped.map((d) => d.event.properties.n).sort(),
    [...poisoned].sort(),
    `${title}: exactly the bad events went to onDrop`,
  );
  for (const d of dropped) assert.match(d.reason, /poison is not allowed \[correlationId /);
  for (const line of logs) assert.ok(!JSON.stringify(line).includes(TOKEN), 'no log line holds the token');
  // A request sent before its client read the answer naming a Retry-After
  // arrives within milliseconds of it; a later one is a retry that came
  // too early.
  const early = sandbox.earlyRetries.filter((r) => r.after_answer_ms >= 50);
  assert.deepEqual(early, [], `${title}: no retry came before the Retry-After it was given`);
  return { sandbox, stats, logs };
}

const suite = [
  ['429 TEN_SECONDLY_ROLLING with Retry-After', { status: { status: 429, policy: 'TEN_SECONDLY_ROLLING', retryAfter: 1, count: 3 } }],
  ['429 TEN_SECONDLY_ROLLING without Retry-After', { status: { status: 429, policy: 'TEN_SECONDLY_ROLLING', count: 1 } }],
  ['429 SECONDLY with Retry-After', { status: { status: 429, policy: 'SECONDLY', retryAfter: 1, count: 2 } }],
  ['429 SECONDLY without Retry-After', { status: { status: 429, policy: 'SECONDLY', count: 3 } }],
  [
    '429 DAILY on contact upserts with Retry-After',
    { status: { status: 429, policy: 'DAILY', retryAfter: 3600, count: 1, only: '/crm/' } },
    { settings: { identify: { map: { email: 'user.email' } } } },
  ],
  [
    '429 DAILY on contact upserts without Retry-After',
    { status: { status: 429, policy: 'DAILY', count: 1, only: '/crm/' } },
    { settings: { identify: { map: { email: 'user.email' } } } },
  ],
  ['a burst of 500s', { status: { status: 500, count: 4 } }],
  ['a burst of 502s', { status: { status: 502, count: 3 } }],
  ['a burst of 503s', { status: { status: 503, count: 3 } }],
  ['connection resets', { reset: { count: 4 } }],
  ['responses slower than the timeout', { slow: { ms: 600, count: 3 } }],
  ['malformed JSON bodies', { malformed: { count: 3 } }],
  ['a 400 for any batch holding a marked event', { poison: true }, { poisonEvery: 997 }],
];

for (const [title, faults, options] of suite) {
  test(`fault: ${title}: every accepted event arrives exactly once`, { timeout: 90000 }, async () => {
    const { stats } = await run(title, faults, options);
    if (faults.status && faults.status.status === 429) {
      assert.ok(Object.values(stats.rateLimited).reduce((a, b) => a + b, 0) >= 1, '429s are counted by policy');
    }
  });
}

test(`fault: a randomized mix of every fault (FAULT_SEED=${SEED})`, { timeout: 120000 }, async () => {
  const kinds = [
    { kind: 'status', status: 429, policy: 'TEN_SECONDLY_ROLLING', retryAfter: 0 },
    { kind: 'status', status: 500 },
    { kind: 'status', status: 503 },
    { kind: 'reset' },
    { kind: 'slow', ms: 400 },
    { kind: 'malformed' },
  ];
  try {
    await run('random', { poison: true, random: { seed: SEED, rate: 0.15, kinds } }, { poisonEvery: 1499 });
  } catch (error) {
    error.message = `FAULT_SEED=${SEED}: ${error.message}`;
    throw error;
  }
});

test('the rate limiter keeps a 100-per-10-s sandbox free of 429s across 5,000 events that need upserts', { timeout: 90000 }, async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  // HubSpot's lowest tier: 100 CRM calls per 10 s, announced in its headers.
  sandbox.setFaults({ crmLimit: { max: 100, intervalMs: 10000 } });
  const { elb } = await hubspotFlow(sandbox, {
    settings: { batchSize: 50, identify: { map: { email: 'user.email', properties: { map: { n: 'data.n' } } } } },
  });
  const count = Number(process.env.FAULT_LIMIT_EVENTS || 5000);
  for (let i = 0; i < count; i++) {
    await elb({ name: 'page view', id: `rl-${i}`, user: { email: `c${i}@example.com` }, data: { n: i } });
  }
  await delivered(80000, { upserts: true });
  await elb('walker shutdown');
  await sandbox.close();
  assert.equal(sandbox.rateLimited.length, 0, 'no CRM call was answered 429');
  assert.equal(sandbox.contacts.size, count, 'every contact was upserted');
  assert.equal(sandbox.events.length, count);
});

test('a 429 on a definitions read is counted in stats().rateLimited, as one on a send is', { timeout: 30000 }, async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  sandbox.setFaults({ status: { status: 429, policy: 'TEN_SECONDLY_ROLLING', retryAfter: 0, count: 1, only: '/events/v3/event-definitions' } });
  const { elb } = await hubspotFlow(sandbox, { mapping: { order: { complete: {} } }, settings: { flushInterval: 50 } });
  await elb({ name: 'order complete', id: 'rl-def', user: { email: 'ann@example.com' } });
  await delivered(10000);
  const stats = destinationHubspot.stats();
  await elb('walker shutdown');
  await sandbox.close();
  assert.deepEqual(stats.rateLimited, { TEN_SECONDLY_ROLLING: 1 });
  assert.equal(sandbox.events.length, 1);
});

test('a batch HubSpot finds too large (413) is halved until it fits; no event is dropped', { timeout: 30000 }, async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  const dropped = [];
  const tooLarge = [];
  // As a gateway in front of HubSpot: bodies over 16 KB are refused whole.
  const fetchWithLimit = async (url, init) => {
    if (init.body && init.body.length > 16 * 1024) {
      tooLarge.push(init.body.length);
      return { status: 413, headers: { get: () => null }, text: async () => '{"status":"error","message":"Payload Too Large"}' };
    }
    return fetch(url, init);
  };
  const { elb } = await hubspotFlow(sandbox, {
    settings: { batchSize: 100, flushInterval: 0 },
    mapping: { page: { view: { settings: { properties: { map: { note: 'data.note' } } } } } },
    env: { fetch: fetchWithLimit, onDrop: (event, reason) => dropped.push(reason) },
  });
  for (let i = 0; i < 100; i++) await elb({ name: 'page view', id: `big-${i}`, user: { email: `u${i}@example.com` }, data: { note: 'x'.repeat(500) } });
  await elb('walker shutdown');
  await sandbox.close();
  assert.ok(tooLarge.length > 0, 'the limit was hit');
  assert.deepEqual(dropped, []);
  assert.equal(new Set(sandbox.events.map((e) => e.uuid)).size, 100);
});
