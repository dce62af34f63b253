'use strict';

// The repository's flow.json through the walkerOS CLI (@walkeros/cli), as a
// user runs it: `walkeros bundle` then the bundled flow, and `walkeros
// push`, against the sandbox, with the token and prefix from the
// environment. The bundle must carry the wasm (it is moved before it runs).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const { startSandbox } = require('../sandbox/hubspot.js');

const root = path.resolve(__dirname, '..', '..');
const walkeros = path.join(root, 'node_modules', '.bin', 'walkeros');
const run = promisify(execFile);

async function withSandbox(body) {
  const sandbox = await startSandbox({ token: 'flow-token' });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hubspot-cli-'));
  const env = {
    ...process.env,
    // A fresh temp dir each run: the CLI caches builds there.
    TMPDIR: tmp,
    DO_NOT_TRACK: '1',
    HUBSPOT_ACCESS_TOKEN: sandbox.token,
    HUBSPOT_EVENT_PREFIX: 'pe12345678_',
    HUBSPOT_API_BASE: sandbox.url,
  };
  try {
    await body({ sandbox, tmp, env });
  } finally {
    await sandbox.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

test('walkeros bundle: the bundled flow.json carries the wasm and delivers to HubSpot', { timeout: 120000 }, () =>
  withSandbox(async ({ sandbox, tmp, env }) => {
    const built = path.join(tmp, 'built');
    await run(walkeros, ['bundle', 'flow.json', '-o', built], { cwd: root, env });
    // The bundle is self-contained: it runs from wherever it is moved.
    const moved = path.join(tmp, 'moved');
    fs.cpSync(built, moved, { recursive: true });
    fs.rmSync(built, { recursive: true });
    const wasm = path.join(moved, 'node_modules', 'walkeros-destination-hubspot', 'dist', 'wasm', 'walkeros_destination_hubspot_bg.wasm');
    assert.ok(fs.existsSync(wasm), 'the wasm is in the bundle');

    const events = [
      { name: 'user login', id: 'e1', timestamp: 1700000000000, user: { email: 'jane@example.com' }, data: { firstname: 'Jane' } },
      { name: 'order complete', id: 'e2', timestamp: 1700000000000, user: { email: 'jane@example.com' }, data: { id: 'ord-1', total: 99.5 } },
      { name: 'page view', id: 'e3', timestamp: 1700000000000, user: { email: 'bob@example.com' } },
    ];
    const fixture = path.join(__dirname, 'fixtures', 'run-bundle.mjs');
    await run(process.execPath, [fixture, path.join(moved, 'flow.mjs'), JSON.stringify(events)], { cwd: tmp, env });

    assert.deepEqual(sandbox.upserts.map((u) => [u.id, u.properties]), [['jane@example.com', { firstname: 'Jane' }]]);
    assert.deepEqual(
      sandbox.events.map((e) => [e.eventName, e.email, e.properties]),
      [
        ['pe12345678_purchase_completed', 'jane@example.com', { hs_touchpoint_source: 'walkerOS', order_id: 'ord-1', revenue: '99.5' }],
        ['pe12345678_page_view', 'bob@example.com', { hs_touchpoint_source: 'walkerOS' }],
      ],
    );
  }));

test('walkeros validate: flow.json passes', { timeout: 60000 }, () =>
  withSandbox(async ({ env }) => {
    const { stdout } = await run(walkeros, ['validate', 'flow.json'], { cwd: root, env });
    assert.match(stdout, /All checks passed/);
    assert.match(stdout, /0 error\(s\), 0 warning\(s\)/);
  }));

test('walkeros push: one event through flow.json reaches HubSpot', { timeout: 120000 }, () =>
  withSandbox(async ({ sandbox, env }) => {
    const event = { name: 'order complete', id: 'p1', user: { email: 'ann@example.com' }, data: { id: 'ord-9', total: 5 } };
    const { stdout } = await run(walkeros, ['push', 'flow.json', '--event', JSON.stringify(event)], { cwd: root, env });
    assert.match(stdout, /success: true/);
    assert.deepEqual(
      sandbox.events.map((e) => [e.eventName, e.email, e.properties.order_id]),
      [['pe12345678_purchase_completed', 'ann@example.com', 'ord-9']],
    );
  }));

test('walkeros push: an OAuth app whose nested settings.oauth values come from "$env." references', { timeout: 120000 }, async () => {
  const oauth = { clientId: 'flow-client', clientSecret: 'flow-client-secret', refreshToken: 'flow-refresh-token' };
  const sandbox = await startSandbox({ oauth });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hubspot-cli-'));
  const flow = JSON.parse(fs.readFileSync(path.join(root, 'flow.json'), 'utf8'));
  const { config } = flow.flows.default;
  config.bundle.packages['walkeros-destination-hubspot'].path = path.join(root, 'pkg');
  const { settings } = flow.flows.default.destinations.hubspot.config;
  delete settings.accessToken;
  settings.oauth = { clientId: '$env.HUBSPOT_CLIENT_ID', clientSecret: '$env.HUBSPOT_CLIENT_SECRET', refreshToken: '$env.HUBSPOT_REFRESH_TOKEN' };
  const file = path.join(tmp, 'flow.json');
  fs.writeFileSync(file, JSON.stringify(flow));
  const env = {
    ...process.env,
    TMPDIR: tmp,
    DO_NOT_TRACK: '1',
    HUBSPOT_CLIENT_ID: oauth.clientId,
    HUBSPOT_CLIENT_SECRET: oauth.clientSecret,
    HUBSPOT_REFRESH_TOKEN: oauth.refreshToken,
    HUBSPOT_EVENT_PREFIX: 'pe12345678_',
    HUBSPOT_API_BASE: sandbox.url,
  };
  try {
    const event = { name: 'order complete', id: 'p1', user: { email: 'ann@example.com' }, data: { id: 'ord-9', total: 5 } };
    const { stdout, stderr } = await run(walkeros, ['push', file, '--event', JSON.stringify(event)], { cwd: tmp, env });
    assert.match(stdout, /success: true/);
    assert.deepEqual(
      sandbox.tokenRequests.map((r) => [r.clientId, r.refreshToken, r.status]),
      [[oauth.clientId, oauth.refreshToken, 200]],
      'one token request, with the values from the environment',
    );
    assert.deepEqual(sandbox.events.map((e) => [e.eventName, e.email]), [['pe12345678_purchase_completed', 'ann@example.com']]);
    for (const secret of [oauth.clientSecret, oauth.refreshToken]) assert.ok(!`${stdout}${stderr}`.includes(secret), 'no secret is printed');
  } finally {
    await sandbox.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
