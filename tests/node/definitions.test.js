'use strict';

// settings.definitions through a real collector and the sandbox, which
// serves HubSpot's event definitions API and, in strict mode, rejects an
// event whose definition or property does not exist or whose value does
// not fit the property's type, as HubSpot does.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startFlow } = require('@walkeros/collector');
const { startSandbox, destinationHubspot, TOKEN, waitFor } = require('./helpers.js');

const LEVELS = ['error', 'warn', 'info', 'debug'];
const user = { email: 'jane@example.com' };
const COUNT = Number(process.env.DEFINITIONS_COUNT || 10000);

/** A collector with the destination, logging into `logs`. */
async function flow(sandbox, { settings = {}, mapping, batch = false, fetch } = {}) {
  const logs = [];
  const dropped = [];
  const config = {
    settings: { accessToken: TOKEN, apiBase: sandbox.url, batch, ...settings },
    env: { onDrop: (event, reason) => dropped.push({ event, reason }), ...(fetch && { fetch }) },
  };
  if (mapping) config.mapping = mapping;
  const { elb } = await startFlow({
    logger: { level: 3, handler: (level, message, context, scope) => logs.push({ level: LEVELS[level], message, context, scope }) },
    destinations: { hubspot: { code: destinationHubspot, config } },
  });
  const logged = (level) => logs.filter((l) => l.level === level && l.scope.includes('hubspot')).map((l) => l.message);
  return { elb, config, logs, logged, dropped, stats: () => destinationHubspot.stats(config) };
}

