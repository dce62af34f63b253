'use strict';

// `make demo`: a realistic session through a real @walkeros/collector with
// the destination configured from tests/demo/flow.json, delivered to the
// HubSpot sandbox on 127.0.0.1 (or to the real HubSpot API when
// HUBSPOT_ACCESS_TOKEN and HUBSPOT_EVENT_PREFIX are set), then a summary of
// what HubSpot received.

const fs = require('node:fs');
const path = require('node:path');
const { startFlow } = require('@walkeros/collector');
const destinationHubspot = require('../../pkg');
const { startSandbox } = require('../sandbox/hubspot.js');

const SANDBOX_PREFIX = 'pe12345678_';

/** Replaces every "$env.NAME" string in the flow with the variable's value. */
function fillEnv(value, env) {
  if (typeof value === 'string' && value.startsWith('$env.')) {
    const name = value.slice(5);
    if (env[name] === undefined) throw new Error(`flow.json needs the environment variable ${name}`);
    return env[name];
  }
  if (Array.isArray(value)) return value.map((v) => fillEnv(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillEnv(v, env)]));
  }
  return value;
}

const session = [
  { name: 'page view', data: { path: '/', title: 'Home' }, user: { session: 's1' } },
  { name: 'user login', data: { email: 'jane@example.com', firstname: 'Jane', lastname: 'Doe' } },
  { name: 'page view', data: { path: '/shop', title: 'Shop' }, user: { email: 'jane@example.com' } },
  { name: 'product view', data: { id: 'ers', name: 'Everyday Ruck Snack', price: 420 }, user: { email: 'jane@example.com' } },
  {
    name: 'order complete',
    data: { id: '0rd3r1d', total: 462, currency: 'EUR' },
    nested: [
      { entity: 'product', data: { name: 'Everyday Ruck Snack', price: 420 } },
      { entity: 'product', data: { name: 'Cool Cap', price: 42 } },
    ],
    user: { email: 'jane@example.com' },
  },
  { name: 'debug noise', data: { note: 'internal' }, user: { email: 'jane@example.com' } },
];

async function main() {
  const real = Boolean(process.env.HUBSPOT_ACCESS_TOKEN && process.env.HUBSPOT_EVENT_PREFIX);
  const sandbox = real ? undefined : await startSandbox();
  const env = real
    ? process.env
    : { HUBSPOT_ACCESS_TOKEN: sandbox.token, HUBSPOT_EVENT_PREFIX: SANDBOX_PREFIX };

  const flow = JSON.parse(fs.readFileSync(path.join(__dirname, 'flow.json'), 'utf8'));
  const { config } = fillEnv(flow.destinations.hubspot, env);
  // The sandbox starts without event definitions: the demo has them made.
  // Against a real account the default, "check", only reports what is
  // missing.
  if (sandbox) Object.assign(config.settings, { apiBase: sandbox.url, definitions: 'create' });

  // Every request and its status, whichever HubSpot answers.
  const sent = [];
  const recordingFetch = async (url, init) => {
    const response = await fetch(url, init);
    // A definition read (GET) has no body.
    const body = init.body === undefined ? undefined : JSON.parse(init.body);
    sent.push({ path: new URL(url).pathname, status: response.status, body });
    return response;
  };

  const skipped = [];
  const logger = {
    level: 1,
    handler: (level, message, context) => {
      if (level <= 1) skipped.push(`${context.event ? `${context.event}: ` : ''}${message.replace(/^HubSpot: /, '')}${context.error ? ` (${context.error.message || context.error})` : ''}`);
    },
  };

  console.log(
    real
      ? 'Sending to the REAL HubSpot API (https://api.hubapi.com) with HUBSPOT_ACCESS_TOKEN and HUBSPOT_EVENT_PREFIX.'
      : `Sending to the HubSpot sandbox at ${sandbox.url} (set HUBSPOT_ACCESS_TOKEN and HUBSPOT_EVENT_PREFIX to use the real HubSpot API).`,
  );

  const { elb } = await startFlow({
    logger,
    destinations: { hubspot: { code: destinationHubspot, config: { ...config, env: { fetch: recordingFetch } } } },
  });
  for (const event of session) {
    const result = await elb(event);
    if (result.done && result.done.hubspot && result.done.hubspot.data === false) {
      skipped.push(`${event.name}: matched an ignore rule in flow.json`);
    }
  }
  // The drain at shutdown: what was still queued, and stats() while it ran.
  const queued = destinationHubspot.stats().queued;
  const shutdownAt = Date.now();
  let drainingSeen = false;
  const probe = setInterval(() => (drainingSeen = drainingSeen || destinationHubspot.stats().draining === true), 1);
  await elb('walker shutdown');
  clearInterval(probe);
  console.log(`Shutdown: ${queued} not yet accepted at "walker shutdown"; the drain (stats().draining: ${drainingSeen}) ended in ${Date.now() - shutdownAt} ms.`);

  const events = sandbox ? sandbox.events : sent.filter((r) => r.path.startsWith('/events/v3/send') && r.status < 300).flatMap((r) => r.body.inputs || [r.body]);
  const upserts = sandbox ? sandbox.upserts : sent.filter((r) => r.path.endsWith('/batch/upsert') && r.status < 300).flatMap((r) => r.body.inputs);

  console.log(`\nPushed ${session.length} events through @walkeros/collector; ${sent.length} HTTP requests made.`);
  console.log(`\nEvents ${real ? 'accepted by HubSpot' : 'received'} (${events.length}):`);
  const byName = new Map();
  for (const e of events) byName.set(e.eventName, [...(byName.get(e.eventName) || []), e]);
  for (const [name, list] of byName) {
    console.log(`  ${name.padEnd(36)} ${list.length}`);
    for (const e of list) console.log(`      ${e.email || e.objectId}  ${JSON.stringify(e.properties)}`);
  }
  console.log(`\nContact upserts (${upserts.length}):`);
  for (const u of upserts) console.log(`  ${u.id}  ${JSON.stringify(u.properties)}`);
  console.log(`\nSkipped (${skipped.length}):`);
  for (const s of skipped) console.log(`  ${s}`);
  const failed = sent.filter((r) => r.status >= 300);
  if (failed.length) {
    console.log(`\nRequests HubSpot did not accept (${failed.length}):`);
    for (const r of failed) console.log(`  ${r.path} → ${r.status}`);
  }
  if (sandbox) await sandbox.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
