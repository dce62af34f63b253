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

async function call(sandbox, method, path, { body, token = sandbox.token } = {}) {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const DEFINITIONS = '/events/v3/event-definitions';
const purchase = {
  name: 'purchase',
  label: 'Purchase',
  primaryObject: 'CONTACT',
  includeDefaultProperties: false,
  propertyDefinitions: [
    { name: 'price', label: 'Price', type: 'number' },
    { name: 'paid_at', label: 'Paid at', type: 'datetime' },
    { name: 'gift', label: 'Gift', type: 'enumeration', options: [
      { label: 'true', value: 'true', displayOrder: 1, hidden: false },
      { label: 'false', value: 'false', displayOrder: 2, hidden: false },
    ] },
    { name: 'note', label: 'Note', type: 'string' },
  ],
};

test('event definitions: created, read back with their properties, extended, listed; 409 on duplicates', async () => {
  const sandbox = await startSandbox({ token: 'tok', hubId: 777 });
  try {
    const created = await call(sandbox, 'POST', DEFINITIONS, { body: purchase });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), `${DEFINITIONS}/purchase`);
    assert.equal(created.body.fullyQualifiedName, 'pe777_purchase');
    assert.equal(created.body.name, 'purchase');
    assert.deepEqual(created.body.labels, { singular: 'Purchase' });
    assert.equal(created.body.objectTypeId, '0-1');
    for (const key of ['id', 'archived', 'associations', 'properties']) assert.ok(key in created.body, key);

    // By short name (the trailing slash and query Segment and PostHog use) and by full name.
    for (const path of [`${DEFINITIONS}/purchase`, `${DEFINITIONS}/purchase/?includeProperties=true`, `${DEFINITIONS}/pe777_purchase`]) {
      const got = await call(sandbox, 'GET', path);
      assert.equal(got.status, 200, path);
      assert.deepEqual(got.body.properties.map((p) => [p.name, p.type]), [['price', 'number'], ['paid_at', 'datetime'], ['gift', 'enumeration'], ['note', 'string']]);
      assert.deepEqual(got.body.properties[2].options.map((o) => o.value), ['true', 'false']);
    }

    const added = await call(sandbox, 'POST', `${DEFINITIONS}/purchase/property`, { body: { name: 'coupon', label: 'Coupon', type: 'string' } });
    assert.equal(added.status, 201);
    assert.equal(added.body.name, 'coupon');
    for (const key of ['label', 'type', 'fieldType', 'groupName', 'description', 'options']) assert.ok(key in added.body, key);
    assert.ok((await call(sandbox, 'GET', `${DEFINITIONS}/purchase`)).body.properties.some((p) => p.name === 'coupon'));

    const again = await call(sandbox, 'POST', DEFINITIONS, { body: purchase });
    assert.equal(again.status, 409);
    assert.match(again.body.message, /already exists/);
    assert.ok(again.body.correlationId && again.body.category);
    const propertyAgain = await call(sandbox, 'POST', `${DEFINITIONS}/purchase/property`, { body: { name: 'coupon', label: 'Coupon', type: 'string' } });
    assert.equal(propertyAgain.status, 409);
    assert.match(propertyAgain.body.message, /already exists/);

    const unknown = await call(sandbox, 'GET', `${DEFINITIONS}/nope`);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /does not exist/);
    assert.equal((await call(sandbox, 'POST', `${DEFINITIONS}/nope/property`, { body: { label: 'X', type: 'string' } })).status, 400);
    assert.equal((await call(sandbox, 'GET', `${DEFINITIONS}/%E0%A4%A`)).status, 400, 'bad percent-encoding is a 400, not a crash');
    assert.equal((await call(sandbox, 'POST', DEFINITIONS, { body: { label: 'Bad', name: 'Bad-Name', propertyDefinitions: [] } })).status, 400);
    assert.equal((await call(sandbox, 'POST', DEFINITIONS, { body: { label: 'No props' } })).status, 400);
    assert.equal((await call(sandbox, 'POST', `${DEFINITIONS}/purchase/property`, { body: { label: 'X', type: 'bool' } })).status, 400);

    assert.equal((await call(sandbox, 'POST', DEFINITIONS, { body: { label: 'Sign up', propertyDefinitions: [] } })).body.name, 'sign_up');
    const listed = await call(sandbox, 'GET', `${DEFINITIONS}?limit=1`);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.total, 2);
    assert.deepEqual(listed.body.results.map((d) => d.name), ['purchase']);
    assert.deepEqual(listed.body.results[0].properties, [], 'properties only with includeProperties=true');
    const rest = await call(sandbox, 'GET', `${DEFINITIONS}?limit=1&includeProperties=true&after=${listed.body.paging.next.after}`);
    assert.deepEqual(rest.body.results.map((d) => d.name), ['sign_up']);
    assert.equal(rest.body.paging, undefined);

    const counted = sandbox.definitionRequests;
    assert.equal(counted.filter((r) => r.method === 'GET').length, 8);
    assert.equal(counted.filter((r) => r.method === 'POST' && r.path === DEFINITIONS).length, 5);
    assert.deepEqual(Object.keys(counted[0]).sort(), ['at', 'method', 'path', 'query', 'status']);
    assert.equal(counted[1].query, '');
    assert.equal(counted[2].query, 'includeProperties=true');
  } finally {
    await sandbox.close();
  }
});

