'use strict';

// A stand-in for the HubSpot endpoints the destination calls, on 127.0.0.1.
// It checks what HubSpot checks, answers in HubSpot's shapes and records
// everything it accepted, for the tests and the demo's summary.
//
//   const sandbox = await startSandbox({ token: 'test-token' });
//   ... point settings.apiBase at sandbox.url ...
//   sandbox.events, sandbox.upserts, sandbox.contacts, sandbox.requests
//
// Run on its own (`node tests/sandbox/hubspot.js [port]`) it prints its URL.

const http = require('node:http');
const crypto = require('node:crypto');

const NAME = /^[a-z][a-z0-9_]*$/;
const PREFIXED = /^pe\d+_(.*)$/;
const MAX_EVENT_BATCH = 500;
const MAX_CRM_BATCH = 100;
const MAX_PROPERTIES = 50;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

class Rejection extends Error {
  constructor(status, message, category = 'VALIDATION_ERROR') {
    super(message);
    this.status = status;
    this.category = category;
  }
}

function errorBody(status, message, category) {
  return {
    status: 'error',
    message,
    correlationId: crypto.randomUUID(),
    category,
  };
}

let poisoned = false;

function checkEvent(input, where) {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new Rejection(400, `${where} must be an object`);
  }
  if (typeof input.eventName !== 'string') {
    throw new Rejection(400, `${where}.eventName is required`);
  }
  const match = PREFIXED.exec(input.eventName);
  if (!match || !NAME.test(match[1])) {
    throw new Rejection(400, `Event name ${JSON.stringify(input.eventName)} is not valid: it must be pe{HubID}_ followed by a name matching ^[a-z][a-z0-9_]*$`);
  }
  if (!input.properties || typeof input.properties !== 'object' || Array.isArray(input.properties)) {
    throw new Rejection(400, `${where}.properties is required and must be an object`);
  }
  for (const [name, value] of Object.entries(input.properties)) {
    if (!NAME.test(name) || name.length > 50) {
      throw new Rejection(400, `Property name ${JSON.stringify(name)} is not valid`);
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new Rejection(400, `Property ${name} has a value of type ${value === null ? 'null' : typeof value}`);
    }
  }
  if (!input.email && !input.utk && !input.objectId) {
    throw new Rejection(400, `${where} needs one of email, utk or objectId`);
  }
  if (match[1].length > 50) {
    throw new Rejection(400, `Event name ${JSON.stringify(input.eventName)} is longer than 50 characters after the prefix`);
  }
  if (poisoned && input.properties.poison !== undefined) {
    throw new Rejection(400, `${where} was rejected: property poison is not allowed`);
  }
  if (Object.keys(input.properties).length > MAX_PROPERTIES) {
    throw new Rejection(400, `${where} has ${Object.keys(input.properties).length} properties; at most ${MAX_PROPERTIES} are allowed`);
  }
  if (input.occurredAt !== undefined && Number.isNaN(Date.parse(input.occurredAt))) {
    throw new Rejection(400, `${where}.occurredAt ${JSON.stringify(input.occurredAt)} is not a date-time`);
  }
}

