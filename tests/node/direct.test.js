'use strict';

// `{ key: "data.id" }` means the same as "data.id": the same events under
// both forms of one rule must give the same requests, log lines and
// counters, whatever the values and their types.

const test = require('node:test');
const assert = require('node:assert/strict');
const destination = require('../../pkg');

function run(settings, rule, events) {
  const bodies = [];
  const logs = [];
  const fetch = async (url, init) => {
    bodies.push([url.replace(/^.*\/(events|crm)/, '$1'), JSON.parse(init.body)]);
    return { status: url.includes('/batch/upsert') ? 200 : 204, headers: { get: () => null }, text: async () => '{"results":[]}' };
  };
  const logger = {};
  for (const level of ['error', 'warn', 'info', 'debug']) logger[level] = (message) => logs.push(`${level}: ${message}`);
  const config = {
    settings: { accessToken: 'pat-test', eventNamePrefix: 'pe1_', ...settings },
    mapping: { order: { complete: rule } },
  };
  const env = { fetch };
  return (async () => {
    destination.init({ config, env, logger });
    for (const event of events) {
      const pushed = destination.push(event, { config, rule, data: undefined, env, logger, collector: {} });
      if (pushed) await pushed;
    }
    const stats = destination.stats(config);
    await destination.destroy({ config, logger });
    return { bodies, logs, stats };
  })();
}

// Every field a plain path reads, with values of every kind, sometimes
// missing or of the wrong type.
function events(count, seed) {
  const random = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const pick = (options) => options[Math.floor(random() * options.length)];
  const MISSING = Symbol('missing');
  const leaf = () => pick(['ord-1', 'q"uote\\ \u0001 é 🙂', '', 'x'.repeat(30), 0, -0, 5.22, 1e21, 123456789, NaN, Infinity, true, false, null, ['a', 1, true], ['a', null], { k: 'v', n: 1.5 }, { k: null }, [], {}, MISSING]);
  const object = (build) => pick([build, build, build, build, () => 'text', () => [1, 2], () => null, () => 7, () => MISSING])();
  const set = (target, key, value) => {
    if (value !== MISSING) target[key] = value;
  };
  return Array.from({ length: count }, (_, i) => {
    const event = {};
    set(event, 'name', pick(['order complete', 'order complete', 'order complete', 'Order Complete!', '', 42, MISSING, '9 lives']));
    set(event, 'id', pick([`id-${i}`, `id-${i}`, '', 17, MISSING]));
    set(event, 'timestamp', pick([1700000000000 + i, 1700000000000 + i, 'yesterday', 1e20, -1, NaN, MISSING]));
    set(event, 'user', object(() => {
      const user = {};
      set(user, 'email', pick([`u${i % 7}@example.com`, `u${i % 7}@example.com`, ' padded@example.com ', '', '   ', 42, null, ['a'], MISSING]));
      set(user, 'id', pick(['123', 123, '', null, MISSING]));
      set(user, 'other', leaf());
      return user;
    }));
    set(event, 'data', object(() => {
      const data = {};
      for (const key of ['id', 'total', 'currency', 'shipping', 'taxes', 'unmapped']) set(data, key, leaf());
      return data;
    }));
    set(event, 'consent', pick([{}, { marketing: true }, MISSING]));
    return event;
  });
}

const plain = {
  settings: {
    eventName: 'purchase',
    properties: { map: { order_id: 'data.id', revenue: 'data.total', currency: 'data.currency', shipping: 'data.shipping', taxes: 'data.taxes' } },
  },
};
// The same rule, each path as a value config: the general way.
const keyed = {
  settings: {
    eventName: 'purchase',
    properties: { map: Object.fromEntries(Object.entries(plain.settings.properties.map).map(([name, path]) => [name, { key: path }])) },
  },
};