test('event definitions: pre-seeded, 404 for unknown when asked, 403 MISSING_SCOPES when forbidden', async () => {
  const seeded = await startSandbox({ token: 'tok', definitions: [purchase], missingDefinitionStatus: 404 });
  try {
    const got = await call(seeded, 'GET', `${DEFINITIONS}/purchase`);
    assert.equal(got.body.fullyQualifiedName, 'pe12345678_purchase', 'hubId defaults to the prefix the tests use');
    assert.equal(seeded.prefix, 'pe12345678_');
    assert.equal(seeded.definitionRequests.length, 1, 'seeding is not a request');
    const unknown = await call(seeded, 'GET', `${DEFINITIONS}/nope`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.message, /does not exist/);
  } finally {
    await seeded.close();
  }
  const forbidden = await startSandbox({ token: 'tok', forbidDefinitions: true });
  try {
    for (const [method, path, body] of [['GET', DEFINITIONS], ['GET', `${DEFINITIONS}/purchase`], ['POST', DEFINITIONS, purchase], ['POST', `${DEFINITIONS}/purchase/property`, { label: 'X', type: 'string' }]]) {
      const answer = await call(forbidden, method, path, { body });
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.body.category, 'MISSING_SCOPES');
      assert.deepEqual(answer.body.errors[0].context.requiredGranularScopes, ['behavioral_events.event_definitions.read_write']);
    }
    assert.equal(forbidden.definitionRequests.length, 4);
    assert.ok(forbidden.definitionRequests.every((r) => r.status === 403));
    assert.equal((await call(forbidden, 'GET', DEFINITIONS, { token: 'wrong' })).status, 401, 'authentication comes first');
    assert.equal((await post(forbidden, '/events/v3/send', event())).status, 204, 'sends are not affected');
  } finally {
    await forbidden.close();
  }
});

test('strictDefinitions: unknown definitions, unknown properties and values of the wrong type are rejected', async () => {
  const sandbox = await startSandbox({ token: 'tok', definitions: [purchase], strictDefinitions: true });
  const send = (properties, name = 'pe12345678_purchase') => post(sandbox, '/events/v3/send', event(name, { properties }));
  try {
    const good = [
      {},
      { price: 12.5, paid_at: '2026-05-01T10:00:00.000Z', gift: 'true', note: 'hi' },
      { price: '42', paid_at: 1767225600000, gift: false, note: 7 },
      { paid_at: '1767225600000' },
      { paid_at: '2026-05-01' },
    ];
    for (const properties of good) assert.equal((await send(properties)).status, 204, JSON.stringify(properties));

    const unknownEvent = await send({}, 'pe12345678_refund');
    assert.equal(unknownEvent.status, 400);
    assert.match(unknownEvent.body.message, /pe12345678_refund does not exist/);
    assert.equal((await send({}, 'pe999_purchase')).status, 400, 'another hub’s prefix');
    const unknownProperty = await send({ price: 1, colour: 'red' });
    assert.equal(unknownProperty.status, 400);
    assert.match(unknownProperty.body.message, /Property colour does not exist/);
    for (const properties of [{ price: '50 coins' }, { price: true }, { paid_at: 'yesterday' }, { paid_at: 1.5 }, { gift: 'maybe' }]) {
      const answer = await send(properties);
      assert.equal(answer.status, 400, JSON.stringify(properties));
      assert.match(answer.body.message, /is not a valid value for property/);
      assert.equal(answer.body.category, 'VALIDATION_ERROR');
      assert.ok(answer.body.correlationId);
    }

    const inputs = [event('pe12345678_purchase', { properties: { price: 1 } }), event('pe12345678_purchase', { properties: { price: 'x' } }), event('pe12345678_nope')];
    const batch = await post(sandbox, '/events/v3/send/batch', { inputs });
    assert.equal(batch.status, 400);
    assert.match(batch.body.message, /^inputs\[1\]: /, 'names the first bad input');
    assert.equal(sandbox.events.length, good.length, 'a rejected batch records nothing');
    assert.equal((await post(sandbox, '/events/v3/send/batch', { inputs: [inputs[0]] })).status, 204);

    // A property added later is accepted from then on.
    await call(sandbox, 'POST', `${DEFINITIONS}/purchase/property`, { body: { name: 'colour', label: 'Colour', type: 'string' } });
    assert.equal((await send({ colour: 'red' })).status, 204);
  } finally {
    await sandbox.close();
  }
  const lax = await startSandbox({ token: 'tok' });
  try {
    assert.equal((await post(lax, '/events/v3/send', event('pe1_anything', { properties: { x: 'y' } }))).status, 204, 'not strict by default');
  } finally {
    await lax.close();
  }
});

