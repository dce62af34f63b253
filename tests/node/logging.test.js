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
