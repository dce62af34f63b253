'use strict';

// The default HTTP client (pkg/dist/fetch.js): the part of fetch the core
// reads, over node:http and node:https with kept-alive connections.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const fs = require('node:fs');
const { execFile } = require('node:child_process');
const { fetch } = require('../../pkg/dist/fetch.js');

const CLIENT = path.join(__dirname, '../../pkg/dist/fetch.js');
const TLS = path.join(__dirname, 'fixtures/tls');

/** Runs `code` in a new Node process (10 s at most); resolves with what it
 * printed. */
function runNode(code, env = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', code], { env: { ...process.env, ...env }, timeout: 10000 }, (error, stdout) => resolve(stdout.trim()));
  });
}

function listening(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A node:http server on 127.0.0.1 counting the connections it accepted. */
async function serve(handler) {
  const server = await listening(http.createServer(handler));
  server.connections = 0;
  server.on('connection', () => (server.connections += 1));
  server.url = `http://127.0.0.1:${server.address().port}`;
  return server;
}

function close(server) {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function readBody(req) {
  return new Promise((resolve) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
  });
}

test('status, headers (case-insensitive) and body text; one connection for sequential requests', async () => {
  const server = await serve(async (req, res) => {
    const body = await readBody(req);
    res.writeHead(207, { 'Retry-After': '3', 'X-HubSpot-RateLimit-Max': '100', 'Set-Cookie': ['a=1', 'b=2'] });
    res.end(JSON.stringify({ method: req.method, url: req.url, auth: req.headers.authorization, length: req.headers['content-length'], xa: req.headers['x-a'], body }));
  });
  try {
    const bytes = new TextEncoder().encode('xünïx');
    for (const body of ['ünï', bytes.subarray(1, 6), bytes.buffer.slice(1, 6), new DataView(bytes.buffer, 1, 5)]) {
      const response = await fetch(`${server.url}/x?y=1`, { method: 'POST', headers: { authorization: 'Bearer t' }, body });
      assert.equal(response.status, 207);
      assert.equal(response.ok, true);
      assert.equal(response.headers.get('retry-after'), '3');
      assert.equal(response.headers.get('X-HubSpot-RateLimit-Max'), '100');
      assert.equal(response.headers.get('set-cookie'), 'a=1, b=2');
      assert.equal(response.headers.get('missing'), null);
      assert.deepEqual(JSON.parse(await response.text()), { method: 'POST', url: '/x?y=1', auth: 'Bearer t', length: '5', body: 'ünï' });
    }
    assert.equal(server.connections, 1, 'the connection is kept alive');
    for (const headers of [new Headers({ 'X-A': 'h' }), [['x-a', 'h']]]) {
      const echoed = JSON.parse(await (await fetch(`${server.url}/`, { method: 'post', headers })).text());
      assert.deepEqual([echoed.method, echoed.length, echoed.xa], ['POST', '0', 'h']);
    }
  } finally {
    await close(server);
  }
});

test('requests side by side each get their own answer; their connections are used again', async () => {
  const server = await serve((req, res) => {
    // Answered in reverse order of arrival.
    setTimeout(() => res.end(req.url), 40 - Number(req.url.slice(1)) * 5);
  });
  try {
    const texts = await Promise.all([1, 2, 3, 4, 5].map(async (i) => (await fetch(`${server.url}/${i}`, { method: 'POST', body: '{}' })).text()));
    assert.deepEqual(texts, ['/1', '/2', '/3', '/4', '/5']);
    const again = await Promise.all([1, 2, 3].map(async (i) => (await fetch(`${server.url}/${i}`)).text()));
    assert.deepEqual(again, ['/1', '/2', '/3']);
    assert.equal(server.connections, 5);
  } finally {
    await close(server);
  }
});

test('an error status is a response, not a rejection', async () => {
  const server = await serve((req, res) => {
    res.writeHead(429, { 'content-type': 'application/json' });
    res.end('{"policyName":"TEN_SECONDLY_ROLLING"}');
  });
  try {
    const response = await fetch(`${server.url}/`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 429);
    assert.equal(response.ok, false);
    assert.deepEqual(JSON.parse(await response.text()), { policyName: 'TEN_SECONDLY_ROLLING' });
  } finally {
    await close(server);
  }
});

test('https: certificates are verified, an untrusted one is refused', async () => {
  const server = https.createServer({ key: fs.readFileSync(path.join(TLS, 'key.pem')), cert: fs.readFileSync(path.join(TLS, 'cert.pem')) }, (req, res) => res.end(`secure ${req.url}`));
  await listening(server);
  const url = `https://127.0.0.1:${server.address().port}/s`;
  // NODE_EXTRA_CA_CERTS is read when a process starts.
  const fetchIn = (env) => runNode(
    `require(${JSON.stringify(CLIENT)}).fetch(${JSON.stringify(url)}).then(async (r) => console.log(r.status, await r.text()), (e) => console.log(e.message, e.cause && e.cause.code))`,
    env,
  );
  try {
    assert.equal(await fetchIn({ NODE_EXTRA_CA_CERTS: path.join(TLS, 'cert.pem') }), '200 secure /s');
    assert.equal(await fetchIn({ NODE_EXTRA_CA_CERTS: '' }), 'fetch failed DEPTH_ZERO_SELF_SIGNED_CERT');
  } finally {
    await close(server);
  }
});

test('a refused connection, a timeout and an abort reject with the reason, as fetch does', async () => {
  let stalled = 0;
  const server = await serve((req, res) => {
    // The head only, or nothing at all: the body never ends.
    if (req.url === '/head') res.writeHead(200, { 'content-length': '10' }).write('abc');
    stalled += 1;
  });
  const { port } = server.address();
  try {
    for (const where of ['/', '/head']) {
      const started = Date.now();
      await assert.rejects(
        fetch(`${server.url}${where}`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(50) }),
        (error) => error.name === 'TimeoutError' && /timeout/.test(error.message),
      );
      assert.ok(Date.now() - started < 2000);
    }
    assert.equal(stalled, 2);
    await assert.rejects(fetch(`${server.url}/`, { signal: AbortSignal.abort() }), (error) => error.name === 'AbortError');
  } finally {
    await close(server);
  }
  await assert.rejects(
    fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }),
    (error) => error.message === 'fetch failed' && error.cause.code === 'ECONNREFUSED',
  );
});

