'use strict';

// The default HTTP client (pkg/dist/http.js): the part of fetch the core
// reads, over node:http(s) with keep-alive.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { request } = require('../../pkg/dist/http.js');

function serve(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler).listen(0, '127.0.0.1', () => resolve(server));
  });
}

test('status, headers (case-insensitive) and body text; one connection for many requests', async () => {
  const sockets = new Set();
  const server = await serve((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.writeHead(207, { 'Retry-After': '3', 'X-HubSpot-RateLimit-Max': '100' });
      res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, length: req.headers['content-length'], body }));
    });
  });
  const url = `http://127.0.0.1:${server.address().port}/x`;
  try {
    for (let i = 0; i < 3; i++) {
      const response = await request(url, { method: 'POST', headers: { authorization: 'Bearer t' }, body: 'ünï' });
      assert.equal(response.status, 207);
      assert.equal(response.headers.get('retry-after'), '3');
      assert.equal(response.headers.get('X-HubSpot-RateLimit-Max'), '100');
      assert.equal(response.headers.get('missing'), null);
      assert.deepEqual(JSON.parse(await response.text()), { method: 'POST', auth: 'Bearer t', length: '5', body: 'ünï' });
    }
    assert.equal(sockets.size, 1, 'the connection is kept alive');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('a refused connection and a timeout reject with the cause, as fetch does', async () => {
  const server = await serve(() => {});
  const { port } = server.address();
  try {
    const slow = request(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(50) });
    await assert.rejects(slow, (error) => error.message === 'fetch failed' && error.cause.name === 'AbortError');
  } finally {
    server.closeAllConnections();
    server.close();
  }
  await assert.rejects(request(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }), (error) => error.cause.code === 'ECONNREFUSED');
});
