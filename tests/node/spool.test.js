'use strict';

// The disk spool (settings.spool): a process killed with SIGKILL after its
// pushes returned loses nothing; the next process on the spool delivers it
// all exactly once. A cut last record, an unreadable one, a live and a
// stale lock, and the spool's bound.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startFlow } = require('@walkeros/collector');
const { startSandbox, destinationHubspot, TOKEN, waitFor } = require('./helpers.js');

const FIXTURE = path.join(__dirname, 'fixtures', 'spool-process.js');
const children = new Set();

function tmpSpool() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hubspot-spool-'));
}

/** Starts the fixture; resolves once it wrote `until` on stdout (or
 * exited), within `timeout` ms. */
function run(env, { until, timeout = 60000 }) {
  const child = spawn(process.execPath, [FIXTURE], { env: { ...process.env, TOKEN, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const out = { stdout: '', stderr: '', child };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  out.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  out.ready = waitFor(() => out.stdout.includes(until) || child.exitCode !== null, { timeout, what: `the child to write ${until}` })
    .then(() => out);
  return out;
}

function logged(out, level) {
  return out.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.level === level);
}

async function kill(out) {
  out.child.kill('SIGKILL');
  const { signal } = await out.exited;
  assert.equal(signal, 'SIGKILL');
}

test.after(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** Pushes `count` events in a process against a sandbox answering 503,
 * kills it once every push has returned; `cut` then edits the journal;
 * a second process against a healthy sandbox delivers what it holds. */
async function crashThenRestart({ count, batch = false, cut }) {
  const spool = tmpSpool();
  const sandbox = await startSandbox({ token: TOKEN });
  try {
    sandbox.setFaults({ status: { status: 503, count: 1e9 } });
    const env = { SANDBOX_URL: sandbox.url, SPOOL: spool, BATCH: batch ? '1' : '0' };
    const first = await run({ ...env, MODE: 'push', COUNT: String(count) }, { until: 'pushed' }).ready;
    assert.ok(first.stdout.includes('pushed'), `the first process pushed everything: ${first.stderr.slice(-500)}`);
    await kill(first);
    assert.equal(sandbox.events.length, 0, 'HubSpot took nothing before the crash');
    assert.ok(!fs.readFileSync(path.join(spool, 'journal'), 'utf8').includes(TOKEN), 'no record holds the access token');
    if (cut) cut(path.join(spool, 'journal'));
    sandbox.setFaults({});
    const second = run({ ...env, MODE: 'deliver' }, { until: '}' });
    const { code } = await second.exited;
    assert.equal(code, 0, `the second process ended cleanly: ${second.stderr.slice(-1000)}`);
    const stats = JSON.parse(second.stdout.trim().split('\n').pop());
    return { sandbox, second, stats, spool };
  } finally {
    await sandbox.close();
  }
}

/** What a SIGKILL now would leave: a copy of `spool`'s journal, from
 * which a new destination against a fresh sandbox delivers; the events it
 * delivered. */
async function afterSigkill(spool, logger) {
  const crashed = tmpSpool();
  fs.copyFileSync(path.join(spool, 'journal'), path.join(crashed, 'journal'));
  const next = await startSandbox({ token: TOKEN });
  const again = { settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: next.url, spool: crashed } };
  try {
    destinationHubspot.init({ config: again, env: {}, logger });
    await waitFor(() => destinationHubspot.stats(again).queued === 0, { timeout: 10000, what: 'the replay' });
    await destinationHubspot.destroy({ config: again, logger });
  } finally {
    await next.close();
  }
  return next.events;
}

function assertOnce(sandbox, expected) {
  const uuids = sandbox.events.map((e) => e.uuid);
  assert.equal(new Set(uuids).size, uuids.length, 'no event arrived twice');
  assert.equal(sandbox.duplicates.length, 0, 'HubSpot was sent no event twice');
  const ids = sandbox.events.map((e) => Number(e.properties.n)).sort((a, b) => a - b);
  assert.deepEqual(ids, expected, 'exactly these events arrived');
}

const range = (n) => Array.from({ length: n }, (_, i) => i);

for (const batch of [false, true]) {
  test(`${batch ? 'batch' : 'single'} mode: SIGKILL after 2,000 pushes returned under 503s; the next process delivers all 2,000 exactly once`, { timeout: 120000 }, async () => {
    const { sandbox, stats } = await crashThenRestart({ count: 2000, batch });
    assertOnce(sandbox, range(2000));
    assert.equal(stats.replayed, 2000);
    assert.equal(stats.spooled, 0, 'every record is done');
  });
}

test('a journal whose last record was cut in half: the others all arrive, and a warning says so', { timeout: 120000 }, async () => {
  let cutAt;
  const { sandbox, second } = await crashThenRestart({
    count: 2000,
    cut(journal) {
      const text = fs.readFileSync(journal);
      assert.equal(text[text.length - 1], 0x0a, 'every record was whole when the pushes returned');
      const lastStart = text.lastIndexOf(0x0a, text.length - 2) + 1;
      cutAt = lastStart + Math.floor((text.length - lastStart) / 2);
      fs.truncateSync(journal, cutAt);
    },
  });
  // The cut record stands for a push that never returned: the last one.
  assertOnce(sandbox, range(1999));
  const warnings = logged(second, 'warn').filter((l) => /last record \(line \d+\) was cut short by a crash/.test(l.message));
  assert.equal(warnings.length, 1, second.stderr.slice(-1000));
  assert.deepEqual(logged(second, 'fatal'), []);
});

test('a record that cannot be read is reported and skipped; the others are sent', { timeout: 30000 }, async () => {
  const spool = tmpSpool();
  const uuid = (i) => `00000000-0000-5000-8000-00000000000${i}`;
  const record = (id) => JSON.stringify({ event: { id, input: { eventName: 'pe1_x', email: 'a@x.y', uuid: uuid(id), properties: { n: String(id) } } } });
  fs.writeFileSync(path.join(spool, 'journal'), [
    record(1),
    '{"event":{"id":2,"input":{"eventName":"pe1_x","email":"a@x.y","bogus":1,"properties":{}}}}',
    'not json',
    record(3),
    '{"done":[3]}',
    record(4),
    '',
  ].join('\n'));
  const sandbox = await startSandbox({ token: TOKEN });
  const errors = [];
  const config = { settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, spool } };
  try {
    const logger = { error: (m) => errors.push(m), warn() {}, info() {}, debug() {} };
    destinationHubspot.init({ config, env: {}, logger });
    await waitFor(() => sandbox.events.length >= 2, { timeout: 10000, what: 'the replayed events' });
    await destinationHubspot.destroy({ config, logger });
    assert.deepEqual(sandbox.events.map((e) => e.uuid).sort(), [uuid(1), uuid(4)]);
    assert.equal(errors.filter((m) => /journal's line 2 could not be read/.test(m)).length, 1, errors.join('\n'));
    assert.equal(errors.filter((m) => /journal's line 3 could not be read/.test(m)).length, 1, errors.join('\n'));
    assert.ok(!fs.existsSync(path.join(spool, 'lock')), 'the lock is released at shutdown');
  } finally {
    await sandbox.close();
  }
});

test('a second process on a live spool is refused at init; a stale lock is taken over', { timeout: 60000 }, async () => {
  const spool = tmpSpool();
  const sandbox = await startSandbox({ token: TOKEN });
  const config = () => ({ settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, spool } });
  const logger = { error() {}, warn() {}, info() {}, debug() {} };
  try {
    const holder = await run({ SANDBOX_URL: sandbox.url, SPOOL: spool, MODE: 'hold' }, { until: 'ready' }).ready;
    assert.ok(holder.stdout.includes('ready'), holder.stderr);
    assert.throws(
      () => destinationHubspot.init({ config: config(), env: {}, logger }),
      new RegExp(`settings.spool ".*" is in use by process ${holder.child.pid} \\(its lock file .*lock\\); give each running destination its own spool directory`),
    );
    await kill(holder);
    // The killed process left its lock behind: stale, so taken over.
    assert.equal(fs.readFileSync(path.join(spool, 'lock'), 'utf8').trim(), String(holder.child.pid));
    const live = config();
    destinationHubspot.init({ config: live, env: {}, logger });
    assert.equal(fs.readFileSync(path.join(spool, 'lock'), 'utf8').trim(), String(process.pid));
    // A second destination of this process on it is refused too.
    assert.throws(() => destinationHubspot.init({ config: config(), env: {}, logger }), /is in use by another destination in this process/);
    await destinationHubspot.destroy({ config: live, logger });
    assert.ok(!fs.existsSync(path.join(spool, 'lock')));
  } finally {
    await sandbox.close();
  }
});

test('spoolMaxBytes: beyond it the oldest events go to onDrop, with one warning', { timeout: 30000 }, async () => {
  const spool = tmpSpool();
  const sandbox = await startSandbox({ token: TOKEN });
  sandbox.setFaults({ status: { status: 503, count: 1e9 } });
  const dropped = [];
  const warnings = [];
  const { elb } = await startFlow({
    logger: { level: 1, handler: (level, message) => level === 1 && warnings.push(message) },
    destinations: { hubspot: { code: destinationHubspot, config: {
      settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, spool, spoolMaxBytes: 4096, shutdownTimeout: 0 },
      mapping: { order: { complete: { settings: { properties: { map: { n: 'data.n' } } } } } },
      env: { onDrop: (event, reason) => dropped.push({ event, reason }) },
    } } },
  });
  try {
    for (let i = 0; i < 40; i++) await elb({ name: 'order complete', id: `e${i}`, user: { email: 'a@x.y' }, data: { n: i } });
    // Those on their way count again once HubSpot's 503 sends them back.
    await waitFor(() => destinationHubspot.stats().retried > 0, { timeout: 10000, what: 'a retry' });
    const stats = destinationHubspot.stats();
    assert.ok(dropped.length > 10, `${dropped.length} dropped`);
    assert.ok(dropped.every((d) => d.reason === 'the spool was full'));
    // The oldest waiting went first (those on their way to HubSpot are
    // older still): what is left are the newest.
    const ns = dropped.map((d) => Number(d.event.properties.n));
    assert.equal(new Set(ns).size, ns.length);
    assert.ok(!ns.includes(39), 'the newest event is kept');
    assert.equal(stats.dropped.spool_full, dropped.length);
    assert.equal(warnings.filter((w) => /the spool is full \(settings.spoolMaxBytes 4096\)/.test(w)).length, 1);
    assert.ok(stats.spooled > 0 && stats.spooled + dropped.length === 40, JSON.stringify(stats));
  } finally {
    await elb('walker shutdown');
    await sandbox.close();
  }
});

test('compaction: once HubSpot took them, the journal holds no more than the records not done', { timeout: 60000 }, async () => {
  const spool = tmpSpool();
  const sandbox = await startSandbox({ token: TOKEN });
  const { elb } = await startFlow({
    logger: { level: 0, handler() {} },
    destinations: { hubspot: { code: destinationHubspot, config: {
      settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, spool },
    } } },
  });
  const journal = path.join(spool, 'journal');
  try {
    let written = 0;
    // In rounds HubSpot keeps up with, as in a steady flow.
    for (let i = 0; i < 1500; i++) {
      await elb({ name: 'order complete', id: `e${i}`, user: { email: `u${i}@x.y` }, data: { n: i, pad: 'x'.repeat(100) } });
      written = Math.max(written, fs.statSync(journal).size);
      if (i % 100 === 99) await waitFor(() => sandbox.events.length === i + 1, { timeout: 10000, what: `event ${i}` });
    }
    await waitFor(() => sandbox.events.length === 1500, { timeout: 30000, what: 'delivery' });
    await waitFor(() => destinationHubspot.stats().queued === 0, { timeout: 10000, what: 'the last answers' });
    const size = fs.statSync(journal).size;
    assert.ok(written < 150 * 1024, `the journal was compacted while in use (at most ${written} bytes, of 300 KiB written)`);
    assert.ok(size < 100 * 1024, `${size} bytes left`);
    assert.equal(destinationHubspot.stats().spooled, 0);
  } finally {
    await elb('walker shutdown');
    await sandbox.close();
  }
});

// write(2) failing (a full disk), and fsync(2) failing (an I/O error), each
// in both modes.
const failures = [
  ['writeSync', 'ENOSPC', 'no space left on device, write', 'a full disk'],
  ['fsyncSync', 'EIO', 'i/o error, fsync', 'an fsync that fails'],
];
for (const [call, code, text, what] of failures) {
  for (const batch of [false, true]) {
    test(`${batch ? 'batch' : 'single'} mode, ${what}: the push whose record cannot be written fails and says why; its event is still sent, once`, { timeout: 30000 }, async () => {
      const spool = tmpSpool();
      const sandbox = await startSandbox({ token: TOKEN });
      const config = { settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, spool, spoolSyncInterval: 0, batch, batchSize: 2 } };
      const logger = { error() {}, warn() {}, info() {}, debug() {} };
      const event = (i) => ({ name: 'order complete', entity: 'order', action: 'complete', id: `e${i}`, timestamp: 1700000000000, user: { email: 'a@x.y' }, data: {} });
      const push = (i) => destinationHubspot.push(event(i), { config, rule: undefined, data: undefined, env: {}, logger, collector: {} });
      const real = fs[call];
      try {
        destinationHubspot.init({ config, env: {}, logger });
        await push(0);
        fs[call] = () => {
          throw Object.assign(new Error(`${code}: ${text}`), { code });
        };
        let failure;
        try {
          await push(1);
        } catch (error) {
          failure = error;
        } finally {
          fs[call] = real;
        }
        assert.ok(failure, 'the push fails');
        assert.equal(failure.message.startsWith(`HubSpot destination: settings.spool could not be written: ${code}: ${text}; free disk space`), true, failure.message);
        await push(2);
        await push(3);
        await waitFor(() => sandbox.events.length >= 4, { timeout: 10000, what: 'all four events' });
        await waitFor(() => destinationHubspot.stats().spooled === 0, { timeout: 10000, what: 'every record done' });
        await destinationHubspot.destroy({ config, logger });
        assert.deepEqual(sandbox.events.map((e) => e.uuid).length, new Set(sandbox.events.map((e) => e.uuid)).size, 'each event once');
        assert.equal(sandbox.events.length, 4);
        // The journal is whole: every line it holds can be read.
        for (const line of fs.readFileSync(path.join(spool, 'journal'), 'utf8').split('\n').filter(Boolean)) JSON.parse(line);
      } finally {
        fs[call] = real;
        await sandbox.close();
      }
    });
  }
}

test('a journal write that fails after a send (not in a push) is logged, and what that send left queued is still retried on its own', { timeout: 30000 }, async () => {
  const spool = tmpSpool();
  const sandbox = await startSandbox({ token: TOKEN });
  // The contact upsert is taken (its record is done: a journal write), the
  // event is not yet (a retry): both in one send's report.
  sandbox.setFaults({ status: { status: 503, count: 1, only: '/events/v3/send' } });
  const config = { settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, spool, spoolSyncInterval: 0, identify: { map: { email: 'user.email', properties: { map: { firstname: { value: 'Jane' } } } } } } };
  const errors = [];
  const logger = { error: (message) => errors.push(message), warn() {}, info() {}, debug() {} };
  const real = fs.writeSync;
  try {
    destinationHubspot.init({ config, env: {}, logger });
    const event = { name: 'order complete', entity: 'order', action: 'complete', id: 'e1', timestamp: 1700000000000, user: { email: 'a@x.y' }, data: {} };
    await destinationHubspot.push(event, { config, rule: undefined, data: undefined, env: {}, logger, collector: {} });
    // The push's own record is written; the next write fails, once.
    fs.writeSync = () => {
      fs.writeSync = real;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    await waitFor(() => errors.length > 0, { timeout: 10000, what: 'the failed write logged' });
    assert.equal(sandbox.events.length, 0, 'the event was not taken yet');
    // No other push, flush or shutdown: only the send's own retry can deliver it.
    await waitFor(() => sandbox.events.length === 1, { timeout: 10000, what: 'the retried event' });
    assert.deepEqual(errors, ['HubSpot destination: settings.spool could not be written: ENOSPC: no space left on device, write; free disk space or fix the directory\'s permissions; delivery goes on while this process runs']);
    assert.equal(sandbox.contacts.size, 1, 'the contact was upserted');
  } finally {
    fs.writeSync = real;
    await destinationHubspot.destroy({ config, logger });
    await sandbox.close();
  }
});

// A record holds the event as HubSpot takes it, and besides that its
// definition's name and its properties' types, which a replay needs.
for (const prefix of [undefined, 'pe12345678_']) {
  test(`definitions "create", ${prefix ? 'the prefix given' : 'the prefix to be learned'}: what the spool replays keeps its name and its properties' types`, { timeout: 30000 }, async () => {
    const spool = tmpSpool();
    const sandbox = await startSandbox({ token: TOKEN, strictDefinitions: true });
    const errors = [];
    const dropped = [];
    const logger = { error: (m) => errors.push(m), warn() {}, info() {}, debug() {} };
    // Without eventNamePrefix the event's HubSpot name is not known when its
    // record is written. The property's type comes from its first value.
    const mapping = { order: { complete: { settings: { properties: { map: { revenue: 'data.revenue' } } } } } };
    const config = () => ({ settings: { accessToken: TOKEN, apiBase: sandbox.url, spool, eventNamePrefix: prefix, definitions: 'create', shutdownTimeout: 0 }, mapping });
    try {
      // HubSpot is down: nothing is created or sent before the shutdown.
      sandbox.setFaults({ status: { status: 503, count: 1e9, only: '/events/v3' } });
      const first = config();
      destinationHubspot.init({ config: first, env: {}, logger });
      const event = { name: 'order complete', entity: 'order', action: 'complete', id: 'e1', timestamp: 1700000000000, user: { email: 'a@x.y' }, data: { revenue: 42.5 } };
      await destinationHubspot.push(event, { config: first, rule: first.mapping.order.complete, env: {}, logger, collector: {} });
      await destinationHubspot.destroy({ config: first, logger });
      assert.equal(destinationHubspot.stats(first), undefined);
      sandbox.setFaults({});
      const second = config();
      destinationHubspot.init({ config: second, env: { onDrop: (e, reason) => dropped.push(reason) }, logger });
      await waitFor(() => sandbox.events.length > 0 || dropped.length > 0, { timeout: 10000, what: 'the replayed event' });
      await destinationHubspot.destroy({ config: second, logger });
      assert.deepEqual(dropped, []);
      assert.deepEqual(sandbox.events.map((e) => [e.eventName, e.properties]), [['pe12345678_order_complete', { revenue: '42.5' }]], errors.join('\n'));
      const response = await fetch(`${sandbox.url}/events/v3/event-definitions/order_complete`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const { properties } = await response.json();
      assert.deepEqual(properties.filter((p) => p.name === 'revenue').map((p) => p.type), ['number'], 'created with the type of its first value');
    } finally {
      await sandbox.close();
    }
  });
}

test('a compaction decided during a long send keeps the records pushed while that send went on: a SIGKILL after it loses none', { timeout: 60000 }, async () => {
  const spool = tmpSpool();
  const sandbox = await startSandbox({ token: TOKEN });
  const logger = { error() {}, warn() {}, info() {}, debug() {} };
  // HubSpot is down while 400 events queue up, then takes batch after
  // batch in one send. Its 7th request is held while 3 more events are
  // pushed, then fails, which ends the send: the 6 batches taken before
  // made most of the journal done records, so the send compacts it.
  let up = false;
  let sent = 0;
  let release;
  const held = new Promise((resolve) => (release = resolve));
  let holding = false;
  let answered = false;
  const fetch = async (url, init) => {
    if (!up) return new Response('{"message":"down"}', { status: 503 });
    if (++sent === 7) {
      holding = true;
      await held;
      answered = true;
      return new Response('{"message":"down"}', { status: 503 });
    }
    return globalThis.fetch(url, init);
  };
  const mapping = { order: { complete: { settings: { properties: { map: { n: 'data.n', pad: 'data.pad' } } } } } };
  const config = { settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, spool, batch: true, batchSize: 50, shutdownTimeout: 0 }, mapping };
  const event = (n) => ({ name: 'order complete', entity: 'order', action: 'complete', id: `e${n}`, timestamp: 1700000000000, user: { email: 'a@x.y' }, data: { n, pad: 'x'.repeat(300) } });
  const push = (n) => destinationHubspot.push(event(n), { config, rule: mapping.order.complete, env: { fetch }, logger, collector: {} });
  try {
    destinationHubspot.init({ config, env: { fetch }, logger });
    for (let n = 0; n < 400; n++) await push(n);
    up = true;
    await waitFor(() => holding, { timeout: 20000, what: 'the 7th request' });
    for (let n = 400; n < 403; n++) await push(n);
    release();
    await waitFor(() => answered, { timeout: 5000, what: 'the held request answered' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const taken = new Set(sandbox.events.map((e) => Number(e.properties.n)));
    for (const e of await afterSigkill(spool, logger)) taken.add(Number(e.properties.n));
    const lost = Array.from({ length: 403 }, (_, i) => i).filter((i) => !taken.has(i));
    assert.deepEqual(lost, [], `of 403 pushed, ${taken.size} in HubSpot before or after the crash`);
  } finally {
    release();
    await destinationHubspot.destroy({ config, logger });
    await sandbox.close();
  }
});

test('a compaction the disk takes only part of (write(2) short of the text, no error) leaves the journal as it was, and says why', { timeout: 60000 }, async () => {
  const spool = tmpSpool();
  const sandbox = await startSandbox({ token: TOKEN });
  const errors = [];
  const logger = { error: (m) => errors.push(m), warn() {}, info() {}, debug() {} };
  // HubSpot takes 6 batches of 50 of the 400 events queued while it was
  // down, then fails again: the send ends by compacting the journal to
  // the 100 left, of which the disk takes half.
  let up = false;
  let sent = 0;
  const fetch = async (url, init) => {
    if (!up || ++sent > 6) return new Response('{"message":"down"}', { status: 503 });
    return globalThis.fetch(url, init);
  };
  const mapping = { order: { complete: { settings: { properties: { map: { n: 'data.n', pad: 'data.pad' } } } } } };
  const config = { settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, spool, batch: true, batchSize: 50, shutdownTimeout: 0 }, mapping };
  const event = (n) => ({ name: 'order complete', entity: 'order', action: 'complete', id: `e${n}`, timestamp: 1700000000000, user: { email: 'a@x.y' }, data: { n, pad: 'x'.repeat(300) } });
  const real = fs.writeSync;
  try {
    destinationHubspot.init({ config, env: { fetch }, logger });
    for (let n = 0; n < 400; n++) await destinationHubspot.push(event(n), { config, rule: mapping.order.complete, env: { fetch }, logger, collector: {} });
    fs.writeSync = (fd, text, ...rest) => {
      if (typeof text !== 'string' || text.length < 10000) return real(fd, text, ...rest);
      return real(fd, text.slice(0, text.length / 2), ...rest);
    };
    up = true;
    await waitFor(() => sent > 6, { timeout: 20000, what: 'the failed 7th request' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    fs.writeSync = real;
    const written = errors.splice(0);
    const replayed = await afterSigkill(spool, logger);
    assert.deepEqual(errors, []);
    const taken = new Set([...sandbox.events, ...replayed].map((e) => Number(e.properties.n)));
    const lost = Array.from({ length: 400 }, (_, i) => i).filter((i) => !taken.has(i));
    assert.deepEqual(lost, [], `${taken.size} of 400 in HubSpot before or after the crash`);
    // Each compaction the disk cut short says so: the send hands its report
    // on between rounds, so there may be one per round.
    assert.ok(written.length >= 1, 'the cut compaction is logged');
    for (const message of written) assert.match(message, /settings\.spool could not be written: only part of the text was written \(is the disk full\?\)/);
  } finally {
    fs.writeSync = real;
    await destinationHubspot.destroy({ config, logger });
    await sandbox.close();
  }
});

test('a spool directory that cannot be made is an init error naming settings.spool and the fix', () => {
  const file = path.join(tmpSpool(), 'a-file');
  fs.writeFileSync(file, '');
  const logger = { error() {}, warn() {}, info() {}, debug() {} };
  for (const spool of [path.join(file, 'spool'), file]) {
    const config = { settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', spool } };
    assert.throws(
      () => destinationHubspot.init({ config, env: {}, logger }),
      /^Error: HubSpot destination: settings\.spool ".*" could not be used: E[A-Z]+: .*; give a directory this process can create and write to/,
    );
    assert.equal(destinationHubspot.stats(config), undefined);
  }
});

test('spoolMaxBytes filled by contact upserts (HubSpot\'s daily CRM limit used up): the oldest upserts make room, not the events HubSpot takes', { timeout: 30000 }, async () => {
  const spool = tmpSpool();
  const sandbox = await startSandbox({ token: TOKEN });
  sandbox.setFaults({ status: { status: 429, policy: 'DAILY', count: 1e9, only: '/crm/' } });
  const dropped = [];
  const errors = [];
  const logger = { error: (m) => errors.push(m), warn() {}, info() {}, debug() {} };
  const config = { settings: { accessToken: TOKEN, eventNamePrefix: 'pe1_', apiBase: sandbox.url, spool, spoolMaxBytes: 4096, batch: true, batchSize: 10, identify: { map: { email: 'user.email', properties: { map: { firstname: { value: 'Jane' } } } } } } };
  destinationHubspot.init({ config, env: { onDrop: (e, reason) => dropped.push(reason) }, logger });
  try {
    for (let i = 0; i < 200; i++) {
      const event = { name: 'order complete', entity: 'order', action: 'complete', id: `e${i}`, timestamp: 1700000000000, user: { email: `u${i}@x.y` }, data: {} };
      await destinationHubspot.push(event, { config, rule: undefined, data: undefined, env: {}, logger, collector: {} });
      // A steady flow: HubSpot's answers arrive between pushes.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await waitFor(() => sandbox.events.length + dropped.length === 200, { timeout: 10000, what: 'every event sent or dropped' });
    assert.deepEqual(dropped, [], `${dropped.length} events dropped, ${sandbox.events.length} sent`);
    // Unbounded, all 200 upserts would stay: a record is about 90 bytes.
    const { spooled } = destinationHubspot.stats(config);
    assert.ok(spooled < 4096 / 80, `${spooled} records kept`);
    assert.ok(errors.some((m) => /contact upserts given up on: the spool was full \(settings\.spoolMaxBytes 4096\); each contact is upserted again with its next event/.test(m)), errors.join('\n'));
  } finally {
    await destinationHubspot.destroy({ config, logger });
    await sandbox.close();
  }
});
