'use strict';

// `node bench/fetch.js [client.js ...]`: client CPU per request of the
// default HTTP client (pkg/dist/fetch.js) against Node's global fetch, for
// sequential 11 KB POSTs to a node:http server in another process (so only
// the client's CPU is counted). Further modules exporting `fetch` or
// `request` in the same shape are measured too. Needs `make pkg`.

const path = require('node:path');
const { fork } = require('node:child_process');

const REQUESTS = Number(process.env.REQUESTS || 2000);
const ROUNDS = Number(process.env.ROUNDS || 5);
const BODY = JSON.stringify({ inputs: [{ data: 'x'.repeat(11 * 1024 - 30) }] });

if (process.argv[2] === 'server') {
  const server = require('node:http').createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{"status":"COMPLETE"}'));
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  main();
}

async function run(fetch, url) {
  const init = { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' } };
  const before = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) {
    const response = await fetch(url, { ...init, body: BODY, signal: AbortSignal.timeout(10000) });
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    await response.text();
  }
  const { user, system } = process.cpuUsage(before);
  return (user + system) / REQUESTS;
}

async function main() {
  const server = fork(__filename, ['server']);
  const port = await new Promise((resolve) => server.once('message', resolve));
  const url = `http://127.0.0.1:${port}/events/v3/send`;
  const clients = { 'fetch.js': require(path.join(__dirname, '..', 'pkg', 'dist', 'fetch.js')).fetch, 'globalThis.fetch': globalThis.fetch };
  for (const file of process.argv.slice(2)) {
    const loaded = require(path.resolve(file));
    clients[path.basename(file)] = loaded.fetch || loaded.request;
  }
  const samples = Object.fromEntries(Object.keys(clients).map((name) => [name, []]));
  // Warm-up, then rounds taking turns, so drift on a busy machine hits each alike.
  for (const fetch of Object.values(clients)) await run(fetch, url);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fetch] of Object.entries(clients)) samples[name].push(await run(fetch, url));
  }
  const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
  const base = median(samples['fetch.js']);
  for (const [name, values] of Object.entries(samples)) {
    const us = median(values);
    console.log(`${name.padEnd(18)} ${us.toFixed(1).padStart(7)} µs CPU per request  ${(us / base).toFixed(2)}× fetch.js`);
  }
  server.kill();
}
