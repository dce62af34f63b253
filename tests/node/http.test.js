'use strict';

// The default HTTP client (pkg/dist/http.js): the part of fetch the core
// reads, as HTTP/1.1 over kept-alive node:net and node:tls sockets.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');
const { execFile } = require('node:child_process');
const { request } = require('../../pkg/dist/http.js');
const { ResponseParser } = require('../../pkg/dist/http-response.js');

const CLIENT = path.join(__dirname, '../../pkg/dist/http.js');
const TLS = path.join(__dirname, 'fixtures/tls');

/** Runs `code` in a new Node process; resolves with what it printed. */
function runNode(code, env = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', code], { env: { ...process.env, ...env }, timeout: 10000 }, (error, stdout) => resolve(stdout.trim()));
  });
}

function listening(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function serve(handler) {
  return listening(http.createServer(handler));
}

/** A TCP server that answers each connection's requests with `answer(n,
 * socket)`, n counting requests over all connections. */
function raw(answer) {
  const state = { connections: 0, requests: 0 };
  const server = net.createServer((socket) => {
    state.connections += 1;
    let seen = '';
    socket.on('data', (chunk) => {
      seen += chunk.toString('latin1');
      // Requests here carry small bodies sent with the head.
      for (let end; (end = seen.indexOf('\r\n\r\n')) >= 0;) {
        const length = Number((/content-length: (\d+)/i.exec(seen.slice(0, end)) || [0, 0])[1]);
        if (seen.length < end + 4 + length) return;
        seen = seen.slice(end + 4 + length);
        state.requests += 1;
        answer(state.requests, socket);
      }
    });
    socket.on('error', () => {});
  });
  return listening(server).then(() => ({ server, state, url: `http://127.0.0.1:${server.address().port}/x` }));
}

function close(server) {
  if (server.closeAllConnections) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

test('status, headers (case-insensitive) and body text; one connection for many requests', async () => {
  const sockets = new Set();
  const server = await serve((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.writeHead(207, { 'Retry-After': '3', 'X-HubSpot-RateLimit-Max': '100' });
      res.end(JSON.stringify({ method: req.method, url: req.url, auth: req.headers.authorization, length: req.headers['content-length'], body }));
    });
  });
  const url = `http://127.0.0.1:${server.address().port}/x?y=1`;
  try {
    for (let i = 0; i < 3; i++) {
      const body = i === 1 ? new TextEncoder().encode('ünï') : 'ünï';
      const response = await request(url, { method: 'POST', headers: { authorization: 'Bearer t' }, body });
      assert.equal(response.status, 207);
      assert.equal(response.headers.get('retry-after'), '3');
      assert.equal(response.headers.get('X-HubSpot-RateLimit-Max'), '100');
      assert.equal(response.headers.get('missing'), null);
      assert.deepEqual(JSON.parse(await response.text()), { method: 'POST', url: '/x?y=1', auth: 'Bearer t', length: '5', body: 'ünï' });
    }
    assert.equal(sockets.size, 1, 'the connection is kept alive');
  } finally {
    await close(server);
  }
});