for (const [title, settings, rule] of [
  ['batch mode', { batch: true, batchSize: 50 }, [plain, keyed]],
  ['single mode, objectId and utk from plain paths too', { objectId: 'user.id', utk: 'data.currency' }, [plain, keyed]],
  ['no eventName (from the event name) and defaultProperties', { batch: true, defaultProperties: { tier: 'gold', currency: 'USD' } }, [{ settings: { properties: plain.settings.properties } }, { settings: { properties: keyed.settings.properties } }]],
  ['no properties mapping', { batch: true }, [{ settings: { eventName: 'purchase' } }, { settings: { eventName: 'purchase', properties: { key: 'not.there' } } }]],
  ['no eventName, and defaultProperties not mapped too', { batch: true, defaultProperties: { tier: 'gold' } }, [{ settings: { properties: plain.settings.properties } }, { settings: { properties: keyed.settings.properties } }]],
]) {
  test(`plain paths read from the entry give what the general way gives: ${title}`, async () => {
    const sample = events(600, 20261124);
    const direct = await run(settings, rule[0], sample);
    const general = await run(settings, rule[1], sample);
    assert.ok(direct.bodies.length > 0, 'something is sent');
    assert.deepEqual(direct.bodies, general.bodies);
    assert.deepEqual(direct.logs, general.logs);
    assert.deepEqual(direct.stats, general.stats);
  });
}

// The consent is handed over only under rules with a mapping that asks for
// some (src/destination.rs, projection): such a mapping still sees it.
for (const settings of [{ batch: true }, {}]) {
  test(`a property that needs consent is sent only when the event grants it (${settings.batch ? 'batch' : 'single'} mode)`, async () => {
    const rule = {
      settings: { eventName: 'purchase', properties: { map: { order_id: 'data.id', promo: { key: 'data.promo', consent: { marketing: true } } } } },
    };
    const base = { name: 'order complete', user: { email: 'a@example.com' }, data: { id: 'o1', promo: 'spring' } };
    const sample = [{ ...base, id: 'e1', consent: { marketing: true } }, { ...base, id: 'e2', consent: { marketing: false } }, { ...base, id: 'e3' }];
    const { bodies } = await run(settings, rule, sample);
    const inputs = bodies.flatMap(([, body]) => body.inputs || [body]);
    assert.deepEqual(
      inputs.map((input) => input.properties),
      [{ order_id: 'o1', promo: 'spring' }, { order_id: 'o1' }, { order_id: 'o1' }],
    );
  });
}

// Batch mode holds an event object until its batch is planned only under
// rules whose mapping functions may read it (src/wasm.rs, readsEvent).
test('batch mode: a mapping function gets the event itself; plain paths need no object', async () => {
  const seen = [];
  const rules = {
    order: {
      complete: {
        settings: {
          eventName: 'purchase',
          properties: { map: { total: { fn: (event) => (seen.push(event.id), `${event.data.total}!`) }, order_id: 'data.id' } },
        },
      },
    },
    page: { view: { settings: { eventName: 'page_view', properties: { map: { path: 'data.path' } } } } },
  };
  const bodies = [];
  const fetch = async (url, init) => {
    bodies.push(JSON.parse(init.body));
    return { status: 204, headers: { get: () => null }, text: async () => '' };
  };
  const logger = { error() {}, warn() {}, info() {}, debug() {} };
  const config = { settings: { accessToken: 'pat-test', eventNamePrefix: 'pe1_', batch: true, batchSize: 4 }, mapping: rules };
  destination.init({ config, env: { fetch }, logger });
  for (let i = 0; i < 8; i++) {
    const [entity, action] = i % 2 ? ['page', 'view'] : ['order', 'complete'];
    const event = { name: `${entity} ${action}`, id: `e${i}`, user: { email: 'a@example.com' }, data: { total: i, id: `o${i}`, path: `/p${i}` } };
    const pushed = destination.push(event, { config, rule: rules[entity][action], data: undefined, env: { fetch }, logger, collector: {} });
    if (pushed) await pushed;
  }
  await destination.destroy({ config, logger });
  const inputs = bodies.flatMap((body) => body.inputs);
  assert.deepEqual(
    inputs.map((input) => input.properties),
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => (i % 2 ? { path: `/p${i}` } : { total: `${i}!`, order_id: `o${i}` })),
  );
  assert.deepEqual(seen, ['e0', 'e2', 'e4', 'e6']);
});
