'use strict';

// Every step example of walkeros-destination-hubspot/dev, run through a
// real collector against the sandbox: the requests HubSpot gets must be
// exactly the example's `out`, and what it logs must name the event.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startFlow } = require('@walkeros/collector');
const { startSandbox } = require('../sandbox/hubspot.js');
const destinationHubspot = require('../../pkg');
const { examples, schemas } = require('../../pkg/dist/dev.js');

/** The requests one example makes, in the `out` format. */
async function run(example) {
  const sandbox = await startSandbox({ token: example.settings.accessToken });
  const warnings = [];
  const logger = { level: 1, handler: (level, message) => warnings.push(message) };
  const [entity, action] = (example.match || example.in.name).split(' ');
  const mapping = example.mapping ? { [entity]: { [action]: example.mapping } } : undefined;
  const { elb } = await startFlow({
    logger,
    destinations: {
      hubspot: { code: destinationHubspot, config: { settings: { ...example.settings, apiBase: sandbox.url }, mapping } },
    },
  });
  try {
    await elb(structuredClone(example.in));
    await elb('walker shutdown');
  } finally {
    await sandbox.close();
  }
  return { out: sandbox.requests.map((r) => ['fetch', `${r.method} ${r.path}`, r.body]), warnings };
}

for (const [name, example] of Object.entries(examples.step)) {
  test(`example ${name}: ${example.title}`, async () => {
    const { out, warnings } = await run(example);
    if (process.env.PRINT_EXAMPLES) console.log(name, JSON.stringify(out, null, 2), warnings);
    assert.deepEqual(out, example.out);
    // Settings of every example are valid by the published schema's names.
    for (const key of Object.keys(example.settings)) assert.ok(key in schemas.settings.properties, key);
  });
}

test('the examples cover what the package documents', () => {
  assert.deepEqual(Object.keys(examples.step).sort(), [
    'batchFlush', 'createDefinitions', 'defaultEvent', 'defaultProperties', 'destinationIdentify', 'mappedEventName',
    'noIdentity', 'objectIdAssociation', 'userLoginIdentify', 'utkIdentity', 'wildcardIgnored',
  ]);
  for (const example of Object.values(examples.step)) {
    assert.ok(example.title && example.description && example.in && Array.isArray(example.out));
  }
});

test('an example with no identity warns with the event name', async () => {
  const { warnings } = await run(examples.step.noIdentity);
  assert.ok(warnings.some((w) => w.includes('page view') && w.includes('no contact identity')), warnings.join('\n'));
});

test('walkerOS.json holds the schemas the Rust core makes and the examples, and package.json the walkerOS fields', async () => {
  const manifest = require('../../pkg/package.json');
  const shipped = require('../../pkg/dist/walkerOS.json');
  const { schemas: fromRust } = require('../../pkg/dist/wasm/walkeros_destination_hubspot.js');
  assert.deepEqual(manifest.walkerOS, { type: 'destination', platform: ['server'] });
  for (const keyword of ['walkerOS', 'walkerOS-destination', 'destination', 'server']) assert.ok(manifest.keywords.includes(keyword));
  assert.equal(manifest.exports['./walkerOS.json'], './dist/walkerOS.json');
  assert.deepEqual(shipped.$meta, { package: manifest.name, version: manifest.version, type: 'destination', platform: ['server'] });
  assert.deepEqual(shipped.schemas, fromRust());
  assert.equal(schemas, shipped.schemas);
  assert.deepEqual(shipped.examples.step, JSON.parse(JSON.stringify(require('../../js/examples.js').step)));
  assert.equal(shipped.examples.env.push.fetch.$code, examples.env.push.fetch.toString());
  assert.equal((await examples.env.push.fetch('https://api.hubapi.com/events/v3/send')).status, 204);
  const esm = await import('../../pkg/dist/dev.mjs');
  assert.equal(esm.schemas, schemas);
  assert.equal(esm.examples, examples);
});