/** The sandbox's definition as HubSpot's GET answers it. */
async function definition(sandbox, name) {
  const response = await fetch(`${sandbox.url}/events/v3/event-definitions/${name}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return response.status === 200 ? response.json() : undefined;
}

function typesOf(def) {
  return Object.fromEntries(def.properties.map((p) => [p.name, p.type]));
}

/** GETs of the definitions API by definition path: at most one each. */
function readsPerDefinition(sandbox) {
  const reads = {};
  for (const r of sandbox.definitionRequests.filter((r) => r.method === 'GET')) reads[r.path] = (reads[r.path] || 0) + 1;
  return reads;
}

const threeRules = {
  order: {
    complete: {
      settings: {
        eventName: 'purchase',
        properties: { map: { order_id: 'data.id', revenue: 'data.total', paid: 'data.paid', paid_at: 'data.paidAt' } },
        propertyTypes: { order_id: 'string', paid_at: 'datetime' },
      },
    },
  },
  product: { view: { settings: { properties: { map: { sku: 'data.sku', price: 'data.price' } } } } },
  page: { view: { settings: { properties: { map: { path: 'data.path' } } } } },
};

function threeEvents(i) {
  return [
    { name: 'order complete', id: `o${i}`, user, data: { id: 1000 + i, total: 99.5 + i, paid: i % 2 === 0, paidAt: '2026-11-30T10:00:00.000Z' } },
    { name: 'product view', id: `p${i}`, user, data: { sku: `sku-${i}`, price: 10 + i } },
    { name: 'page view', id: `v${i}`, user, data: { path: `/p/${i}` } },
  ];
}

test('"create": three rules and no definitions in HubSpot: every event arrives, definitions and properties created once with stated or inferred types', async () => {
  const sandbox = await startSandbox({ token: TOKEN, strictDefinitions: true });
  const t = await flow(sandbox, { settings: { definitions: 'create', defaultProperties: { source: 'walkerOS' } }, mapping: threeRules });
  for (let i = 0; i < 3; i++) for (const event of threeEvents(i)) await t.elb(event);
  await waitFor(() => sandbox.events.length === 9, { what: 'the 9 events', timeout: 10000 });
  const stats = t.stats();
  await t.elb('walker shutdown');

  assert.deepEqual(t.dropped, []);
  assert.deepEqual(t.logged('error'), []);
  // Taken before this test reads the definitions itself.
  const calls = sandbox.definitionRequests.map((r) => `${r.method} ${r.path} ${r.status}`);
  const purchase = await definition(sandbox, 'purchase');
  assert.deepEqual(typesOf(purchase), { source: 'string', order_id: 'string', paid_at: 'datetime', revenue: 'number', paid: 'enumeration' });
  assert.deepEqual(purchase.properties.find((p) => p.name === 'paid').options.map((o) => o.value), ['true', 'false']);
  assert.equal(purchase.primaryObject, 'CONTACT');
  assert.deepEqual(typesOf(await definition(sandbox, 'product_view')), { source: 'string', sku: 'string', price: 'number' });
  assert.deepEqual(typesOf(await definition(sandbox, 'page_view')), { source: 'string', path: 'string' });

  const creates = calls.filter((c) => c.startsWith('POST /events/v3/event-definitions 201'));
  assert.equal(creates.length, 3, calls.join('\n'));
  // Each property is created once: in the create body when its type is
  // known at init, else when its first value is seen.
  assert.equal(calls.filter((c) => /\/property 201$/.test(c)).length, 5, calls.join('\n'));
  assert.equal(calls.length, 8, calls.join('\n'));
  assert.ok(!calls.some((c) => c.startsWith('GET')), calls.join('\n'));

  const sent = sandbox.events.find((e) => e.eventName === 'pe12345678_purchase');
  assert.equal(sent.properties.paid, 'true');
  assert.equal(sent.properties.revenue, '99.5');
  assert.equal(stats.definitionsCreated, 3);
  assert.equal(stats.propertiesCreated, 5 + 5);
  assert.equal(stats.valuesLeftOut, 0);
  await sandbox.close();
});

test('"create": an event name first seen at run time is created (with its properties) before its first send, and the prefix comes from HubSpot', async () => {
  const sandbox = await startSandbox({ token: TOKEN, strictDefinitions: true, hubId: 777 });
  const t = await flow(sandbox, {
    // No eventNamePrefix: HubSpot's fullyQualifiedName tells it.
    settings: { definitions: 'create' },
    mapping: { '*': { '*': { settings: { properties: { map: { plan: 'data.plan', seats: 'data.seats' } } } } } },
  });
  await t.elb({ name: 'newsletter signup', id: 'n1', user, data: { plan: 'pro', seats: 3 } });
  await t.elb({ name: 'newsletter signup', id: 'n2', user, data: { plan: 'team', seats: 5 } });
  await waitFor(() => sandbox.events.length === 2, { what: 'both events' });
  const stats = t.stats();
  await t.elb('walker shutdown');
  const paths = sandbox.requests.map((r) => `${r.method} ${r.path}`);
  const created = paths.indexOf('POST /events/v3/event-definitions');
  assert.ok(created >= 0 && created < paths.findIndex((p) => p.startsWith('POST /events/v3/send')), paths.join('\n'));
  assert.equal(sandbox.definitionRequests.length, 1, 'one call: the definition with both properties');
  assert.equal(stats.definitionsCreated, 1);
  assert.deepEqual(typesOf(await definition(sandbox, 'newsletter_signup')), { plan: 'string', seats: 'number' });
  assert.ok(sandbox.events.every((e) => e.eventName === 'pe777_newsletter_signup'));
  assert.deepEqual(t.dropped, []);
  await sandbox.close();
});

test('"create": two destinations starting at once on one HubSpot both deliver (the loser of the race reads what the winner made)', async () => {
  const sandbox = await startSandbox({ token: TOKEN, strictDefinitions: true });
  const mapping = { order: { complete: { settings: { eventName: 'purchase', properties: { map: { revenue: 'data.total' } } } } } };
  const [a, b] = await Promise.all([
    flow(sandbox, { settings: { definitions: 'create', eventNamePrefix: 'pe12345678_' }, mapping }),
    flow(sandbox, { settings: { definitions: 'create', eventNamePrefix: 'pe12345678_' }, mapping }),
  ]);
  await Promise.all([
    a.elb({ name: 'order complete', id: 'a1', user, data: { total: 10 } }),
    b.elb({ name: 'order complete', id: 'b1', user, data: { total: 20 } }),
  ]);
  await waitFor(() => sandbox.events.length === 2, { what: 'both destinations\' events' });
  const created = a.stats().definitionsCreated + b.stats().definitionsCreated;
  await Promise.all([a.elb('walker shutdown'), b.elb('walker shutdown')]);
  const statuses = sandbox.definitionRequests.map((r) => `${r.method} ${r.path} ${r.status}`);
  assert.ok(statuses.some((s) => / 409$/.test(s)), statuses.join('\n'));
  assert.equal(created, 1);
  assert.deepEqual([...a.dropped, ...b.dropped], []);
  assert.deepEqual([...a.logged('error'), ...b.logged('error')], []);
  // One read at most, by the destination that lost the race.
  assert.ok(Object.values(readsPerDefinition(sandbox)).every((n) => n <= 1), statuses.join('\n'));
  await sandbox.close();
});

test('"create": a property another destination created first with another type is read, and a value that does not fit it is left out, not the event', async () => {
  const sandbox = await startSandbox({ token: TOKEN, strictDefinitions: true });
  // No propertyTypes: each destination's first value decides its type.
  const mapping = { order: { complete: { settings: { eventName: 'purchase', properties: { map: { coupon: 'data.coupon' } } } } } };
  const settings = { definitions: 'create', eventNamePrefix: 'pe12345678_' };
  const [a, b] = await Promise.all([flow(sandbox, { settings, mapping }), flow(sandbox, { settings, mapping })]);
  try {
    // b starts (the collector inits a destination at its first event) and
    // knows the definition without the property.
    await b.elb({ name: 'order complete', id: 'b0', user, data: {} });
    await waitFor(() => sandbox.events.length === 1, { what: 'b\'s first event' });
    await a.elb({ name: 'order complete', id: 'a1', user, data: { coupon: 10 } });
    await waitFor(() => sandbox.events.length === 2, { what: 'a\'s event' });
    await b.elb({ name: 'order complete', id: 'b1', user, data: { coupon: 'SAVE10' } });
    await waitFor(() => sandbox.events.length === 3 || b.dropped.length > 0, { what: 'b\'s second event' });
    assert.deepEqual(typesOf(await definition(sandbox, 'purchase')), { coupon: 'number' });
    assert.deepEqual(b.dropped.map((d) => d.reason), [], 'the event was not dropped');
    assert.deepEqual(sandbox.events.map((e) => e.properties), [{}, { coupon: '10' }, {}]);
    assert.match(b.logged('warn').join('\n'), /property "coupon" left out of event "pe12345678_purchase": its value is string but HubSpot's property is number/);
  } finally {
    await Promise.all([a.elb('walker shutdown'), b.elb('walker shutdown')]);
    await sandbox.close();
  }
});

test('"check" (the default) sends the events and logs one line with its fix per missing definition, missing property and differing type', async () => {
  const sandbox = await startSandbox({
    token: TOKEN,
    definitions: [{ name: 'purchase', label: 'Purchase', includeDefaultProperties: false, propertyDefinitions: [{ name: 'order_id', label: 'Order id', type: 'string' }, { name: 'revenue', label: 'Revenue', type: 'number' }] }],
  });
  const mapping = {
    order: { complete: { settings: { eventName: 'purchase', properties: { map: { order_id: 'data.id', revenue: 'data.total', coupon: 'data.coupon' } }, propertyTypes: { revenue: 'string' } } } },
    product: { view: { settings: { properties: { map: { sku: 'data.sku' } } } } },
  };
  const t = await flow(sandbox, { settings: { eventNamePrefix: 'pe12345678_' }, mapping });
  await t.elb({ name: 'order complete', id: 'o1', user, data: { id: 'A1', total: 5 } });
  await t.elb({ name: 'product view', id: 'p1', user, data: { sku: 'S1' } });
  await waitFor(() => sandbox.events.length === 2, { what: 'both events' });
  await t.elb('walker shutdown');
  const warnings = t.logged('warn');
  assert.equal(warnings.length, 3, warnings.join('\n'));
  assert.ok(warnings.some((w) => /definition "product_view" does not exist.*Fix: create it.*internal name product_view.*sku \(type from its first value\).*definitions to "create"/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /property "coupon" does not exist on the HubSpot event definition "purchase".*Fix: add the property coupon/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /property "revenue" .* is number in HubSpot, but propertyTypes says string.*Fix: set propertyTypes\.revenue to "number"/.test(w)), warnings.join('\n'));
  assert.deepEqual(readsPerDefinition(sandbox), { '/events/v3/event-definitions/purchase': 1, '/events/v3/event-definitions/product_view': 1 });
  assert.ok(sandbox.definitionRequests.every((r) => r.method === 'GET'), 'check creates nothing');
  await sandbox.close();
});

test('a value that does not fit its property\'s type is left out with a warning naming event, property and both types; the event arrives', async () => {
  const sandbox = await startSandbox({
    token: TOKEN,
    strictDefinitions: true,
    definitions: [{ name: 'purchase', label: 'Purchase', includeDefaultProperties: false, propertyDefinitions: [{ name: 'revenue', label: 'Revenue', type: 'number' }, { name: 'order_id', label: 'Order id', type: 'string' }] }],
  });
  const mapping = { order: { complete: { settings: { eventName: 'purchase', properties: { map: { order_id: 'data.id', revenue: 'data.total' } } } } } };
  const t = await flow(sandbox, { mapping });
  await t.elb({ name: 'order complete', id: 'o1', user, data: { id: 7, total: 'about 5 euros' } });
  await t.elb({ name: 'order complete', id: 'o2', user, data: { id: 8, total: '12.50' } });
  await waitFor(() => sandbox.events.length === 2, { what: 'both events' });
  const stats = t.stats();
  await t.elb('walker shutdown');
  assert.deepEqual(sandbox.events.map((e) => e.properties), [{ order_id: '7' }, { order_id: '8', revenue: '12.5' }]);
  const warnings = t.logged('warn');
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /property "revenue" left out of event "pe12345678_purchase": its value is string but HubSpot's property is number/);
  assert.equal(stats.valuesLeftOut, 1);
  assert.deepEqual(t.dropped, []);
  await sandbox.close();
});

test('a value that does not fit a stated type HubSpot shares is left out with a warning that says so, not "number but number"', async () => {
  const sandbox = await startSandbox({
    token: TOKEN,
    strictDefinitions: true,
    definitions: [{ name: 'purchase', label: 'Purchase', includeDefaultProperties: false, propertyDefinitions: [{ name: 'revenue', label: 'Revenue', type: 'number' }] }],
  });
  const mapping = { order: { complete: { settings: { eventName: 'purchase', properties: { map: { revenue: 'data.total' } }, propertyTypes: { revenue: 'number' } } } } };
  const t = await flow(sandbox, { mapping });
  try {
    await t.elb({ name: 'order complete', id: 'o1', user, data: { total: 'about 5 euros' } });
    await waitFor(() => sandbox.events.length === 1, { what: 'the event' });
    await t.elb('walker shutdown');
    assert.deepEqual(sandbox.events[0].properties, {});
    const warnings = t.logged('warn');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /property "revenue" left out of event "pe12345678_purchase": its value does not read as a number, the type of HubSpot's property/);
  } finally {
    await sandbox.close();
  }
});

test('403 on the definitions API: one warning naming the scope, then as "off"', async () => {
  const sandbox = await startSandbox({ token: TOKEN, forbidDefinitions: true });
  const t = await flow(sandbox, { settings: { definitions: 'create', eventNamePrefix: 'pe12345678_' }, mapping: threeRules });
  for (const event of threeEvents(0)) await t.elb(event);
  await t.elb({ name: 'signup done', id: 's1', user });
  await waitFor(() => sandbox.events.length === 4, { what: 'the 4 events' });
  await t.elb('walker shutdown');
  const warnings = t.logged('warn');
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /403.*behavioral_events\.event_definitions\.read_write.*Fix:/);
  assert.equal(sandbox.definitionRequests.length, 1, 'nothing asked after the 403');
  assert.deepEqual(t.logged('error'), []);
  await sandbox.close();
});

/** Pushes one event that cannot be named, without eventNamePrefix; the
 * first error logged once it is dropped. */
async function dropError(sandboxOptions, flowOptions) {
  const sandbox = await startSandbox({ token: TOKEN, ...sandboxOptions });
  const t = await flow(sandbox, flowOptions);
  try {
    await t.elb({ name: 'order complete', id: 'o1', user });
    await waitFor(() => t.dropped.length === 1, { what: 'the drop' });
  } finally {
    await t.elb('walker shutdown');
    await sandbox.close();
  }
  return t.logged('error')[0];
}

test('"check" with no eventNamePrefix and no rule naming a definition: the drop says to set the prefix or use "create", not to add a scope the token has', async () => {
  const error = await dropError({});
  assert.match(error, /prefix is not known.*settings\.eventNamePrefix.*settings\.definitions to "create"/);
  assert.doesNotMatch(error, /scope/);
});

test('403 on the definitions API, no eventNamePrefix: the drop names the scope', async () => {
  const error = await dropError({ forbidDefinitions: true }, { mapping: { order: { complete: {} } } });
  assert.match(error, /prefix is not known.*settings\.eventNamePrefix.*behavioral_events\.event_definitions\.read_write/);
});

test('explain() shows the definition call an event would cause', () => {
  const event = { name: 'order complete', id: 'o1', user, data: { total: 5 } };
  const settings = { accessToken: TOKEN, eventNamePrefix: 'pe1_' };
  const mapping = { order: { complete: { settings: { eventName: 'purchase', properties: { map: { revenue: 'data.total' } } } } } };
  const created = destinationHubspot.explain(event, { settings: { ...settings, definitions: 'create' }, mapping });
  assert.deepEqual(created.requests.map((r) => `${r.method} ${r.path}`), ['POST /events/v3/event-definitions', 'POST /events/v3/send']);
  assert.deepEqual(created.requests[0].body.propertyDefinitions, [{ name: 'revenue', label: 'Revenue', type: 'number' }]);
  const checked = destinationHubspot.explain(event, { settings, mapping });
  assert.deepEqual(checked.requests.map((r) => `${r.method} ${r.path}`), ['GET /events/v3/event-definitions/purchase?includeProperties=true', 'POST /events/v3/send']);
  const off = destinationHubspot.explain(event, { settings: { ...settings, definitions: 'off' }, mapping });
  assert.deepEqual(off.requests.map((r) => r.path), ['/events/v3/send']);
});

test('10,000 events with 5 event names make a handful of definition calls', { timeout: 120000 }, async () => {
  const sandbox = await startSandbox({ token: TOKEN, strictDefinitions: true, keepBodies: false });
  const t = await flow(sandbox, {
    settings: { definitions: 'create', eventNamePrefix: 'pe12345678_', batchSize: 500, maxQueue: 20000 },
    mapping: { '*': { '*': { settings: { properties: { map: { n: 'data.n', ok: 'data.ok' } } } } } },
    batch: true,
  });
  const names = ['order complete', 'product view', 'page view', 'cart add', 'form submit'];
  for (let i = 0; i < COUNT; i++) {
    await t.elb({ name: names[i % 5], id: `e${i}`, user: { email: `u${i % 50}@example.com` }, data: { n: i, ok: i % 3 === 0 } });
  }
  await t.elb('walker shutdown');
  await waitFor(() => sandbox.events.length === COUNT, { what: 'all the events', timeout: 60000 });
  const calls = sandbox.definitionRequests.length;
  console.log(`# definition calls for 10,000 events with 5 names: ${calls}`);
  assert.equal(calls, 5, sandbox.definitionRequests.map((r) => `${r.method} ${r.path} ${r.status}`).join('\n'));
  assert.deepEqual(t.dropped, []);
  await sandbox.close();
});