async function refresh(sandbox, fields, path = '/oauth/2026-03/token') {
  const response = await fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', ...fields }).toString(),
  });
  return { status: response.status, body: await response.json() };
}

const app = { clientId: 'client-1', clientSecret: 'secret-1', refreshToken: 'refresh-1' };
const credentials = { client_id: app.clientId, client_secret: app.clientSecret, refresh_token: app.refreshToken };

test('oauth: access tokens are issued, work, expire with a 401 EXPIRED_AUTHENTICATION; the static token still works', async () => {
  const sandbox = await startSandbox({ token: 'static', oauth: { ...app, lifetimeSeconds: 1 } });
  try {
    const issued = await refresh(sandbox, credentials);
    assert.equal(issued.status, 200);
    assert.equal(issued.body.token_type, 'bearer');
    assert.equal(issued.body.expires_in, 1);
    assert.equal(issued.body.refresh_token, app.refreshToken, 'no rotation by default');
    assert.ok(issued.body.access_token.length > 20 && issued.body.access_token.length <= 300);
    const second = await refresh(sandbox, credentials, '/oauth/v1/token');
    assert.equal(second.status, 200);
    assert.notEqual(second.body.access_token, issued.body.access_token);

    assert.equal((await post(sandbox, '/events/v3/send', event(), issued.body.access_token)).status, 204);
    assert.equal((await call(sandbox, 'GET', DEFINITIONS, { token: second.body.access_token })).status, 200);
    assert.equal((await post(sandbox, '/events/v3/send', event(), 'static')).status, 204);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    for (const path of ['/events/v3/send', '/crm/v3/objects/contacts/batch/upsert']) {
      const expired = await post(sandbox, path, event(), issued.body.access_token);
      assert.equal(expired.status, 401, path);
      assert.equal(expired.body.category, 'EXPIRED_AUTHENTICATION');
      assert.match(expired.body.message, /The OAuth token used to make this call expired \d+ second\(s\) ago\./);
    }
    const unknown = await post(sandbox, '/events/v3/send', event(), 'made-up');
    assert.equal(unknown.body.category, 'INVALID_AUTHENTICATION');
    assert.equal(sandbox.unauthorized, 3);
    assert.equal((await post(sandbox, '/events/v3/send', event(), 'static')).status, 204);

    assert.deepEqual(sandbox.tokenRequests.map((r) => [r.path, r.refreshToken, r.status]), [
      ['/oauth/2026-03/token', 'refresh-1', 200],
      ['/oauth/v1/token', 'refresh-1', 200],
    ]);
    assert.ok(sandbox.tokenRequests.every((r) => typeof r.at === 'number' && r.secretInQuery === false && r.clientId === 'client-1'));

    const fresh = await refresh(sandbox, credentials);
    sandbox.expireAccessTokens();
    assert.equal((await post(sandbox, '/events/v3/send', event(), fresh.body.access_token)).status, 401);
  } finally {
    await sandbox.close();
  }
});

