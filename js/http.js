'use strict';

// The default HTTP client: a `fetch`-shaped function over node:http(s)
// with keep-alive connections. Node's global fetch (undici) costs several
// times more CPU per request; `env.fetch` still replaces this one.

// Loaded on the first request: node:https pulls in TLS, which would
// otherwise double the package's cold start.
let clients;
function clientFor(protocol) {
  if (!clients) {
    const http = require('node:http');
    const https = require('node:https');
    clients = {
      'http:': { module: http, agent: new http.Agent({ keepAlive: true }) },
      'https:': { module: https, agent: new https.Agent({ keepAlive: true }) },
    };
  }
  return clients[protocol] || clients['http:'];
}

/** The part of fetch's Headers the core reads. */
class ResponseHeaders {
  constructor(raw) {
    this.raw = raw;
  }

  get(name) {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : String(value);
  }
}

/** `fetch(url, { method, headers, body, signal })` for what the core needs:
 * `status`, `headers.get()` and `text()`. */
function request(url, init = {}) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = clientFor(target.protocol);
    // Bytes from the core, written as they are; a string is encoded.
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
    const headers = { ...init.headers };
    if (body) headers['content-length'] = body.byteLength;
    const req = client.module.request(
      target,
      { method: init.method || 'GET', headers, agent: client.agent, signal: init.signal },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode, headers: new ResponseHeaders(res.headers), text: () => Promise.resolve(text) });
        });
      },
    );
    req.on('error', (error) => {
      const failed = new Error('fetch failed', { cause: error });
      reject(failed);
    });
    req.end(body);
  });
}

module.exports = { request };