/** `fetch` to the sandbox, except where `answer(path, init)` gives a
 * response of its own (a proxy or an odd HubSpot answer). */
function stubbed(answer) {
  return async (url, init) => {
    const own = answer(new URL(url).pathname, init);
    if (!own) return fetch(url, init);
    const [status, body] = own;
    return { status, headers: { get: () => null }, text: async () => JSON.stringify(body) };
  };
}

test('"check": a definition read answered with another definition\'s name is taken as HubSpot says; the destination keeps delivering', async () => {
  const sandbox = await startSandbox({ token: TOKEN });
  const fetch = stubbed((path, init) => init.method === 'GET' && path.endsWith('/event-definitions/purchase')
    && [200, { name: 'purchase_v2', fullyQualifiedName: 'pe12345678_purchase_v2', properties: [{ name: 'order_id', type: 'string' }] }]);
  const t = await flow(sandbox, { settings: { eventNamePrefix: 'pe12345678_' }, mapping: threeRules, fetch });
  for (const event of threeEvents(0)) await t.elb(event);
  await waitFor(() => sandbox.events.length === 3, { what: 'the 3 events' });
  await t.elb('walker shutdown');
  assert.deepEqual(sandbox.events.map((e) => e.eventName).sort(), ['pe12345678_page_view', 'pe12345678_product_view', 'pe12345678_purchase']);
  assert.ok(t.logged('warn').some((m) => /property "revenue" does not exist on the HubSpot event definition "purchase"/.test(m)), t.logged('warn').join('\n'));
  await sandbox.close();
});

