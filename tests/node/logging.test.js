'use strict';

// Everything the destination says goes through the collector's logger,
// scoped to it, at a level that fits; nothing is written to stdout or
// stderr directly.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');

test('logs go to the collector logger at the right levels, and nothing to stdout or stderr', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hubspot-log-')), 'logs.json');
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(__dirname, 'fixtures', 'logging.js'), file]);
  assert.equal(stdout, '');
  assert.equal(stderr, '');
  const ours = JSON.parse(fs.readFileSync(file, 'utf8')).filter((l) => l.message.startsWith('HubSpot:'));
  for (const line of ours) assert.ok(line.scope.includes('hubspot'), JSON.stringify(line));
  const at = (level, text) => ours.filter((l) => l.level === level && l.message.includes(text));
  assert.equal(at('debug', 'contact(s) upserted').length, 2, 'a successful upsert is a debug line');
  assert.ok(at('debug', 'accepted by HubSpot').length >= 1, 'a delivered request is a debug line');
  const skipped = at('warn', 'no contact identity');
  assert.equal(skipped.length, 1, 'an event without identity is a warning');
  assert.equal(skipped[0].context.event, 'page view');
  assert.equal(at('info', 'identify resolved no email').length, 1, 'an anonymous event is info');
  const rejected = at('error', 'rejected by HubSpot and dropped');
  assert.equal(rejected.length, 1, 'a rejected event is an error');
  assert.equal(rejected[0].context.event, 'pe1_bad_event', 'naming the event');
  assert.equal(ours.filter((l) => l.level === 'error').length, 1, 'nothing else is an error');
});

// README "Logging", line by line: what is an error, a warning, a debug line.
test('the README\'s log levels: rejected events (with correlationId), refused contacts, a bad token and thrown mapping functions are errors; skips and retries warnings', async () => {
  const { startFlow } = require('@walkeros/collector');
  const destinationHubspot = require('../../pkg');
  const LEVELS = ['error', 'warn', 'info', 'debug'];
  const answer = (status, body = {}) => ({ status, headers: { get: () => null }, text: async () => JSON.stringify(body) });
  const refused = (category) => ({ status: 'error', message: `refused (${category})`, correlationId: `corr-${category}`, category });
  async function run(fetch, events, mapping) {
    const logs = [];
    const config = {
      settings: { accessToken: 'pat-na1-log', eventNamePrefix: 'pe1_', definitions: 'off', shutdownTimeout: 2000, identify: { map: { email: 'user.email', properties: { map: { firstname: 'user.name' } } } } },
      env: { fetch, onDrop: () => {} },
      ...(mapping && { mapping }),
    };
    const { elb } = await startFlow({
      logger: { level: 3, handler: (level, message, context, scope) => logs.push({ level: LEVELS[level], message, context, scope }) },
      destinations: { hubspot: { code: destinationHubspot, config } },
    });
    for (const event of events) await elb(event);
    await elb('walker shutdown');
    return (level, text) => logs.filter((l) => l.level === level && l.scope.includes('hubspot') && l.message.includes(text));
  }
  const ann = { name: 'page view', id: 'e1', user: { email: 'ann@example.com', name: 'Ann' } };

  let at = await run(async (url) => (url.includes('/crm/') ? answer(400, refused('CONTACT')) : answer(400, refused('EVENT'))), [ann]);
  const rejected = at('error', 'rejected by HubSpot and dropped');
  assert.equal(rejected.length, 1);
  assert.match(rejected[0].message, /correlationId corr-EVENT/);
  assert.equal(rejected[0].context.event, 'pe1_page_view');
  assert.equal(at('error', 'contact upsert failed').length, 1, 'a refused contact is an error');

  at = await run(async () => answer(401, refused('INVALID_AUTHENTICATION')), [ann]);
  assert.equal(at('error', 'rejected the access token').length, 1, 'a bad token is an error');

  at = await run(async () => answer(204), [ann], { page: { view: { settings: { properties: { fn: () => { throw new Error('boom'); } } } } } });
  assert.equal(at('error', 'mapping fn failed').length, 1, 'a thrown mapping function is an error');

  let calls = 0;
  at = await run(async (url) => (url.includes('/events/') && calls++ === 0 ? answer(503) : answer(200, { results: [{ id: '1' }] })), [ann, { name: 'page view', id: 'e2', user: {} }]);
  const retried = at('warn', 'next try in');
  assert.equal(retried.length, 1, 'a retry is a warning');
  assert.match(retried[0].message, /^HubSpot: 1 event\(s\) not accepted yet stay queued; next try in \d+ ms: HubSpot answered 503/);
  assert.equal(at('warn', 'no contact identity').length, 1, 'a skipped event is a warning');
  assert.ok(at('debug', 'accepted by HubSpot').length >= 1, 'an accepted request is a debug line');
});