test('requests side by side each get their own answer', async () => {
  const sockets = new Set();
  const server = await serve((req, res) => {
    sockets.add(req.socket);
    // Answered in reverse order of arrival.
    setTimeout(() => res.end(req.url), 40 - Number(req.url.slice(1)) * 5);
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const texts = await Promise.all([1, 2, 3, 4, 5].map(async (i) => (await request(`${base}/${i}`)).text()));
    assert.deepEqual(texts, ['/1', '/2', '/3', '/4', '/5']);
    const again = await Promise.all([1, 2, 3].map(async (i) => (await request(`${base}/${i}`)).text()));
    assert.deepEqual(again, ['/1', '/2', '/3']);
    assert.equal(sockets.size, 5, 'idle connections are used again');
  } finally {
    await close(server);
  }
});

test('a chunked body with trailers, and a body that ends with the connection', async () => {
  const sockets = new Set();
  const server = await serve((req, res) => {
    sockets.add(req.socket);
    res.writeHead(200, { 'Content-Type': 'application/json', Trailer: 'X-Done' });
    res.write('{"status":');
    setTimeout(() => {
      res.addTrailers({ 'X-Done': 'yes' });
      res.end('"error","message":"ä"}');
    }, 5);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  try {
    for (let i = 0; i < 2; i++) {
      const response = await request(url, { method: 'POST', body: '{}' });
      assert.deepEqual(JSON.parse(await response.text()), { status: 'error', message: 'ä' });
    }
    assert.equal(sockets.size, 1, 'a chunked response leaves the connection usable');
  } finally {
    await close(server);
  }

  const untilClose = await raw((n, socket) => socket.end('HTTP/1.1 500 Oops\r\ncontent-type: text/plain\r\n\r\nbody until close'));
  try {
    for (let i = 0; i < 2; i++) {
      const response = await request(untilClose.url, { method: 'POST', body: '{}' });
      assert.equal(response.status, 500);
      assert.equal(await response.text(), 'body until close');
    }
    assert.equal(untilClose.state.connections, 2, 'such a connection is not used again');
  } finally {
    await close(untilClose.server);
  }
});

test('the parser reads a response however its bytes are split', () => {
  const response = Buffer.from(
    'HTTP/1.1 100 Continue\r\n\r\n'
      + 'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nX-A: 1\r\nx-a: 2\r\nTransfer-Encoding: chunked\r\n\r\n'
      + '4;ext=1\r\n{"a"\r\n'
      + 'A\r\n:"ü",  "b\r\n'
      + '4\r\n":1}\r\n'
      + '0\r\nX-Trailer: t\r\n\r\n',
  );
  for (let cut = 0; cut <= response.length; cut++) {
    const halves = [response.subarray(0, cut), response.subarray(cut)].filter((piece) => piece.length > 0);
    for (const pieces of [halves, [...response].map((b) => Buffer.of(b))]) {
      const parser = new ResponseParser('POST');
      const complete = pieces.map((piece) => parser.feed(piece));
      assert.equal(complete.at(-1), true, `complete at the last piece (cut ${cut})`);
      assert.equal(complete.slice(0, -1).includes(true), false, `not complete before (cut ${cut})`);
      assert.equal(parser.status, 429);
      assert.equal(parser.headers['retry-after'], '2');
      assert.equal(parser.headers['x-a'], '1, 2');
      assert.deepEqual(JSON.parse(parser.text()), { a: 'ü', b: 1 });
      assert.equal(parser.reusable, true);
      if (pieces.length > 2) break;
    }
  }

  const lengthOnly = new ResponseParser('POST');
  assert.equal(lengthOnly.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhel')), false);
  assert.equal(lengthOnly.feed(Buffer.from('lo')), true);
  assert.equal(lengthOnly.text(), 'hello');
  assert.equal(lengthOnly.reusable, false, 'Connection: close');

  const noBody = new ResponseParser('POST');
  assert.equal(noBody.feed(Buffer.from('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n')), true);
  assert.equal(noBody.text(), '');
  const head = new ResponseParser('HEAD');
  assert.equal(head.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n')), true);
});

test('a malformed response rejects with the reason, and its connection is closed', async () => {
  const cases = [
    'garbage\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\n folded: header\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA',
    'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort',
    // Ways to hide or double a body's framing.
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n',
    'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok',
    'HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 2\r\n\r\nok',
    // A success whose end cannot be told from a cut connection.
    'HTTP/1.1 200 OK\r\n\r\n{"partial":short',
  ];
  for (const reply of cases) {
    const { server, url } = await raw((n, socket) => (reply.endsWith('short') ? socket.end(reply) : socket.write(reply)));
    try {
      await assert.rejects(
        request(url, { method: 'POST', body: '{}' }),
        (error) => error.message === 'fetch failed' && /malformed HTTP response/.test(error.cause.message),
        JSON.stringify(reply),
      );
    } finally {
      await close(server);
    }
  }
});

test('a kept-alive connection the server closed is replaced, once', async () => {
  // Closes idle connections soon, as servers do.
  const closing = await raw((n, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    setTimeout(() => socket.end(), 10);
  });
  try {
    assert.equal(await (await request(closing.url)).text(), 'ok');
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(await (await request(closing.url)).text(), 'ok');
    assert.equal(closing.state.connections, 2);
  } finally {
    await close(closing.server);
  }

  // The server drops the second request on the kept-alive connection
  // without a word (the race of a close in flight): sent again on a new one.
  const racing = await raw((n, socket) => (n === 2 ? socket.destroy() : socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n' + n)));
  try {
    assert.equal(await (await request(racing.url, { method: 'POST', body: '{}' })).text(), '1');
    assert.equal(await (await request(racing.url, { method: 'POST', body: '{}' })).text(), '3');
    assert.equal(racing.state.connections, 2);
  } finally {
    await close(racing.server);
  }

  // A server that never answers: no endless retrying.
  const silent = await raw((n, socket) => (n === 1 ? socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n') : socket.destroy()));
  try {
    await request(silent.url, { method: 'POST', body: '{}' });
    await assert.rejects(
      request(silent.url, { method: 'POST', body: '{}' }),
      (error) => error.message === 'fetch failed' && /closed before the response was complete/.test(error.cause.message),
    );
    assert.equal(silent.state.requests, 3, 'the first request, and the second sent twice');
  } finally {
    await close(silent.server);
  }
});

test('the retry after a dropped kept-alive connection goes on a new one, whatever else is idle', async () => {
  // Three connections kept; then the server drops every request on them.
  let dropping = false;
  const fresh = new Set();
  const server = await raw((n, socket) => {
    if (dropping && !fresh.has(socket)) {
      socket.destroy();
      return;
    }
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${String(n).length}\r\n\r\n${n}`);
  });
  try {
    await Promise.all([1, 2, 3].map(() => request(server.url, { method: 'POST', body: '{}' })));
    assert.equal(server.state.connections, 3);
    dropping = true;
    server.server.on('connection', (socket) => fresh.add(socket));
    const response = await request(server.url, { method: 'POST', body: '{}' });
    assert.equal(response.status, 200);
    assert.equal(server.state.connections, 4, 'one new connection');
  } finally {
    await close(server.server);
  }
});

test('bodies and headers in the forms fetch takes; lower-case methods', async () => {
  const seen = [];
  const server = await serve((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push([req.method, req.headers['content-length'], req.headers['x-a'], body]);
      res.end('ok');
    });
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  try {
    const bytes = new TextEncoder().encode('xbytesx');
    for (const body of [bytes.buffer.slice(1, 6), new DataView(bytes.buffer, 1, 5), bytes.subarray(1, 6)]) {
      await request(url, { method: 'post', body, headers: new Headers({ 'X-A': 'h' }) });
    }
    await request(url, { method: 'POST', headers: [['x-a', 'pairs']] });
    assert.deepEqual(seen, [
      ['POST', '5', 'h', 'bytes'],
      ['POST', '5', 'h', 'bytes'],
      ['POST', '5', 'h', 'bytes'],
      ['POST', '0', 'pairs', ''],
    ]);
    await assert.rejects(request(url, { method: 'POST', body: { not: 'bytes' } }), TypeError);
    // A timeout setTimeout cannot hold does not fire at once.
    assert.equal(await (await request(url, { timeout: 2 ** 40 })).text(), 'ok');
  } finally {
    await close(server);
  }
});

test('a header value with a line break is refused before anything is sent, without printing it', async () => {
  const { server, state, url } = await raw((n, socket) => socket.write('HTTP/1.1 204 No Content\r\n\r\n'));
  try {
    for (const headers of [{ authorization: 'Bearer secret\r\nX-Injected: 1' }, { 'bad name': 'x' }]) {
      await assert.rejects(request(url, { method: 'POST', headers, body: '{}' }), (error) => error instanceof TypeError && !error.message.includes('secret'));
    }
    await assert.rejects(request(url, { method: 'GET /y HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET' }), TypeError);
    await assert.rejects(request('ftp://127.0.0.1/', {}), TypeError);
    assert.equal(state.connections, 0);
    assert.equal((await request(url, { method: 'POST', body: '{}' })).status, 204);
  } finally {
    await close(server);
  }
});

test('a refused connection and a timeout reject with the cause, as fetch does', async () => {
  const server = await serve(() => {});
  const { port } = server.address();
  try {
    const slow = request(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(50) });
    await assert.rejects(slow, (error) => error.message === 'fetch failed' && error.cause.name === 'AbortError' && /timed out/.test(error.cause.message));
    const timedOut = request(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}', timeout: 50 });
    await assert.rejects(timedOut, (error) => error.message === 'fetch failed' && error.cause.name === 'AbortError' && /timed out/.test(error.cause.message));
    const signal = AbortSignal.abort();
    await assert.rejects(request(`http://127.0.0.1:${port}/`, { signal }), (error) => error.cause.name === 'AbortError');
  } finally {
    await close(server);
  }
  await assert.rejects(request(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }), (error) => error.cause.code === 'ECONNREFUSED');
});

test('https: certificates are verified, and the name is sent for SNI', async () => {
  let servername;
  const server = https.createServer({ key: fs.readFileSync(path.join(TLS, 'key.pem')), cert: fs.readFileSync(path.join(TLS, 'cert.pem')) }, (req, res) => {
    servername = req.socket.servername;
    res.end(`secure ${req.url}`);
  });
  await listening(server);
  const url = `https://localhost:${server.address().port}/s`;
  // NODE_EXTRA_CA_CERTS is read when a process starts.
  const fetchIn = (env) => runNode(
    `require(${JSON.stringify(CLIENT)}).request(${JSON.stringify(url)}).then(async (r) => console.log(r.status, await r.text()), (e) => console.log('rejected', e.cause && e.cause.code))`,
    env,
  );
  try {
    assert.equal(await fetchIn({ NODE_EXTRA_CA_CERTS: path.join(TLS, 'cert.pem') }), '200 secure /s');
    assert.equal(servername, 'localhost');
    assert.equal(await fetchIn({ NODE_EXTRA_CA_CERTS: '' }), 'rejected DEPTH_ZERO_SELF_SIGNED_CERT');
  } finally {
    await close(server);
  }
});

test('an idle connection does not keep the process running', async () => {
  const server = await serve((req, res) => res.end('ok'));
  const url = `http://127.0.0.1:${server.address().port}/`;
  try {
    const started = Date.now();
    const out = await runNode(`require(${JSON.stringify(CLIENT)}).request(${JSON.stringify(url)}).then((r) => r.text()).then(console.log)`);
    assert.equal(out, 'ok');
    assert.ok(Date.now() - started < 3000, 'exits without waiting for the idle timeout');
  } finally {
    await close(server);
  }
});