test('"create" at init: a definition HubSpot cannot make now does not stop the others; it is made before its first event', async () => {
  const sandbox = await startSandbox({ token: TOKEN, strictDefinitions: true });
  let refusals = 1;
  const fetch = stubbed((path, init) => init.method === 'POST' && path === '/events/v3/event-definitions'
    && JSON.parse(init.body).name === 'purchase' && refusals-- > 0 && [500, { status: 'error', message: 'try later' }]);
  const t = await flow(sandbox, { settings: { definitions: 'create', eventNamePrefix: 'pe12345678_' }, mapping: threeRules, fetch });
  // The collector starts the destination with its first event.
  await t.elb({ name: 'signup done', id: 's0', user });
  await waitFor(() => t.logged('warn').some((m) => m.includes('not prepared yet')), { what: 'the refused definition' });
  await waitFor(() => sandbox.definitionRequests.filter((r) => r.method === 'POST').length >= 2, { what: 'the definitions made at init' });
  assert.ok(await definition(sandbox, 'product_view'), 'the definition after the refused one is made at init too');
  assert.equal(await definition(sandbox, 'purchase'), undefined);
  assert.ok(t.logged('warn').some((m) => /event definition "purchase" is not prepared yet; it is made before its first event is sent: .*try later/.test(m)), t.logged('warn').join('\n'));
  for (const event of threeEvents(0)) await t.elb(event);
  await waitFor(() => sandbox.events.length === 4, { what: 'the 4 events' });
  await t.elb('walker shutdown');
  assert.ok(await definition(sandbox, 'purchase'), 'made before its first event');
  assert.deepEqual(t.logged('error'), []);
  await sandbox.close();
});

