'use strict';

// Cost per event of resolving a typical rule (an email path, identify with
// a 4-field map, properties with a 5-field map): this package's engine
// against @walkeros/core's getMappingValue, on the same events in the same
// run. Several rounds; medians. `make bench-mapping`.

const core = require('@walkeros/core');
const { startFlow } = require('@walkeros/collector');
const { compileMappings } = require('../pkg/dist/mapping.js');

const rule = {
  email: 'user.email',
  identify: {
    map: {
      email: 'user.email',
      properties: {
        map: { firstname: 'user.firstname', lastname: 'user.lastname', company: 'user.company', plan: 'globals.plan' },
      },
    },
  },
  properties: {
    map: {
      order_id: 'data.id',
      revenue: 'data.total',
      currency: { key: 'data.currency', value: 'EUR' },
      coupon: 'data.coupon',
      items: { loop: ['nested', 'data.name'] },
    },
  },
};

function events(n) {
  return Array.from({ length: n }, (_, i) =>
    core.getEvent('order complete', {
      id: `ev${i}`,
      user: { id: `u${i % 100}`, email: `user${i % 100}@example.com`, firstname: 'Jane', lastname: 'Doe', company: 'ACME' },
      globals: { plan: 'pro', pagegroup: 'shop' },
      data: { id: `ord-${i}`, total: 100 + (i % 50), currency: 'EUR', coupon: i % 3 ? '' : 'SAVE10', shipping: 5.22, taxes: 73.76 },
    }),
  );
}

async function main() {
  const rounds = Number(process.env.ROUNDS || 7);
  const perRound = Number(process.env.EVENTS || 20000);
  const input = events(1000);
  const { collector } = await startFlow({ logger: { level: 0, handler: () => {} } });

  const compiled = compileMappings(rule);
  const ours = async (event) => compiled.resolve(event);
  const theirs = async (event) => ({
    email: await core.getMappingValue(event, rule.email, { collector }),
    identify: await core.getMappingValue(event, rule.identify, { collector }),
    properties: await core.getMappingValue(event, rule.properties, { collector }),
  });

  // Both must agree before their speed means anything.
  for (const event of input.slice(0, 50)) {
    const [a, b] = [await ours(event), await theirs(event)];
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`results differ: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }

  async function measure(fn) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) await fn(input[i % input.length]);
    return Number(process.hrtime.bigint() - start) / 1000 / perRound;
  }

  const samples = { ours: [], theirs: [] };
  await measure(ours);
  await measure(theirs);
  for (let r = 0; r < rounds; r++) {
    // Alternate so drift on a noisy machine hits both alike.
    samples.ours.push(await measure(ours));
    samples.theirs.push(await measure(theirs));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [o, t] = [median(samples.ours), median(samples.theirs)];
  console.log(`Resolving a typical rule (email, identify with a 4-field map, properties with a 5-field map), ${rounds} rounds of ${perRound} events, medians:`);
  console.log('');
  console.log('| engine | µs per event |');
  console.log('|---|---|');
  console.log(`| walkeros-destination-hubspot (Rust/wasm) | ${o.toFixed(2)} |`);
  console.log(`| @walkeros/core getMappingValue | ${t.toFixed(2)} |`);
  console.log('');
  console.log(`ratio ours/theirs: ${(o / t).toFixed(2)}× (target ≤ 0.6×)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