test('a response body over 16 MB is refused', async () => {
  const chunk = Buffer.alloc(1024 * 1024, 'a');
  const server = await serve((req, res) => {
    const write = (left) => (left === 0 ? res.end() : res.write(chunk, () => write(left - 1)));
    write(req.url === '/big' ? 17 : 16);
  });
  try {
    assert.equal((await (await fetch(`${server.url}/fits`)).text()).length, 16 * 1024 * 1024);
    await assert.rejects(fetch(`${server.url}/big`), (error) => error.message === 'fetch failed' && error.cause instanceof RangeError);
  } finally {
    await close(server);
  }
});

test('a header value with a line break is refused before anything is sent, without printing it', async () => {
  const server = await serve((req, res) => res.end());
  try {
    for (const headers of [{ authorization: 'Bearer secret\r\nX-Injected: 1' }, { authorization: 'Bearer secret\nX: 1' }, { 'bad name': 'secret' }]) {
      await assert.rejects(
        fetch(`${server.url}/`, { method: 'POST', headers, body: '{}' }),
        (error) => error instanceof TypeError && !String(error.message).includes('secret') && !String(error.stack).includes('secret'),
      );
    }
    await assert.rejects(fetch(`${server.url}/`, { method: 'GET /y HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET' }), TypeError);
    await assert.rejects(fetch('ftp://127.0.0.1/'), TypeError);
    await assert.rejects(fetch(`${server.url}/`, { method: 'POST', body: { not: 'bytes' } }), TypeError);
    assert.equal(server.connections, 0);
  } finally {
    await close(server);
  }
});

test('an idle kept-alive connection does not keep the process running', async () => {
  const server = await serve((req, res) => res.end('ok'));
  let open = 0;
  server.on('connection', (socket) => {
    open += 1;
    socket.on('close', () => (open -= 1));
  });
  try {
    const started = Date.now();
    // Two requests on one connection, which then idles in the pool.
    const code = `const { fetch } = require(${JSON.stringify(CLIENT)});
      const get = () => fetch(${JSON.stringify(`${server.url}/`)}).then((r) => r.text());
      get().then(get).then(console.log);`;
    const out = await runNode(code);
    assert.equal(out, 'ok');
    assert.ok(Date.now() - started < 3000, 'exits without waiting for the idle timeout (4 s) or the server (5 s)');
    assert.equal(server.connections, 1);
    assert.equal(open, 0, 'the connection closed as the process ended');
  } finally {
    await close(server);
  }
});
