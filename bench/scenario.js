'use strict';

// One benchmark scenario in a process of its own (so its CPU time and peak
// memory are its own): pushes events through a real @walkeros/collector to
// the sandbox and prints { events, wallMs, cpuUs, maxRssKb } as JSON.
//
//   node bench/scenario.js <floor|ours-batch|ours-single|baseline-single|baseline-batch|identify> <count>
//
// BENCH_PKG=<dir> runs another build of the package (to compare two builds).

const { startFlow } = require('@walkeros/collector');
const core = require('@walkeros/core');

const [name, countArg] = process.argv.slice(2);
const count = Number(countArg);
const apiBase = process.env.SANDBOX_URL;
const token = 'sandbox-token';
const prefix = 'pe12345678_';

const properties = {
  map: {
    order_id: 'data.id',
    revenue: 'data.total',
    currency: 'data.currency',
    shipping: 'data.shipping',
    taxes: 'data.taxes',
  },
};

function event(i, users) {
  return {
    name: 'order complete',
    id: `bench-${name}-${i}`,
    user: { email: `user${i % users}@example.com`, firstname: 'Jane', lastname: `Doe${i % users}` },
    data: { id: `ord-${i}`, total: 100 + (i % 50), currency: 'EUR', shipping: 5.22, taxes: 73.76 },
  };
}

/** A no-op destination: the collector's own cost. */
function floor() {
  return { type: 'floor', config: {}, push: async (e) => void JSON.stringify(e) };
}

// Every scenario has the same mapping rule, so the collector does the same
// rule work for each and the floor is a fair one.
const mapping = { order: { complete: { settings: { eventName: 'purchase', properties } } } };

function ours(settings) {
  const destinationHubspot = require(process.env.BENCH_PKG || '../pkg');
  return {
    code: destinationHubspot,
    config: { settings: { accessToken: token, eventNamePrefix: prefix, apiBase, ...settings }, mapping },
  };
}

/** What a user would write without us: walkerOS's mapping and the official client. */
function baseline(batch) {
  const { Client } = require('@hubspot/api-client');
  const client = new Client({ accessToken: token, basePath: apiBase });
  const queue = [];
  const flush = async () => {
    while (queue.length) await client.events.send.batchApi.send({ inputs: queue.splice(0, 500) });
  };
  return {
    type: 'baseline',
    config: {},
    async push(e, { collector }) {
      const input = {
        eventName: `${prefix}purchase`,
        email: await core.getMappingValue(e, 'user.email', { collector }),
        occurredAt: new Date(e.timestamp),
        properties: Object.fromEntries(
          Object.entries((await core.getMappingValue(e, properties, { collector })) || {}).map(([k, v]) => [k, String(v)]),
        ),
      };
      if (!batch) return client.events.send.basicApi.send(input);
      queue.push(input);
      if (queue.length >= 500) await flush();
    },
    destroy: flush,
  };
}

async function main() {
  let destination;
  let users = 1000;
  switch (name) {
    case 'floor':
      destination = { code: floor(), config: { mapping } };
      break;
    case 'ours-batch':
      destination = ours({ batch: true, batchSize: 500 });
      break;
    case 'ours-single':
      destination = ours({});
      break;
    case 'baseline-single':
      destination = { code: baseline(false), config: { mapping } };
      break;
    case 'baseline-batch':
      destination = { code: baseline(true), config: { mapping } };
      break;
    case 'identify':
      users = 100;
      destination = ours({
        batch: true,
        batchSize: 500,
        identify: { map: { email: 'user.email', properties: { map: { firstname: 'user.firstname', lastname: 'user.lastname' } } } },
      });
      break;
    default:
      throw new Error(`unknown scenario ${name}`);
  }
  const events = Array.from({ length: count }, (_, i) => event(i, users));
  const { elb } = await startFlow({ destinations: { bench: destination } });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const e of events) await elb(e);
  await elb('walker shutdown');
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    JSON.stringify({ events: count, wallMs, cpuUs: cpu.user + cpu.system, maxRssKb: process.resourceUsage().maxRSS }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
