'use strict';

// The default HTTP client: the part of `fetch` the core uses (`status`,
// `headers.get()`, `text()`), as HTTP/1.1 over kept-alive node:net and
// node:tls sockets. node:http's machinery (ClientRequest, Agent, llhttp,
// its events) costs about three times the CPU per request for what this
// does; Node's global fetch (undici) more still. `env.fetch` replaces it.


// Idle connections kept per origin: the core sends a few requests side by
// side at most.
const MAX_IDLE = 8;
// An idle connection is closed after this long: servers close idle
// keep-alive connections after a few seconds, and a request sent on one
// they are closing fails.
const IDLE_MS = 4000;

// What a request line and header may hold: visible ASCII, spaces and tabs.
// A line break would let a value inject headers of its own.
const UNSAFE = /[^\t\x20-\x7e]/;

// Loaded on the first request: node:tls would otherwise double the
// package's cold start, and a destination that never sends needs none.
let net;
let tls;
let ResponseParser;

/** Idle connections by origin. */
const idle = new Map();

class Response {
  constructor(parser) {
    this.status = parser.status;
    this.headers = new ResponseHeaders(parser.headers);
    this.body = parser.text();
  }

  text() {
    return Promise.resolve(this.body);
  }
}

/** The part of fetch's Headers the core reads. */
class ResponseHeaders {
  constructor(raw) {
    this.raw = raw;
  }

  get(name) {
    const value = this.raw[String(name).toLowerCase()];
    return value === undefined ? null : value;
  }
}

/** A rejection as fetch's: "fetch failed", the reason in `cause`. */
function failed(cause) {
  return new Error('fetch failed', { cause });
}

/** Why a request was stopped (`reason`: its signal's, or the timeout's). */
function aborted(reason) {
  const timedOut = reason && reason.name === 'TimeoutError';
  const error = new Error(timedOut ? 'the request timed out' : 'the request was aborted', { cause: reason });
  error.name = 'AbortError';
  return error;
}

/** The request line and headers, or a TypeError naming what is unsafe
 * (never its value: it may be the access token). */
function requestHead(method, target, headers, length) {
  const path = `${target.pathname}${target.search}`;
  if (!/^[A-Z]+$/.test(method) || UNSAFE.test(path) || path.includes(' ')) {
    throw new TypeError('invalid request method or URL');
  }
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  // A plain object, or fetch's other forms (Headers, [name, value] pairs).
  const pairs = headers && typeof headers[Symbol.iterator] === 'function' ? headers : Object.entries(headers || {});
  for (const [name, raw] of pairs) {
    const value = String(raw);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    if (UNSAFE.test(value)) throw new TypeError(`invalid character in the value of header ${JSON.stringify(name)}`);
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding') continue;
    head += `${name}: ${value}\r\n`;
  }
  if (length !== undefined) head += `content-length: ${length}\r\n`;
  return `${head}\r\n`;
}

/** A request body as bytes: a string as UTF-8, bytes as they are (a
 * Buffer, a typed array or DataView, an ArrayBuffer). */
function bodyBytes(body) {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('a request body must be a string or bytes');
}

