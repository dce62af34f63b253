'use strict';

// The sandbox answers as HubSpot does, or the other tests prove nothing.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startSandbox } = require('../sandbox/hubspot.js');

const event = (name = 'pe1_page_view', extra = {}) => ({ eventName: name, email: 'a@b.c', properties: {}, ...extra });

async function post(sandbox, path, body, token = sandbox.token) {
  const response = await fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

test('the sandbox checks what HubSpot checks', async () => {
  const sandbox = await startSandbox({ token: 'tok' });
  try {
    assert.equal((await post(sandbox, '/events/v3/send', event())).status, 204);
    const unauthorized = await post(sandbox, '/events/v3/send', event(), 'nope');
    assert.equal(unauthorized.status, 401);
    assert.equal(unauthorized.body.category, 'INVALID_AUTHENTICATION');

    const malformed = await post(sandbox, '/events/v3/send', '{"eventName":');
    assert.equal(malformed.status, 400);
    for (const key of ['status', 'message', 'correlationId', 'category']) assert.ok(malformed.body[key], key);

    assert.equal((await post(sandbox, '/events/v3/send', event('pe1_Page View'))).status, 400);
    assert.equal((await post(sandbox, '/events/v3/send', event('page_view'))).status, 400);
    assert.equal((await post(sandbox, '/events/v3/send', event('pe1_x', { email: undefined }))).status, 400);
    assert.equal((await post(sandbox, '/events/v3/send', event('pe1_x', { occurredAt: 'yesterday' }))).status, 400);
    assert.equal((await post(sandbox, '/events/v3/send', event('pe1_x', { properties: { 'Bad Name': 'x' } }))).status, 400);

    const batch = (n) => ({ inputs: Array.from({ length: n }, () => event()) });
    assert.equal((await post(sandbox, '/events/v3/send/batch', batch(500))).status, 204);
    assert.equal((await post(sandbox, '/events/v3/send/batch', batch(501))).status, 400);
    const oneBad = batch(3);
    oneBad.inputs[1].eventName = 'pe1_Bad';
    assert.equal((await post(sandbox, '/events/v3/send/batch', oneBad)).status, 400);
    assert.equal(sandbox.events.length, 501, 'rejected requests record nothing');

    const contacts = (n) => ({
      inputs: Array.from({ length: n }, (_, i) => ({ id: `c${i}@x.y`, idProperty: 'email', properties: { firstname: 'C' } })),
    });
    const created = await post(sandbox, '/crm/v3/objects/contacts/batch/upsert', contacts(100));
    assert.equal(created.status, 200);
    assert.equal(created.body.results.length, 100);
    assert.ok(created.body.results.every((r) => r.new === true));
    const again = await post(sandbox, '/crm/v3/objects/contacts/batch/upsert', contacts(1));
    assert.equal(again.body.results[0].new, false);
    assert.equal((await post(sandbox, '/crm/v3/objects/contacts/batch/upsert', contacts(101))).status, 400);
    assert.equal(sandbox.contacts.size, 100);
  } finally {
    await sandbox.close();
  }
});
