'use strict';

// The default HTTP client: the part of fetch the core reads (`status`, `ok`,
// `headers.get()`, `text()`), over Node's own node:https and node:http, so
// TLS, certificate checks and response parsing are Node's. `env.fetch`
// replaces it.

// HubSpot answers in kilobytes: a body beyond this is a fault, not an answer
// to hold in memory.
const MAX_BODY = 16 * 1024 * 1024;

// One pool of kept-alive connections per protocol, made on first use:
// node:https loads node:tls, which would double the package's cold start.
const clients = new Map();

function client(protocol) {
  let found = clients.get(protocol);
  if (!found) {
    const module = protocol === 'https:' ? require('node:https') : require('node:http');
    // The core sends a few requests side by side at most. The Agent unrefs
    // idle sockets (they never keep the process alive) and, after `timeout`,
    // closes them: servers drop idle keep-alive connections after a few
    // seconds, and a request sent on one they are closing fails.
    found = { module, agent: new module.Agent({ keepAlive: true, maxSockets: 16, timeout: 4000 }) };
    clients.set(protocol, found);
  }
  return found;
}

/** `fetch(url, { method, headers, body, signal })`, the body read whole
 * before it resolves. */
function fetch(url, { method = 'GET', headers, body, signal } = {}) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new TypeError(`unsupported protocol ${target.protocol}`);
    const { module, agent } = client(target.protocol);
    // A string or bytes: what the core and fetch's callers send.
    const data = body == null ? undefined : Buffer.from(ArrayBuffer.isView(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : body);
    // A plain object (what the core passes), or fetch's Headers and pairs.
    const fields = headers && typeof headers[Symbol.iterator] === 'function' ? Object.fromEntries(headers) : { ...headers };
    const options = { method, agent, signal, headers: fields };
    if (data !== undefined) options.headers['content-length'] = data.length;
    // As fetch rejects: with the signal's reason once aborted (a timeout's
    // says so), else "fetch failed" with the network's error as the cause.
    const fail = (cause) => reject(signal && signal.aborted ? signal.reason : new Error('fetch failed', { cause }));
    // Node refuses a header value holding a line break itself, naming the
    // header and not the value (which may be the token).
    const req = module.request(target, options, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (chunk) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          req.destroy();
          fail(new RangeError(`response body over ${MAX_BODY} bytes`));
        } else {
          chunks.push(chunk);
        }
      });
      res.on('error', fail);
      res.on('end', () => {
        const text = Buffer.concat(chunks, size).toString('utf8');
        resolve({
          status: res.statusCode,
          ok: res.statusCode >= 200 && res.statusCode < 300,
          headers: {
            get(name) {
              const value = res.headers[String(name).toLowerCase()];
              return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
            },
          },
          text: () => Promise.resolve(text),
        });
      });
    });
    req.on('error', fail);
    req.end(data);
  });
}

module.exports = { fetch };