/** One socket to an origin and the exchange on it, if any. */
class Connection {
  constructor(origin, target) {
    this.origin = origin;
    this.exchange = undefined;
    this.reused = false;
    const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
    // URL keeps an IPv6 host in brackets.
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    if (target.protocol === 'https:') {
      tls = tls || require('node:tls');
      net = net || require('node:net');
      // SNI takes a name, not an address.
      const servername = net.isIP(host) ? undefined : host;
      this.socket = tls.connect({ host, port, servername, ALPNProtocols: ['http/1.1'] });
    } else {
      net = net || require('node:net');
      this.socket = net.connect({ host, port });
    }
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (error) => this.onEnd(error));
    this.socket.on('close', () => this.onEnd(undefined));
    this.socket.on('timeout', () => this.socket.destroy());
  }

  /** Sends a request; `exchange` is told how it ends. */
  start(head, body, exchange) {
    this.exchange = exchange;
    this.socket.setTimeout(0);
    // In flight, the connection keeps Node running, as node:http's does.
    this.socket.ref();
    this.socket.cork();
    this.socket.write(head, 'latin1');
    if (body !== undefined && body.length > 0) this.socket.write(body);
    this.socket.uncork();
  }

  onData(chunk) {
    const { exchange } = this;
    if (!exchange) {
      // Nothing was asked: a server speaking out of turn.
      this.socket.destroy();
      return;
    }
    let complete;
    try {
      complete = exchange.parser.feed(chunk);
    } catch (error) {
      this.finish(error);
      return;
    }
    if (complete) this.finish(undefined);
  }

  /** The socket failed or closed (`error` undefined). */
  onEnd(error) {
    removeIdle(this);
    const { exchange } = this;
    if (!exchange) return;
    if (error === undefined) {
      try {
        exchange.parser.end();
      } catch (notComplete) {
        this.finish(notComplete);
        return;
      }
      this.finish(undefined);
    } else {
      this.finish(error);
    }
  }

  finish(error) {
    const { exchange } = this;
    this.exchange = undefined;
    if (error === undefined && exchange.parser.reusable && !this.socket.destroyed) {
      this.release();
    } else {
      this.socket.destroy();
    }
    exchange.done(error, this.reused && !exchange.parser.started);
  }

  /** Keeps the connection for the next request to its origin. */
  release() {
    this.reused = true;
    this.socket.unref();
    this.socket.setTimeout(IDLE_MS);
    let list = idle.get(this.origin);
    if (!list) {
      list = [];
      idle.set(this.origin, list);
    }
    list.push(this);
    if (list.length > MAX_IDLE) list.shift().socket.destroy();
  }
}

function removeIdle(connection) {
  const list = idle.get(connection.origin);
  const at = list ? list.indexOf(connection) : -1;
  if (at >= 0) list.splice(at, 1);
  if (list && list.length === 0) idle.delete(connection.origin);
}

/** An idle connection to the origin, or a new one. */
function connectionTo(origin, target) {
  const list = idle.get(origin);
  while (list && list.length > 0) {
    const connection = list.pop();
    if (!connection.socket.destroyed) return connection;
  }
  return new Connection(origin, target);
}

/** `fetch(url, { method, headers, body, signal, timeout })` for what the
 * core needs: `status`, `headers.get()` and `text()`. The body is read
 * whole. `timeout` (milliseconds, not fetch's) aborts the request as an
 * `AbortSignal.timeout` would, with one timer and no signal. */
function request(url, init = {}) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new TypeError(`unsupported protocol ${target.protocol}`);
    }
    const method = String(init.method || 'GET').toUpperCase();
    const body = bodyBytes(init.body);
    // A request that may carry a body says how long it is, even when empty.
    const length = body !== undefined ? body.length : /^(POST|PUT|PATCH)$/.test(method) ? 0 : undefined;
    const head = requestHead(method, target, init.headers, length);
    const { signal, timeout } = init;
    if (signal && signal.aborted) throw failed(aborted(signal.reason));
    const origin = `${target.protocol}//${target.host}`;
    let connection;
    let onAbort;
    let timer;
    const stop = (reason) => {
      const current = connection;
      if (!current || !current.exchange) return;
      const { exchange } = current;
      current.exchange = undefined;
      current.socket.destroy();
      exchange.done(aborted(reason), false);
    };
    ResponseParser = ResponseParser || require('./http-response.js').ResponseParser;
    const attempt = (retry) => {
      // The retry goes on a new connection: the idle ones may be as stale.
      connection = retry ? connectionTo(origin, target) : new Connection(origin, target);
      const parser = new ResponseParser(method);
      connection.start(head, body, {
        parser,
        done(error, unanswered) {
          if (error !== undefined && retry && unanswered) {
            // A kept-alive connection the server closed before reading
            // the request: once more on a new one.
            attempt(false);
            return;
          }
          if (signal) signal.removeEventListener('abort', onAbort);
          clearTimeout(timer);
          if (error !== undefined) reject(failed(error));
          else resolve(new Response(parser));
        },
      });
    };
    if (signal) {
      onAbort = () => stop(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    if (typeof timeout === 'number' && timeout > 0 && timeout !== Infinity) {
      // setTimeout takes at most 2^31 - 1 ms (longer fires at once).
      timer = setTimeout(() => stop(new DOMException('the request timed out', 'TimeoutError')), Math.min(timeout, 2 ** 31 - 1));
    }
    attempt(true);
  });
}

module.exports = { request };