async function startSandbox({ token = 'sandbox-token', port = 0, keepBodies = true } = {}) {
  poisoned = false;
  const state = {
    events: [], // accepted event occurrences, each with `via` ('send' | 'batch')
    rateLimited: [], // CRM calls answered 429 by the crmLimit window
    duplicates: [], // occurrences whose uuid was seen before for their event: not recorded
    uuids: new Set(),
    upserts: [], // accepted contact upsert inputs
    contacts: new Map(), // email (lowercased) -> { id, properties }
    requests: [], // { method, path, status, body }
    nextId: 1001,
  };

  // HubSpot keeps the first occurrence with a given uuid per event type and
  // rejects the others; the send itself still succeeds.
  function record(input, via) {
    if (input.uuid !== undefined) {
      const key = `${input.eventName} ${input.uuid}`;
      if (state.uuids.has(key)) {
        state.duplicates.push(input);
        return;
      }
      state.uuids.add(key);
    }
    state.events.push({ ...input, via });
  }

  function handle(method, path, headers, raw) {
    if (headers.authorization !== `Bearer ${token}`) {
      throw new Rejection(401, 'Authentication credentials not found. This API supports OAuth 2.0 authentication.', 'INVALID_AUTHENTICATION');
    }
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new Rejection(400, 'Invalid input JSON on line 1: the request body is not valid JSON');
    }
    if (method === 'POST' && path === '/events/v3/send') {
      checkEvent(body, 'body');
      record(body, 'send');
      return [204];
    }
    if (method === 'POST' && path === '/events/v3/send/batch') {
      if (!body || !Array.isArray(body.inputs)) throw new Rejection(400, 'inputs is required');
      if (body.inputs.length > MAX_EVENT_BATCH) {
        throw new Rejection(400, `Batch of ${body.inputs.length} events is over the limit of ${MAX_EVENT_BATCH}`);
      }
      body.inputs.forEach((input, i) => checkEvent(input, `inputs[${i}]`));
      for (const input of body.inputs) record(input, 'batch');
      return [204];
    }
    if (method === 'POST' && path === '/crm/v3/objects/contacts/batch/upsert') {
      if (!body || !Array.isArray(body.inputs)) throw new Rejection(400, 'inputs is required');
      if (body.inputs.length > MAX_CRM_BATCH) {
        throw new Rejection(400, `Batch of ${body.inputs.length} inputs is over the limit of ${MAX_CRM_BATCH}`);
      }
      const seen = new Set();
      for (const input of body.inputs) {
        if (input.idProperty !== 'email' || typeof input.id !== 'string' || !input.id) {
          throw new Rejection(400, 'Each input needs id and idProperty "email"');
        }
        const key = input.id.toLowerCase();
        if (seen.has(key)) throw new Rejection(400, `Duplicate IDs found in batch input: ${input.id}`);
        seen.add(key);
      }
      const now = new Date().toISOString();
      const results = [];
      const errors = [];
      for (const input of body.inputs) {
        if (!EMAIL.test(input.id)) {
          errors.push({
            status: 'error',
            category: 'VALIDATION_ERROR',
            message: `Property values were not valid: email ${JSON.stringify(input.id)} is not a valid email address`,
            context: { objectWriteTraceId: input.objectWriteTraceId === undefined ? [] : [String(input.objectWriteTraceId)] },
          });
          continue;
        }
        const key = input.id.toLowerCase();
        const existing = state.contacts.get(key);
        const contact = existing || { id: String(state.nextId++), properties: { email: input.id } };
        Object.assign(contact.properties, input.properties || {});
        state.contacts.set(key, contact);
        state.upserts.push(input);
        results.push({
          id: contact.id,
          properties: { ...contact.properties },
          new: !existing,
          createdAt: now,
          updatedAt: now,
          ...(input.objectWriteTraceId === undefined ? {} : { objectWriteTraceId: input.objectWriteTraceId }),
        });
      }
      const answer = { status: 'COMPLETE', results, startedAt: now, completedAt: now };
      if (errors.length) return [207, { ...answer, numErrors: errors.length, errors }];
      return [200, answer];
    }
    throw new Rejection(404, `No route for ${method} ${path}`, 'OBJECT_NOT_FOUND');
  }

  // Fault modes, set per test with `setFaults`. Each `count` is how many
  // requests (of the kinds it applies to) get the fault before it clears.
  let faults = {};
  let random = null;
  const crmWindow = [];

  function isCrm(path) {
    return path.startsWith('/crm/');
  }

  /** The fault for this request, if any: consumed from `faults`. */
  function takeFault(path) {
    const take = (key) => {
      const f = faults[key];
      if (!f || f.count <= 0 || (f.only && !path.startsWith(f.only))) return null;
      f.count -= 1;
      return { kind: key, ...f };
    };
    for (const key of ['reset', 'status', 'slow', 'malformed']) {
      const f = take(key);
      if (f) return f;
    }
    if (random && random.next() < random.rate) {
      const pick = random.kinds[Math.floor(random.next() * random.kinds.length)];
      return { ...pick };
    }
    return null;
  }

  /** A rolling window on CRM calls, as HubSpot's ten-secondly limit. */
  function crmLimited(now) {
    const limit = faults.crmLimit;
    if (!limit) return null;
    while (crmWindow.length && crmWindow[0] <= now - limit.intervalMs) crmWindow.shift();
    const headers = {
      'x-hubspot-ratelimit-max': String(limit.max),
      'x-hubspot-ratelimit-interval-milliseconds': String(limit.intervalMs),
    };
    if (crmWindow.length >= limit.max) {
      headers['x-hubspot-ratelimit-remaining'] = '0';
      return { over: true, headers };
    }
    crmWindow.push(now);
    headers['x-hubspot-ratelimit-remaining'] = String(limit.max - crmWindow.length);
    return { over: false, headers };
  }

  function rateLimitBody(policy) {
    return {
      status: 'error',
      message: `You have reached your ${policy.toLowerCase()} limit.`,
      errorType: 'RATE_LIMIT',
      correlationId: crypto.randomUUID(),
      policyName: policy,
      groupName: 'api',
    };
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url.split('?')[0];
      const raw = Buffer.concat(chunks).toString('utf8');
      let sent;
      try {
        sent = JSON.parse(raw);
      } catch {
        sent = raw;
      }
      // Control routes for a sandbox in another process (the benchmark).
      if (path === '/__sandbox/stats') {
        const byPath = {};
        for (const r of state.requests) byPath[r.path] = (byPath[r.path] || 0) + 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ events: state.events.length, upserts: state.upserts.length, requests: state.requests.length, byPath }),
        );
        return;
      }
      if (path === '/__sandbox/reset') {
        state.events.length = 0;
        state.upserts.length = 0;
        state.requests.length = 0;
        state.duplicates.length = 0;
        state.uuids.clear();
        state.contacts.clear();
        res.writeHead(204).end();
        return;
      }
      const fault = takeFault(path);
      const headers = { 'content-type': 'application/json' };
      const reply = (status, body) => {
        state.requests.push({ method: req.method, path, status, body: keepBodies ? sent : undefined, fault: fault && fault.kind });
        if (body === undefined) res.writeHead(status, headers).end();
        else res.writeHead(status, headers).end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      if (fault && fault.kind === 'reset') {
        state.requests.push({ method: req.method, path, status: 0, body: sent, fault: 'reset' });
        req.socket.destroy();
        return;
      }
      if (fault && fault.kind === 'status') {
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
        reply(fault.status, fault.status === 429 ? rateLimitBody(fault.policy || 'TEN_SECONDLY_ROLLING') : errorBody(fault.status, 'Internal error', 'INTERNAL_ERROR'));
        return;
      }
      if (isCrm(path)) {
        const limited = crmLimited(Date.now());
        if (limited) {
          Object.assign(headers, limited.headers);
          if (limited.over) {
            state.rateLimited.push(path);
            reply(429, rateLimitBody('TEN_SECONDLY_ROLLING'));
            return;
          }
        }
      }
      let status;
      let body;
      try {
        [status, body] = handle(req.method, path, req.headers, raw);
      } catch (error) {
        if (!(error instanceof Rejection)) throw error;
        status = error.status;
        body = errorBody(status, error.message, error.category);
      }
      if (fault && fault.kind === 'malformed') body = '{"status": "COMPLETE", "results": [';
      if (fault && fault.kind === 'slow') {
        // Processed, then answered too late: the client gives up and
        // retries, which the uuid must make harmless.
        setTimeout(() => reply(status, body), fault.ms);
        return;
      }
      reply(status, body);
    });
  });

  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address();

  return {
    url: `http://127.0.0.1:${actual}`,
    token,
    get events() {
      return state.events;
    },
    get upserts() {
      return state.upserts;
    },
    get duplicates() {
      return state.duplicates;
    },
    get rateLimited() {
      return state.rateLimited;
    },
    /**
     * Fault modes: `{ status: { status, count, policy?, retryAfter?, only? },
     * reset: { count }, slow: { ms, count }, malformed: { count },
     * crmLimit: { max, intervalMs }, poison: true, random: { seed, rate,
     * kinds } }`. `poison` rejects with 400 any event batch holding an
     * event whose properties have `poison`.
     */
    setFaults(next) {
      faults = JSON.parse(JSON.stringify({ ...next, random: undefined }));
      poisoned = Boolean(next.poison);
      if (next.random) {
        let a = next.random.seed >>> 0;
        const nextRandom = () => {
          a = (a + 0x6d2b79f5) >>> 0;
          let t = a;
          t = Math.imul(t ^ (t >>> 15), t | 1);
          t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
          return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        };
        random = { next: nextRandom, rate: next.random.rate, kinds: next.random.kinds };
      } else {
        random = null;
      }
    },
    get contacts() {
      return state.contacts;
    },
    get requests() {
      return state.requests;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { startSandbox };

if (require.main === module) {
  startSandbox({ port: Number(process.argv[2] || 0), token: process.env.SANDBOX_TOKEN, keepBodies: false }).then((sandbox) => {
    console.log(`HubSpot sandbox on ${sandbox.url} (token ${JSON.stringify(sandbox.token)})`);
  });
}
