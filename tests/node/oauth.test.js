'use strict';

// OAuth apps through a real collector and the sandbox's token endpoint:
// access tokens fetched before the first request and renewed ahead of
// expiry, one renewal at a time, one renewal and one retry after a 401, a
// rotated refresh token used from then on and handed to env.onToken, and a
// refused refresh token (invalid_grant) said once, with no secret in any
// log line, error, stats() or explain() output.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startFlow } = require('@walkeros/collector');
const { startSandbox, destinationHubspot, waitFor } = require('./helpers.js');

const CLIENT_ID = 'client-id-1234';
const CLIENT_SECRET = 'client-secret-do-not-print-5678';
const REFRESH_TOKEN = 'rt-initial-do-not-print-9012';
const LEVELS = ['error', 'warn', 'info', 'debug'];

async function oauthSandbox(options = {}) {
  return startSandbox({
    token: null,
    oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN, ...options },
  });
}

function oauthConfig(sandbox, { settings = {}, env = {} } = {}) {
  return {
    settings: {
      oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN },
      eventNamePrefix: 'pe1_',
      apiBase: sandbox.url,
      timeout: 2000,
      ...settings,
    },
    env,
  };
}

async function oauthFlow(sandbox, options) {
  const logs = [];
  const config = oauthConfig(sandbox, options);
  const { elb } = await startFlow({
    logger: { level: 3, handler: (level, message, context) => logs.push({ level: LEVELS[level], message, context }) },
    destinations: { hubspot: { code: destinationHubspot, config } },
  });
  return { elb, logs, config };
}

let n = 0;
function event(extra = {}) {
  n += 1;
  return { name: 'order complete', id: `oauth-${n}`, user: { email: `user${n % 7}@example.com` }, data: { n }, ...extra };
}