test('oauth: rotation retires each refresh token; a wrong secret or a revoked token gets invalid_grant', async () => {
  const sandbox = await startSandbox({ token: null, oauth: { ...app, rotate: true } });
  try {
    assert.equal((await post(sandbox, '/events/v3/send', event(), 'sandbox-token')).status, 401, 'token: null turns the static token off');
    const first = await refresh(sandbox, credentials, '/oauth/v3/token');
    assert.equal(first.status, 200);
    assert.equal(first.body.expires_in, 1800);
    assert.notEqual(first.body.refresh_token, app.refreshToken);
    assert.equal(sandbox.refreshToken, first.body.refresh_token);

    const reused = await refresh(sandbox, credentials);
    assert.equal(reused.status, 400);
    assert.deepEqual(reused.body, {
      error: 'invalid_grant',
      error_description: 'refresh token is invalid, expired or revoked',
      status: 'BAD_REFRESH_TOKEN',
      message: 'refresh token is invalid, expired or revoked',
    });
    const second = await refresh(sandbox, { ...credentials, refresh_token: first.body.refresh_token });
    assert.equal(second.status, 200);
    assert.notEqual(second.body.refresh_token, first.body.refresh_token);

    const wrongSecret = await refresh(sandbox, { ...credentials, client_secret: 'nope', refresh_token: second.body.refresh_token });
    assert.equal(wrongSecret.status, 400);
    assert.equal(wrongSecret.body.error, 'invalid_grant');
    assert.equal((await refresh(sandbox, { ...credentials, client_id: 'other', refresh_token: second.body.refresh_token })).body.error, 'invalid_grant');

    sandbox.revokeRefreshToken();
    const revoked = await refresh(sandbox, { ...credentials, refresh_token: second.body.refresh_token });
    assert.equal(revoked.status, 400);
    assert.equal(revoked.body.status, 'BAD_REFRESH_TOKEN');
    assert.equal((await post(sandbox, '/events/v3/send', event(), second.body.access_token)).status, 204, 'issued access tokens outlive the revocation');

    const json = await fetch(`${sandbox.url}/oauth/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'refresh_token', ...credentials }) });
    assert.equal(json.status, 400, 'the body must be form-encoded');
    const inQuery = await fetch(`${sandbox.url}/oauth/v1/token?${new URLSearchParams(credentials)}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token' });
    assert.equal(inQuery.status, 400, 'secrets in the query are not read');
    assert.equal(sandbox.tokenRequests.at(-1).secretInQuery, true);
    assert.equal(sandbox.tokenRequests.length, 8);
  } finally {
    await sandbox.close();
  }
});

test('earlyRetries records requests that come before the Retry-After the sandbox gave', async () => {
  const sandbox = await startSandbox({ token: 'tok' });
  try {
    sandbox.setFaults({ status: { status: 429, count: 2, retryAfter: 1, only: '/events/v3/send/batch' } });
    const batch = { inputs: [event()] };
    assert.equal((await post(sandbox, '/events/v3/send/batch', batch)).status, 429);
    const upsert = { inputs: [{ id: 'a@b.c', idProperty: 'email', properties: {} }] };
    assert.equal((await post(sandbox, '/crm/v3/objects/contacts/batch/upsert', upsert)).status, 200, 'another endpoint is not held');
    assert.equal(sandbox.earlyRetries.length, 0);
    assert.equal((await post(sandbox, '/events/v3/send/batch', batch)).status, 429, 'at once: too early');
    assert.equal(sandbox.earlyRetries.length, 1);
    const [early] = sandbox.earlyRetries;
    assert.equal(early.path, '/events/v3/send/batch');
    assert.equal(early.limited_path, '/events/v3/send/batch');
    assert.ok(early.early_by_ms > 800 && early.early_by_ms <= 1000, String(early.early_by_ms));
    assert.ok(early.after_answer_ms >= 0);
    // The single send shares the batch's Retry-After.
    assert.equal((await post(sandbox, '/events/v3/send', event())).status, 204);
    assert.equal(sandbox.earlyRetries.length, 2);
    assert.equal(sandbox.earlyRetries[1].path, '/events/v3/send');
    assert.equal(sandbox.earlyRetries[1].limited_path, '/events/v3/send/batch');

    // The early request got a new Retry-After; waiting it out is honest.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await post(sandbox, '/events/v3/send/batch', batch)).status, 204);
    assert.equal((await post(sandbox, '/events/v3/send', event())).status, 204);
    assert.equal(sandbox.earlyRetries.length, 2);

    // The CRM window gives Retry-After when asked to, and is watched too.
    sandbox.setFaults({ crmLimit: { max: 1, intervalMs: 2000, retryAfter: true } });
    assert.equal((await post(sandbox, '/crm/v3/objects/contacts/batch/upsert', upsert)).status, 200);
    const limited = await fetch(`${sandbox.url}/crm/v3/objects/contacts/batch/upsert`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: JSON.stringify(upsert),
    });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '2');
    await post(sandbox, '/crm/v3/objects/contacts/batch/upsert', upsert);
    assert.equal(sandbox.earlyRetries.length, 3);
    assert.equal(sandbox.earlyRetries[2].path, '/crm/v3/objects/contacts/batch/upsert');
  } finally {
    await sandbox.close();
  }
});
