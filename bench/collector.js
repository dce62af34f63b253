'use strict';

// `make bench`: this destination through a real @walkeros/collector against
// the floor (a no-op destination) and the baseline (@walkeros/core's
// getMappingValue with the official @hubspot/api-client), each scenario in a
// process of its own, against the sandbox in another, several rounds (each
// running the floor, ours and the baseline in turn),
// medians. Prints a table and writes bench/results.md.

const fs = require('node:fs');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const ROUNDS = Number(process.env.ROUNDS || 7);
const BATCH_EVENTS = Number(process.env.BATCH_EVENTS || 50000);
const SINGLE_EVENTS = Number(process.env.SINGLE_EVENTS || 5000);
const root = path.resolve(__dirname, '..');

function startSandbox() {
  return new Promise((resolve, reject) => {
    const child = spawnNode([path.join(root, 'tests', 'sandbox', 'hubspot.js'), '0'], 1, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', (chunk) => {
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(String(chunk));
      if (url) resolve({ url: url[0], child });
      else reject(new Error(`sandbox said ${chunk}`));
    });
  });
}

async function sandboxStats(url) {
  return (await fetch(`${url}/__sandbox/stats`)).json();
}

function scenario(url, name, count) {
  return new Promise((resolve, reject) => {
    const child = spawnNode([path.join(__dirname, 'scenario.js'), name, String(count)], 0, {
      env: { ...process.env, SANDBOX_URL: url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${name} exited ${code}`))));
  });
}

// BENCH_PIN=1 (Linux, two cores or more): each scenario runs on core 0 and
// the sandbox on core 1 (taskset). CPU per event then measures far steadier,
// but events per second drop: a scenario gets one core, where delivery
// otherwise overlaps the collector's work on the other.
const PIN = process.env.BENCH_PIN === '1' && process.platform === 'linux' && require('node:os').cpus().length >= 2 && hasTaskset();

function hasTaskset() {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `spawn` of a Node script, on `core` when pinning. */
function spawnNode(args, core, options) {
  return PIN ? spawn('taskset', ['-c', String(core), process.execPath, ...args], options) : spawn(process.execPath, args, options);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function run(url, name, count) {
  await fetch(`${url}/__sandbox/reset`, { method: 'POST' });
  const result = await scenario(url, name, count);
  const stats = await sandboxStats(url);
  return {
    ...result,
    requests: stats.requests,
    upserts: stats.byPath['/crm/v3/objects/contacts/batch/upsert'] || 0,
    contacts: stats.upserts,
    received: stats.events,
  };
}

/** A scenario's medians over its rounds; `above` is the median of each
 * round's CPU minus the floor's in the same round. */
function summary(name, count, runs, floorRuns) {
  const pick = (key) => median(runs.map((r) => r[key]));
  return {
    name,
    events: count,
    eventsPerSecond: count / (pick('wallMs') / 1000),
    cpuUsPerEvent: pick('cpuUs') / count,
    aboveFloor: floorRuns && median(runs.map((r, i) => (r.cpuUs - floorRuns[i].cpuUs) / count)),
    maxRssMb: pick('maxRssKb') / 1024,
    requests: pick('requests'),
    upserts: pick('upserts'),
    contacts: pick('contacts'),
    received: pick('received'),
  };
}

/** Each round runs every scenario of a group once, one after the other, so
 * a slower spell of the machine falls on all of them alike. */
async function measureGroup(url, count, names) {
  const runs = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of names) runs[name].push(await run(url, name, count));
    process.stderr.write(`round ${r + 1}/${ROUNDS} of ${names.join(', ')} (${count})\n`);
  }
  return names.map((name) => summary(name, count, runs[name], name === 'floor' ? undefined : runs.floor));
}

function coldStart() {
  const times = [];
  for (let i = 0; i < 7; i++) {
    const out = execFileSync(process.execPath, [
      '-e',
      `const t=process.hrtime.bigint();require(${JSON.stringify(path.join(root, 'pkg'))});console.log(Number(process.hrtime.bigint()-t)/1e6)`,
    ]);
    times.push(Number(String(out)));
  }
  return median(times);
}

function dedupMemory() {
  const { dedupBytesPerContact } = require(path.join(root, 'pkg', 'dist', 'wasm', 'walkeros_destination_hubspot.js'));
  return dedupBytesPerContact(1000000);
}

function packageSize() {
  const [info] = JSON.parse(execFileSync('npm', ['pack', path.join(root, 'pkg'), '--dry-run', '--json'], { encoding: 'utf8' }));
  return info.unpackedSize;
}

async function main() {
  const { url, child } = await startSandbox();
  try {
    const rows = [
      ...(await measureGroup(url, BATCH_EVENTS, ['floor', 'ours-batch', 'baseline-batch'])),
      ...(await measureGroup(url, SINGLE_EVENTS, ['floor', 'ours-single', 'baseline-single'])),
      ...(await measureGroup(url, 10000, ['identify'])),
    ];
    const lines = [
      `Through @walkeros/collector, sandbox in its own process; ${ROUNDS} rounds, each running floor, ours and baseline in turn${PIN ? ' (scenarios on core 0, sandbox on core 1)' : ''}; medians (CPU above the floor: the median of each round's difference); ${new Date().toISOString().slice(0, 10)}, ${require('node:os').cpus().length} cores, Node ${process.version}.`,
      '',
      '| scenario | events | events/s | CPU µs/event | CPU above floor µs/event | peak RSS MB | HTTP requests | upsert requests |',
      '|---|---|---|---|---|---|---|---|',
    ];
    for (const r of rows) {
      const above = r.aboveFloor === undefined || r.name === 'identify' ? '' : r.aboveFloor.toFixed(1);
      lines.push(
        `| ${r.name} | ${r.events} | ${Math.round(r.eventsPerSecond)} | ${r.cpuUsPerEvent.toFixed(1)} | ${above} | ${r.maxRssMb.toFixed(0)} | ${r.requests} | ${r.upserts} |`,
      );
    }
    const get = (name) => rows.find((r) => r.name === name);
    const batchAbove = get('ours-batch').aboveFloor;
    const baseAbove = get('baseline-batch').aboveFloor;
    lines.push(
      '',
      `- Batch mode, CPU above the floor: ${batchAbove.toFixed(1)} µs/event, ${(batchAbove / baseAbove).toFixed(2)}× the baseline's (targets: ≤ 5 µs, ≤ 0.33×).`,
      `- Single mode: ${(get('ours-single').eventsPerSecond / get('baseline-single').eventsPerSecond).toFixed(2)}× the baseline's events per second (target ≥ 5×).`,
      `- Identify, 10,000 events from 100 users: ${get('identify').contacts} contacts upserted (one per distinct contact and properties; target 100) in ${get('identify').upserts} upsert request(s) of at most 100, ${get('identify').requests} HTTP requests in all.`,
      `- Cold start (require and instantiate): ${coldStart().toFixed(1)} ms (target ≤ 15 ms). Installed package: ${(packageSize() / 1024).toFixed(0)} KB, no runtime dependencies (target ≤ 600 KB).`,
      `- Contact dedup for 1,000,000 distinct contacts: ${dedupMemory().toFixed(1)} bytes per contact (target ≤ 64).`,
    );
    const text = lines.join('\n');
    console.log(text);
    fs.writeFileSync(path.join(__dirname, 'results.md'), `# Benchmark results\n\n${text}\n`);
  } finally {
    child.kill();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
