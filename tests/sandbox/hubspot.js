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
  if (Object.keys(input.properties).length > MAX_PROPERTIES) {
    throw new Rejection(400, `${where} has ${Object.keys(input.properties).length} properties; at most ${MAX_PROPERTIES} are allowed`);
  }
  if (input.occurredAt !== undefined && Number.isNaN(Date.parse(input.occurredAt))) {
    throw new Rejection(400, `${where}.occurredAt ${JSON.stringify(input.occurredAt)} is not a date-time`);
  }
}

async function startSandbox({ token = 'sandbox-token', port = 0 } = {}) {
  const state = {
    events: [], // accepted event occurrences, each with `via` ('send' | 'batch')
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

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url.split('?')[0];
      let status;
      let body;
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        [status, body] = handle(req.method, path, req.headers, raw);
      } catch (error) {
        if (!(error instanceof Rejection)) throw error;
        status = error.status;
        body = errorBody(status, error.message, error.category);
      }
      let sent;
      try {
        sent = JSON.parse(raw);
      } catch {
        sent = raw;
      }
      state.requests.push({ method: req.method, path, status, body: sent });
      if (body === undefined) {
        res.writeHead(status).end();
      } else {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }
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
  startSandbox({ port: Number(process.argv[2] || 0) }).then((sandbox) => {
    console.log(`HubSpot sandbox on ${sandbox.url} (token ${JSON.stringify(sandbox.token)})`);
  });
}