test('"check" without eventNamePrefix: a read HubSpot answers with 429 at init is tried again, and the events are not dropped for want of the prefix', async () => {
  const sandbox = await startSandbox({
    token: TOKEN,
    definitions: [{ name: 'purchase', label: 'Purchase', includeDefaultProperties: false, propertyDefinitions: [] }],
  });
  const mapping = { order: { complete: { settings: { eventName: 'purchase' } } } };
  const t = await flow(sandbox, { mapping });
  // The one definition read at init is rate limited.
  sandbox.setFaults({ status: { status: 429, count: 1, retryAfter: 1, only: '/events/v3/event-definitions' } });
  try {
    await t.elb({ name: 'order complete', id: 'c1', user });
    await waitFor(() => sandbox.events.length === 1 || t.dropped.length > 0, { timeout: 5000, what: 'the event' });
    assert.deepEqual(t.dropped.map((d) => d.reason), []);
    assert.deepEqual(sandbox.events.map((e) => e.eventName), ['pe12345678_purchase']);
  } finally {
    await t.elb('walker shutdown');
    await sandbox.close();
  }
});

test('an eventNamePrefix that differs from HubSpot\'s: after the warning, events of definitions not read go under HubSpot\'s prefix too', async () => {
  const seed = (name) => ({ name, label: name, includeDefaultProperties: false, propertyDefinitions: [] });
  const sandbox = await startSandbox({ token: TOKEN, strictDefinitions: true, definitions: [seed('purchase'), seed('page_view')] });
  const mapping = { order: { complete: { settings: { eventName: 'purchase' } } } };
  const t = await flow(sandbox, { settings: { eventNamePrefix: 'pe999_' }, mapping });
  try {
    await t.elb({ name: 'order complete', id: 'p1', user });
    await waitFor(() => sandbox.events.length === 1 || t.dropped.length > 0, { what: 'the purchase' });
    // No rule names it: its definition is not read.
    await t.elb({ name: 'page view', id: 'p2', user });
    await waitFor(() => sandbox.events.length === 2 || t.dropped.length > 0, { what: 'the page view' });
    assert.deepEqual(t.dropped.map((d) => d.reason), []);
    assert.deepEqual(sandbox.events.map((e) => e.eventName), ['pe12345678_purchase', 'pe12345678_page_view']);
    assert.equal(t.logged('warn').filter((m) => /settings\.eventNamePrefix is "pe999_"/.test(m)).length, 1);
  } finally {
    await t.elb('walker shutdown');
    await sandbox.close();
  }
});