async function delivered(sandbox, count, what = `${count} events`) {
  await waitFor(() => sandbox.events.length >= count && destinationHubspot.stats().queued === 0, { timeout: 15000, what });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function shutDown(elb, sandbox) {
  await elb('walker shutdown');
  await waitFor(() => !destinationHubspot.stats().draining, { timeout: 15000, what: 'the drain to end' });
  await sandbox.close();
}

test('a run over several token lifetimes: every event exactly once, renewals ahead of expiry, no 401', { timeout: 60000 }, async () => {
  const lifetimeSeconds = 2;
  const sandbox = await oauthSandbox({ lifetimeSeconds });
  const { elb } = await oauthFlow(sandbox);
  const ids = [];
  const started = Date.now();
  // About 3.5 lifetimes of steady traffic.
  while (Date.now() - started < lifetimeSeconds * 3500) {
    const e = event();
    ids.push(e.id);
    await elb(e);
    await sleep(40);
  }
  await delivered(sandbox, ids.length);
  const requests = sandbox.tokenRequests;
  await shutDown(elb, sandbox);

  assert.deepEqual(sandbox.events.map((e) => e.properties.n).length, ids.length);
  assert.equal(new Set(sandbox.events.map((e) => e.uuid)).size, ids.length, 'each event once');
  assert.equal(sandbox.duplicates.length, 0);
  assert.equal(sandbox.unauthorized, 0, 'no request went out with an expired token');
  assert.ok(requests.length >= 3, `renewed over the run (${requests.length} token requests)`);
  assert.ok(requests.every((r) => r.status === 200 && r.path === '/oauth/2026-03/token' && r.grantType === 'refresh_token' && !r.secretInQuery));
  for (let i = 1; i < requests.length; i++) {
    const gap = requests[i].at - requests[i - 1].at;
    assert.ok(gap < lifetimeSeconds * 1000, `renewal ${i} came ${gap} ms after the last one, before its token expired`);
  }
});

test('100 events needing a token the moment it expires cause exactly one renewal', { timeout: 30000 }, async () => {
  const sandbox = await oauthSandbox({ lifetimeSeconds: 1 });
  const { elb } = await oauthFlow(sandbox, { settings: { batchSize: 1 } });
  await elb(event());
  await delivered(sandbox, 1);
  assert.equal(sandbox.tokenRequests.length, 1, 'a token before the first request');
  // Past the first token's expiry, then 100 events at once.
  await sleep(Math.max(0, sandbox.tokenRequests[0].at + 1000 - Date.now()) + 20);
  await Promise.all(Array.from({ length: 100 }, () => elb(event())));
  await delivered(sandbox, 101);
  await shutDown(elb, sandbox);
  assert.equal(sandbox.tokenRequests.length, 2, 'one renewal for all of them');
  assert.equal(sandbox.unauthorized, 0);
  assert.equal(sandbox.events.length, 101);
});

test('a 401 leads to one renewal and one retry of that request', { timeout: 30000 }, async () => {
  const sandbox = await oauthSandbox();
  const { elb } = await oauthFlow(sandbox);
  await elb(event());
  await delivered(sandbox, 1);
  assert.equal(sandbox.tokenRequests.length, 1);
  // HubSpot ends the token early: the next request is refused with 401.
  sandbox.expireAccessTokens();
  const second = event();
  await elb(second);
  await delivered(sandbox, 2);
  const stats = destinationHubspot.stats();
  await shutDown(elb, sandbox);
  assert.equal(sandbox.unauthorized, 1);
  assert.equal(sandbox.tokenRequests.length, 2, 'one renewal');
  const sends = sandbox.requests.filter((r) => r.path === '/events/v3/send').map((r) => r.status);
  assert.deepEqual(sends, [204, 401, 204], 'the refused request, then its one retry');
  assert.equal(sandbox.events.length, 2);
  assert.equal(stats.dropped.unauthorized, undefined);
});

test('a rotated refresh token is used from then on and reported to env.onToken', { timeout: 30000 }, async () => {
  const sandbox = await oauthSandbox({ lifetimeSeconds: 1, rotate: true });
  const tokens = [];
  const { elb } = await oauthFlow(sandbox, { env: { onToken: (token) => tokens.push({ ...token, at: Date.now() }) } });
  for (let round = 1; round <= 3; round++) {
    await elb(event());
    await delivered(sandbox, round);
    await sleep(1000);
  }
  await shutDown(elb, sandbox);
  const requests = sandbox.tokenRequests;
  assert.equal(requests.length, 3);
  assert.ok(requests.every((r) => r.status === 200), 'no refresh token was used after it was rotated away');
  assert.equal(requests[0].refreshToken, REFRESH_TOKEN);
  assert.equal(tokens.length, 3, 'each rotation reported');
  assert.equal(requests[1].refreshToken, tokens[0].refreshToken);
  assert.equal(requests[2].refreshToken, tokens[1].refreshToken);
  assert.equal(tokens[2].refreshToken, sandbox.refreshToken);
  for (const token of tokens) {
    assert.ok(Math.abs(token.expiresAt - (token.at + 1000)) < 500, `expiresAt ${token.expiresAt} is the access token's expiry`);
  }
});

test('under steady traffic a rotated refresh token reaches env.onToken at once, not when the queue first empties', { timeout: 30000 }, async () => {
  const sandbox = await oauthSandbox({ rotate: true });
  // Each send takes a while and events keep coming: the queue never empties.
  sandbox.setFaults({ slow: { ms: 150, count: 100000, only: '/events' } });
  const tokens = [];
  const { elb, logs } = await oauthFlow(sandbox, { env: { onToken: (token) => tokens.push(Date.now()) } });
  const started = Date.now();
  let sent = 0;
  try {
    while (Date.now() - started < 2500) {
      await elb(event());
      sent += 1;
      await sleep(2);
    }
    const accepted = logs.filter((l) => /accepted by HubSpot/.test(l.message)).length;
    const renewed = sandbox.tokenRequests[0].at;
    assert.equal(tokens.length, 1, 'onToken was called while the traffic went on');
    assert.ok(tokens[0] - renewed < 1000, `onToken ${tokens[0] - renewed} ms after the renewal`);
    assert.ok(accepted > 0, 'what was sent is logged while sending goes on, not held back');
  } finally {
    await shutDown(elb, sandbox);
  }
  assert.equal(sandbox.events.length, sent);
});

test('an async env.onToken that rejects neither crashes the process nor stops delivery, and is logged without the token', { timeout: 30000 }, async () => {
  const sandbox = await oauthSandbox({ rotate: true });
  const unhandled = [];
  const onUnhandled = (reason) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    // As the docs' example does: a secret store's set() returns a promise.
    const { elb, logs } = await oauthFlow(sandbox, { env: { onToken: async () => Promise.reject(new Error('secret store down')) } });
    await elb(event());
    await delivered(sandbox, 1);
    await elb(event());
    await delivered(sandbox, 2);
    await sleep(50);
    await shutDown(elb, sandbox);
    assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection');
    const said = logs.filter((l) => l.level === 'error' && /env\.onToken/.test(l.message));
    assert.equal(said.length, 1, 'the failed store is logged as an error');
    assert.match(said[0].message, /oauth\.refreshToken/, 'saying what the next start needs');
    for (const l of logs) assert.ok(!JSON.stringify(l).includes(sandbox.refreshToken) && !JSON.stringify(l).includes(REFRESH_TOKEN), 'no refresh token logged');
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('invalid_grant: one actionable error, sending stops, events go to onDrop at shutdown, no secret anywhere', { timeout: 30000 }, async () => {
  const sandbox = await oauthSandbox({ rotate: true });
  // Records every token the token endpoint hands out, to look for them.
  const issued = [];
  const recording = async (url, init) => {
    const response = await globalThis.fetch(url, init);
    if (!String(url).includes('/oauth/')) return response;
    const text = await response.text();
    const body = JSON.parse(text);
    issued.push(body.access_token, body.refresh_token);
    return { status: response.status, headers: response.headers, text: async () => text };
  };
  const dropped = [];
  const { elb, logs, config } = await oauthFlow(sandbox, {
    env: { fetch: recording, onDrop: (e, reason) => dropped.push({ e, reason }) },
  });
  for (let i = 0; i < 3; i++) await elb(event());
  await delivered(sandbox, 3);
  assert.equal(issued.filter(Boolean).length, 2, 'an access token and a rotated refresh token');

  // The app is disconnected: its refresh token is revoked and its access
  // token ends.
  sandbox.revokeRefreshToken();
  sandbox.expireAccessTokens();
  for (let i = 0; i < 3; i++) await elb(event());
  const refused = () => logs.filter((l) => l.level === 'error' && /invalid_grant/.test(l.message));
  await waitFor(() => refused().length > 0, { timeout: 10000, what: 'the invalid_grant error' });
  for (let i = 0; i < 2; i++) await elb(event());
  await sleep(300);
  assert.equal(sandbox.tokenRequests.length, 2, 'no token request after the refusal');
  assert.equal(sandbox.events.length, 3, 'nothing sent after the refusal');
  assert.equal(destinationHubspot.stats().queued, 5, `the events wait in the queue: ${JSON.stringify(destinationHubspot.stats())} ${JSON.stringify(logs.map((l) => l.message))}`);
  const errors = refused();
  assert.equal(errors.length, 1, 'said once');
  assert.match(errors[0].message, /Reconnect the app/);
  assert.match(errors[0].message, /settings\.oauth\.refreshToken/);

  const stats = destinationHubspot.stats();
  const explained = destinationHubspot.explain(event(), config);
  const started = Date.now();
  await shutDown(elb, sandbox);
  assert.ok(Date.now() - started < 5000, 'the shutdown does not wait out shutdownTimeout for a refused token');
  assert.equal(dropped.length, 5, 'every queued event to onDrop');
  assert.ok(dropped.every((d) => /refused the OAuth refresh token/.test(d.reason)), dropped[0] && dropped[0].reason);

  const secrets = [CLIENT_SECRET, REFRESH_TOKEN, ...issued.filter(Boolean)];
  const written = [
    ...logs.map((l) => `${l.message} ${JSON.stringify(l.context)}`),
    ...dropped.map((d) => d.reason),
    JSON.stringify(stats),
    JSON.stringify(explained),
  ].join('\n');
  for (const secret of secrets) assert.ok(!written.includes(secret), `a secret (${secret.slice(0, 3)}…) was written out`);
  assert.ok(logs.length > 0 && written.includes('invalid_grant'), 'the grep ran over the logs');
});

test('requests waiting for a renewal that fails share its failure: the token endpoint is not asked again before its Retry-After', { timeout: 30000 }, async () => {
  const sandbox = await oauthSandbox();
  sandbox.setFaults({ status: { status: 429, count: 100, retryAfter: 5, only: '/oauth' } });
  // One event a request: several delivery loops need a token at once.
  const { elb } = await oauthFlow(sandbox, { settings: { batchSize: 1, shutdownTimeout: 200 } });
  for (let i = 0; i < 8; i++) await elb(event());
  await sleep(1500);
  const asked = sandbox.requests.filter((r) => r.path.startsWith('/oauth')).length;
  const early = sandbox.earlyRetries;
  await shutDown(elb, sandbox);
  assert.equal(asked, 1, 'one token request until Retry-After has passed');
  assert.deepEqual(early, []);
});

test('a token path the server does not serve is named in the error, not blamed on the refresh token', { timeout: 30000 }, async () => {
  const sandbox = await oauthSandbox();
  const { elb, logs } = await oauthFlow(sandbox, { settings: { oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN, tokenPath: '/oauth/v9/token' } } });
  await elb(event());
  await waitFor(() => logs.some((l) => l.level === 'error'), { what: 'the error' });
  await shutDown(elb, sandbox);
  const errors = logs.filter((l) => l.level === 'error' && /token/.test(l.message));
  assert.match(errors[0].message, /\/oauth\/v9\/token/);
  assert.match(errors[0].message, /settings\.oauth\.tokenPath/);
  assert.doesNotMatch(errors[0].message, /refused the OAuth app's refresh token/);
});

test('init names what is missing, or that both were given, without showing a secret', () => {
  const init = (settings) => () =>
    destinationHubspot.init({ config: { settings }, env: {}, logger: { error() {}, warn() {}, info() {}, debug() {} } });
  assert.throws(init({ eventNamePrefix: 'pe1_' }), /settings\.accessToken is missing \(and so is settings\.oauth\).*oauth to \{ clientId, clientSecret, refreshToken \}/);
  assert.throws(
    init({ eventNamePrefix: 'pe1_', accessToken: 'pat-x', oauth: { clientId: 'a', clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN } }),
    (error) => /settings has both accessToken and oauth/.test(error.message) && !error.message.includes(CLIENT_SECRET),
  );
  assert.throws(
    init({ eventNamePrefix: 'pe1_', oauth: { clientId: 'a', refreshToken: REFRESH_TOKEN } }),
    (error) => /settings\.oauth\.clientSecret is missing\. Fix: /.test(error.message) && !error.message.includes(REFRESH_TOKEN),
  );
});
