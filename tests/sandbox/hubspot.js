'use strict';

// A stand-in for the HubSpot endpoints the destination calls, on 127.0.0.1.
// It checks what HubSpot checks, answers in HubSpot's shapes and records
// everything it accepted, for the tests and the demo's summary.
//
//   const sandbox = await startSandbox({ token: 'test-token' });
//   ... point settings.apiBase at sandbox.url ...
//   sandbox.events, sandbox.upserts, sandbox.contacts, sandbox.requests
//
// Beyond the send and upsert endpoints it serves the event definitions API
// (/events/v3/event-definitions), the OAuth refresh grant (/oauth/…/token)
// and notes retries that come before a Retry-After it gave. The API facts
// behind them are in /work/shared/HUBSPOT-DEFINITIONS-OAUTH.md; startSandbox's
// comment lists every option.
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

// The hub id the tests' event-name prefix (pe12345678_ in helpers.js) names.
const DEFAULT_HUB_ID = 12345678;

class Rejection extends Error {
  /** `extra` fields (errors, context, links, subCategory) join the body. */
  constructor(status, message, category = 'VALIDATION_ERROR', extra = {}) {
    super(message);
    this.status = status;
    this.category = category;
    this.extra = extra;
  }
}

function errorBody(status, message, category, extra = {}) {
  return {
    status: 'error',
    message,
    correlationId: crypto.randomUUID(),
    category,
    ...extra,
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

// ---------------------------------------------------------------------------
// Event definitions (/events/v3/event-definitions), after the spec's
// ExternalBehavioralEventTypeDefinition shapes.

const DEFINITIONS_PATH = '/events/v3/event-definitions';
// …/event-definitions[/{eventName}[/property]], a trailing slash allowed: the
// Segment and PostHog clients call `…/{name}/?includeProperties=true`.
const DEFINITION_ROUTE = /^\/events\/v3\/event-definitions(?:\/([^/]+)(\/property)?)?\/?$/;
const EVENT_NAME = /^[a-z][a-z0-9_]{0,49}$/;
const PROPERTY_TYPES = new Set(['string', 'number', 'enumeration', 'datetime']);
const FIELD_TYPES = { string: 'text', number: 'number', enumeration: 'select', datetime: 'date' };
const PRIMARY_OBJECTS = { CONTACT: '0-1', COMPANY: '0-2', DEAL: '0-3', TICKET: '0-5' };
const MAX_DEFINITIONS = 500; // per account
const MAX_LABEL = 100;
const MAX_PROPERTY_NAME = 50;
const MISSING_SCOPES = {
  message: "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
  errors: [
    {
      message: 'One or more of the following scopes are required.',
      context: { requiredGranularScopes: ['behavioral_events.event_definitions.read_write'] },
    },
  ],
  links: { scopes: 'https://developers.hubspot.com/scopes' },
};

/** A name HubSpot would derive from a label when `name` is absent. */
function nameFromLabel(label) {
  return label.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^[^a-z]+/, '').slice(0, 50);
}

/** Checks an ExternalBehavioralEventPropertyCreate and returns the stored
 * Property. Enumeration option values are kept as strings, as the spec types
 * them, though Segment and PostHog send booleans (accepted, as in production). */
function makeProperty(input, where) {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new Rejection(400, `${where} must be an object`);
  if (typeof input.label !== 'string' || !input.label) throw new Rejection(400, `${where}.label is required`);
  if (!PROPERTY_TYPES.has(input.type)) {
    throw new Rejection(400, `${where}.type ${JSON.stringify(input.type)} is not valid: it can be one of the following: [string, number, enumeration, datetime]`);
  }
  const name = input.name === undefined ? nameFromLabel(input.label) : input.name;
  if (typeof name !== 'string' || !NAME.test(name) || name.length > MAX_PROPERTY_NAME) {
    throw new Rejection(400, `${where}.name ${JSON.stringify(name)} is not valid: it must match ^[a-z][a-z0-9_]*$ and be at most ${MAX_PROPERTY_NAME} characters`);
  }
  if (input.label.length > MAX_PROPERTY_NAME) throw new Rejection(400, `${where}.label is longer than ${MAX_PROPERTY_NAME} characters`);
  const options = input.options === undefined ? [] : input.options;
  if (!Array.isArray(options)) throw new Rejection(400, `${where}.options must be an array`);
  if (input.type === 'enumeration' && options.length === 0) throw new Rejection(400, `${where}: an enumeration property needs options`);
  return {
    name,
    label: input.label,
    type: input.type,
    fieldType: FIELD_TYPES[input.type],
    groupName: 'event_properties',
    description: typeof input.description === 'string' ? input.description : '',
    options: options.map((option, i) => makeOption(option, `${where}.options[${i}]`)),
    archived: false,
    hidden: false,
    hubspotDefined: false,
    createdAt: new Date().toISOString(),
  };
}

function makeOption(option, where) {
  if (!option || typeof option !== 'object') throw new Rejection(400, `${where} must be an object`);
  if (typeof option.label !== 'string' || !option.label) throw new Rejection(400, `${where}.label is required`);
  if (option.value === undefined || option.value === null || typeof option.value === 'object') {
    throw new Rejection(400, `${where}.value is required`);
  }
  return {
    label: option.label,
    value: String(option.value),
    displayOrder: Number.isInteger(option.displayOrder) ? option.displayOrder : -1,
    hidden: option.hidden === true,
    ...(typeof option.description === 'string' ? { description: option.description } : {}),
  };
}

function decodePathSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new Rejection(400, `The path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
}

/** Does `value` (as sent in an occurrence's properties) fit `property`? */
function fits(property, value) {
  switch (property.type) {
    case 'string':
      // Properties are map<string,string> in the spec; scalars are sent as text.
      return true;
    case 'number':
      if (typeof value === 'number') return Number.isFinite(value);
      return typeof value === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value);
    case 'datetime':
      // ISO 8601 or a ms epoch (a number or a string of digits).
      if (typeof value === 'number') return Number.isInteger(value);
      if (typeof value !== 'string') return false;
      if (/^\d+$/.test(value)) return true;
      return /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) && !Number.isNaN(Date.parse(value));
    case 'enumeration':
      return property.options.some((option) => option.value === String(value));
    default:
      return false;
  }
}

function describeType(property) {
  if (property.type !== 'enumeration') return property.type;
  return `enumeration with options [${property.options.map((o) => o.value).join(', ')}]`;
}

/**
 * The account's event definitions. `missingStatus` is what an unknown
 * definition answers on GET and property POST: 400 by default, as in
 * Segment's fixture copied from HubSpot; 404 lets a test prove a client
 * treats both as "not found".
 */
function createDefinitions({ hubId, missingStatus }) {
  const byName = new Map(); // short name -> definition
  const prefix = `pe${hubId}_`;
  let nextId = 4001;

  /** A definition by its short name or its fully qualified name. */
  function find(key) {
    return byName.get(key) || (key.startsWith(prefix) ? byName.get(key.slice(prefix.length)) : undefined);
  }

  function missing(key) {
    const inner = `Event with fully qualified name ${key} does not exist.`;
    // HubSpot wraps the inner error's text in the message (Segment's fixture).
    return new Rejection(
      missingStatus,
      `StandardError{status=error, category=VALIDATION_ERROR, message=${inner}, errors=[], context={}, links={}}`,
      missingStatus === 404 ? 'OBJECT_NOT_FOUND' : 'VALIDATION_ERROR',
    );
  }

  function view(definition, withProperties = true) {
    const { properties, label, ...rest } = definition;
    return {
      ...rest,
      labels: { singular: label },
      properties: withProperties ? [...properties.values()].map((p) => ({ ...p, options: p.options.map((o) => ({ ...o })) })) : [],
    };
  }

  /** POST /event-definitions: 201 and the definition, 409 if it exists. */
  function create(body) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Rejection(400, 'The request body must be an object');
    if (typeof body.label !== 'string' || !body.label) throw new Rejection(400, 'label is required');
    if (body.label.length > MAX_LABEL) throw new Rejection(400, `label is longer than ${MAX_LABEL} characters`);
    if (!Array.isArray(body.propertyDefinitions)) throw new Rejection(400, 'propertyDefinitions is required and must be an array');
    if (body.propertyDefinitions.length > MAX_PROPERTIES) {
      throw new Rejection(400, `propertyDefinitions has ${body.propertyDefinitions.length} properties; at most ${MAX_PROPERTIES} are allowed`);
    }
    const name = body.name === undefined ? nameFromLabel(body.label) : body.name;
    if (typeof name !== 'string' || !EVENT_NAME.test(name)) {
      throw new Rejection(400, `name ${JSON.stringify(name)} is not valid: it must start with a letter, be at most 50 characters and contain only lowercase letters, numbers and underscores`);
    }
    const primaryObject = body.primaryObject === undefined ? 'CONTACT' : body.primaryObject;
    if (typeof primaryObject !== 'string' || !primaryObject) throw new Rejection(400, 'primaryObject is not valid');
    if (byName.has(name)) {
      throw new Rejection(409, `Event definition with name ${name} already exists.`, 'CONFLICT', { context: { name: [name] } });
    }
    if (byName.size >= MAX_DEFINITIONS) throw new Rejection(400, `This account has reached its limit of ${MAX_DEFINITIONS} event definitions`);
    const properties = new Map();
    body.propertyDefinitions.forEach((input, i) => {
      const property = makeProperty(input, `propertyDefinitions[${i}]`);
      if (properties.has(property.name)) throw new Rejection(400, `propertyDefinitions has ${property.name} more than once`);
      properties.set(property.name, property);
    });
    const now = new Date().toISOString();
    const definition = {
      id: String(nextId++),
      name,
      fullyQualifiedName: `${prefix}${name}`,
      label: body.label,
      description: typeof body.description === 'string' ? body.description : '',
      primaryObject,
      objectTypeId: PRIMARY_OBJECTS[primaryObject] || primaryObject,
      archived: false,
      associations: [],
      trackingType: 'MANUAL',
      createdAt: now,
      updatedAt: now,
      ...(body.customMatchingId ? { customMatchingId: body.customMatchingId } : {}),
      properties,
    };
    byName.set(name, definition);
    return definition;
  }

  /** POST /event-definitions/{eventName}/property: 201 and the Property. */
  function addProperty(key, body) {
    const definition = find(key);
    if (!definition) throw missing(key);
    const property = makeProperty(body, 'body');
    if (definition.properties.has(property.name)) {
      throw new Rejection(409, `Property ${property.name} already exists on event ${definition.name}.`, 'CONFLICT', {
        context: { propertyName: [property.name] },
      });
    }
    definition.properties.set(property.name, property);
    definition.updatedAt = new Date().toISOString();
    return property;
  }

  /** GET /event-definitions: `after` is an offset cursor, `limit` defaults
   * to 100, `searchString` matches name or label, and properties come only
   * with `includeProperties=true`. */
  function list(query) {
    const search = (query.get('searchString') || '').toLowerCase();
    const all = [...byName.values()]
      .filter((d) => !search || d.name.includes(search) || d.label.toLowerCase().includes(search))
      .sort((a, b) => a.name.localeCompare(b.name));
    const start = Number(query.get('after') || 0) || 0;
    const limit = Math.max(1, Number(query.get('limit') || 100) || 100);
    const page = all.slice(start, start + limit);
    const withProperties = query.get('includeProperties') === 'true';
    const answer = { results: page.map((d) => view(d, withProperties)), total: all.length };
    if (start + limit < all.length) answer.paging = { next: { after: String(start + limit) } };
    return answer;
  }

  /** Answers a request on the definitions API, or null if `path` is not one. */
  function route(method, path, query, body) {
    const match = DEFINITION_ROUTE.exec(path);
    if (!match) return null;
    const key = match[1] === undefined ? undefined : decodePathSegment(match[1]);
    if (key === undefined) {
      if (method === 'GET') return [200, list(query)];
      if (method === 'POST') {
        const definition = create(body());
        return [201, view(definition), { location: `${DEFINITIONS_PATH}/${definition.name}` }];
      }
    } else if (match[2]) {
      if (method === 'POST') return [201, { ...addProperty(key, body()) }];
    } else if (method === 'GET') {
      // The spec has no includeProperties here, but `properties` is a
      // required field of the answer: it always carries them.
      const definition = find(key);
      if (!definition) throw missing(key);
      return [200, view(definition)];
    }
    throw new Rejection(405, `Method ${method} is not supported on ${path} by this sandbox`, 'VALIDATION_ERROR');
  }

  /**
   * Strict mode: the occurrence's eventName must be a definition's fully
   * qualified name, and every property must be defined on it with a value
   * that fits its type. `where` names the input in the message.
   */
  function checkOccurrence(input, where) {
    const definition = input.eventName.startsWith(prefix) ? byName.get(input.eventName.slice(prefix.length)) : undefined;
    if (!definition) {
      throw new Rejection(400, `${where}: Event with fully qualified name ${input.eventName} does not exist.`, 'VALIDATION_ERROR', {
        context: { eventName: [input.eventName] },
      });
    }
    for (const [name, value] of Object.entries(input.properties)) {
      const property = definition.properties.get(name);
      if (!property) {
        throw new Rejection(400, `${where}: Property ${name} does not exist on event ${input.eventName}.`, 'VALIDATION_ERROR', {
          context: { eventName: [input.eventName], propertyName: [name] },
        });
      }
      if (!fits(property, value)) {
        throw new Rejection(400, `${where}: ${JSON.stringify(value)} is not a valid value for property ${name} of type ${describeType(property)} on event ${input.eventName}.`, 'VALIDATION_ERROR', {
          context: { eventName: [input.eventName], propertyName: [name] },
        });
      }
    }
  }

  return { route, create, checkOccurrence, get size() { return byName.size; } };
}

// ---------------------------------------------------------------------------
// OAuth 2.0 refresh grant. /oauth/v1/token is the legacy path (sunset
// 2027-02-16); /oauth/v3/token, /oauth/2026-03/token and /oauth/2026-09/token
// are the newer ones with the same form fields.

const TOKEN_PATHS = new Set(['/oauth/v1/token', '/oauth/v3/token', '/oauth/2026-03/token', '/oauth/2026-09/token']);
const INVALID_GRANT = 'refresh token is invalid, expired or revoked';

/** HubSpot's token error: RFC 6749 fields next to the legacy ones. */
function tokenError(error, status, message) {
  return { error, error_description: message, status, message };
}

function randomToken(prefix) {
  return `${prefix}${crypto.randomBytes(48).toString('base64url')}`;
}

/**
 * Issues access tokens for the refresh grant. `rotate` hands out a new
 * refresh token with each answer and retires the one used (HubSpot does not
 * seem to rotate, but a client must survive it).
 */
function createOAuth({ clientId, clientSecret, refreshToken, lifetimeSeconds = 1800, rotate = false }, hubId) {
  const liveRefreshTokens = new Set([refreshToken]);
  let latestRefreshToken = refreshToken;
  const accessTokens = new Map(); // access token -> expiry (ms epoch)
  const requests = []; // { at, path, grantType, clientId, refreshToken, status, secretInQuery }

  /** POST /oauth/…/token with a form-encoded body. Returns [status, body]. */
  function token(path, query, headers, raw) {
    const form = new URLSearchParams(raw);
    const record = {
      at: Date.now(),
      path,
      grantType: form.get('grant_type'),
      clientId: form.get('client_id'),
      refreshToken: form.get('refresh_token'),
      // Secrets in the URL end up in logs; HubSpot's v3 guide moved them out.
      secretInQuery: query.has('client_secret') || query.has('refresh_token'),
      status: 0,
    };
    requests.push(record);
    const [status, body] = answer(headers, form);
    record.status = status;
    return [status, body];
  }

  function answer(headers, form) {
    if (!String(headers['content-type'] || '').startsWith('application/x-www-form-urlencoded')) {
      return [400, tokenError('invalid_request', 'BAD_REQUEST', 'the body must be application/x-www-form-urlencoded')];
    }
    const grantType = form.get('grant_type');
    if (!grantType) return [400, tokenError('invalid_request', 'BAD_GRANT_TYPE', 'missing grant_type')];
    if (grantType !== 'refresh_token') {
      return [400, tokenError('unsupported_grant_type', 'BAD_GRANT_TYPE', `grant_type ${grantType} is not supported by this sandbox`)];
    }
    for (const field of ['client_id', 'client_secret', 'refresh_token']) {
      if (!form.get(field)) return [400, tokenError('invalid_request', 'BAD_REQUEST', `missing ${field}`)];
    }
    // A refresh token belongs to one app: the wrong client id or secret
    // fails as the token itself does.
    const used = form.get('refresh_token');
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret || !liveRefreshTokens.has(used)) {
      return [400, tokenError('invalid_grant', 'BAD_REFRESH_TOKEN', INVALID_GRANT)];
    }
    let next = used;
    if (rotate) {
      liveRefreshTokens.delete(used);
      next = randomToken('rt-');
      liveRefreshTokens.add(next);
      latestRefreshToken = next;
    }
    const access = randomToken('at-');
    accessTokens.set(access, Date.now() + lifetimeSeconds * 1000);
    return [
      200,
      { access_token: access, refresh_token: next, expires_in: lifetimeSeconds, token_type: 'bearer', token_use: 'access_token', hub_id: hubId },
    ];
  }

  /** 'live', 'expired' (with `expiredMs`) or 'unknown' for a bearer token. */
  function check(accessToken) {
    const expiresAt = accessTokens.get(accessToken);
    if (expiresAt === undefined) return { state: 'unknown' };
    const now = Date.now();
    return now < expiresAt ? { state: 'live' } : { state: 'expired', expiredMs: now - expiresAt };
  }

  return {
    token,
    check,
    requests,
    get refreshToken() {
      return latestRefreshToken;
    },
    /** Every refresh token stops working; issued access tokens are not
     * affected (HubSpot's docs on deleting a refresh token). */
    revoke() {
      liveRefreshTokens.clear();
    },
    /** Every access token issued so far expires now. */
    expireAll() {
      const now = Date.now();
      for (const key of accessTokens.keys()) accessTokens.set(key, now);
    },
  };
}

/** HubSpot's 401 for an access token past its expiry. */
function expiredRejection(expiredMs) {
  const seconds = Math.floor(expiredMs / 1000);
  const ago = seconds < 60 ? `${seconds} second(s)` : `${Math.floor(seconds / 60)} minute(s)`;
  return new Rejection(401, `The OAuth token used to make this call expired ${ago} ago.`, 'EXPIRED_AUTHENTICATION');
}

// ---------------------------------------------------------------------------
// Retry-After honesty: after an answer with Retry-After, a request to the
// same path before that time is noted (with slack for timer jitter).

const RETRY_SLACK_MS = 50;

/** The endpoint a Retry-After holds back. The two event send paths are one:
 * a single send's retry may well travel in a batch, and HubSpot limits the
 * events API as a whole. */
function retryKey(path) {
  return path === '/events/v3/send/batch' ? '/events/v3/send' : path;
}

/** Retry-After as milliseconds from `now`: delay-seconds or an HTTP-date. */
function retryAfterMs(value, now) {
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : at - now;
}

function createRetryWatch() {
  const notBefore = new Map(); // retryKey(path) -> { at, answeredAt, path }
  const early = [];
  return {
    early,
    /** An answer to `path` carried Retry-After `value`, written at `now`. */
    answered(path, value, now) {
      const ms = retryAfterMs(value, now);
      if (ms !== null) notBefore.set(retryKey(path), { at: now + Math.max(0, ms), answeredAt: now, path });
    },
    /** A request to `path` arrived at `now`. */
    arrived(path, now) {
      const wait = notBefore.get(retryKey(path));
      if (!wait || now >= wait.at - RETRY_SLACK_MS) return;
      // after_answer_ms helps tell a retry from a request that was already
      // on its way when the Retry-After answer was written.
      early.push({ path, early_by_ms: wait.at - now, after_answer_ms: now - wait.answeredAt, limited_path: wait.path });
    },
    reset() {
      notBefore.clear();
      early.length = 0;
    },
  };
}

// ---------------------------------------------------------------------------

/**
 * Options:
 * - `token`: the static bearer token (default 'sandbox-token'; null for
 *   none). With `oauth` set, the static token and any live issued access
 *   token are both accepted.
 * - `hubId` (default 12345678): definitions are `pe{hubId}_{name}`.
 * - `definitions`: definitions to start with, as create bodies.
 * - `strictDefinitions`: event sends must name a definition, and use only
 *   its properties with values that fit their types.
 * - `forbidDefinitions`: the definitions API answers 403 MISSING_SCOPES.
 * - `missingDefinitionStatus`: 400 (default) or 404 for an unknown definition.
 * - `oauth: { clientId, clientSecret, refreshToken, lifetimeSeconds = 1800,
 *   rotate = false }`: serves the refresh grant on the token paths.
 */
async function startSandbox({
  token = 'sandbox-token',
  port = 0,
  keepBodies = true,
  hubId = DEFAULT_HUB_ID,
  definitions: seed = [],
  strictDefinitions = false,
  forbidDefinitions = false,
  missingDefinitionStatus = 400,
  oauth: oauthOptions,
} = {}) {
  poisoned = false;
  const state = {
    events: [], // accepted event occurrences, each with `via` ('send' | 'batch')
    rateLimited: [], // CRM calls answered 429 by the crmLimit window
    duplicates: [], // occurrences whose uuid was seen before for their event: not recorded
    uuids: new Set(),
    upserts: [], // accepted contact upsert inputs
    contacts: new Map(), // email (lowercased) -> { id, properties }
    requests: [], // { method, path, status, body }
    definitionRequests: [], // { method, path, query, status, at } on the definitions API
    unauthorized: 0, // 401s answered
    nextId: 1001,
  };
  const definitions = createDefinitions({ hubId, missingStatus: missingDefinitionStatus });
  seed.forEach((body) => definitions.create(JSON.parse(JSON.stringify(body))));
  const oauth = oauthOptions ? createOAuth(oauthOptions, hubId) : null;
  const retries = createRetryWatch();

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

  /** Throws HubSpot's 401 unless the bearer token is the static one or a
   * live issued access token. */
  function authorize(authorization) {
    const bearer = typeof authorization === 'string' && authorization.startsWith('Bearer ') ? authorization.slice(7) : null;
    if (bearer !== null && token !== null && bearer === token) return;
    if (bearer !== null && oauth) {
      const found = oauth.check(bearer);
      if (found.state === 'live') return;
      if (found.state === 'expired') throw expiredRejection(found.expiredMs);
    }
    throw new Rejection(401, 'Authentication credentials not found. This API supports OAuth 2.0 authentication.', 'INVALID_AUTHENTICATION');
  }

  function parseJson(raw) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new Rejection(400, 'Invalid input JSON on line 1: the request body is not valid JSON');
    }
  }

  /** The occurrence checks, plus the definition checks in strict mode. */
  function checkOccurrence(input, where) {
    checkEvent(input, where);
    if (strictDefinitions) definitions.checkOccurrence(input, where);
  }

  /** Returns [status, body?, headers?] or throws a Rejection. */
  function handle(method, path, query, headers, raw) {
    if (TOKEN_PATHS.has(path) && oauth) {
      if (method !== 'POST') throw new Rejection(405, `Method ${method} is not supported on ${path}`);
      return oauth.token(path, query, headers, raw);
    }
    authorize(headers.authorization);
    if (DEFINITION_ROUTE.test(path)) {
      if (forbidDefinitions) {
        const { message, ...extra } = MISSING_SCOPES;
        throw new Rejection(403, message, 'MISSING_SCOPES', extra);
      }
      return definitions.route(method, path, query, () => parseJson(raw));
    }
    const body = parseJson(raw);
    if (method === 'POST' && path === '/events/v3/send') {
      checkOccurrence(body, 'body');
      record(body, 'send');
      return [204];
    }
    if (method === 'POST' && path === '/events/v3/send/batch') {
      if (!body || !Array.isArray(body.inputs)) throw new Rejection(400, 'inputs is required');
      if (body.inputs.length > MAX_EVENT_BATCH) {
        throw new Rejection(400, `Batch of ${body.inputs.length} events is over the limit of ${MAX_EVENT_BATCH}`);
      }
      // One bad input rejects the whole batch (the spec has no 207 here).
      body.inputs.forEach((input, i) => checkOccurrence(input, `inputs[${i}]`));
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
      // HubSpot does not always send Retry-After; `retryAfter: true` adds
      // the whole seconds until the oldest call leaves the window.
      if (limit.retryAfter) headers['retry-after'] = String(Math.ceil((crmWindow[0] + limit.intervalMs - now) / 1000));
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
    const arrivedAt = Date.now();
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const [path, search = ''] = req.url.split('?');
      const query = new URLSearchParams(search);
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
        state.definitionRequests.length = 0;
        state.unauthorized = 0;
        state.uuids.clear();
        state.contacts.clear();
        retries.reset();
        res.writeHead(204).end();
        return;
      }
      retries.arrived(path, arrivedAt);
      const fault = takeFault(path);
      const headers = { 'content-type': 'application/json' };
      const reply = (status, body) => {
        const now = Date.now();
        state.requests.push({ method: req.method, path, status, body: keepBodies ? sent : undefined, fault: fault && fault.kind });
        if (DEFINITION_ROUTE.test(path)) state.definitionRequests.push({ method: req.method, path, query: search, status, at: now });
        if (status === 401) state.unauthorized += 1;
        if (headers['retry-after'] !== undefined) retries.answered(path, headers['retry-after'], now);
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
        let extraHeaders;
        [status, body, extraHeaders] = handle(req.method, path, query, req.headers, raw);
        Object.assign(headers, extraHeaders);
      } catch (error) {
        if (!(error instanceof Rejection)) throw error;
        status = error.status;
        body = errorBody(status, error.message, error.category, error.extra);
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
    hubId,
    /** The event-name prefix of this hub: `pe{hubId}_`. */
    prefix: `pe${hubId}_`,
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
    /** Requests on the definitions API: { method, path, query, status, at }. */
    get definitionRequests() {
      return state.definitionRequests;
    },
    /** How many 401s the sandbox has answered. */
    get unauthorized() {
      return state.unauthorized;
    },
    /** Requests that came before the Retry-After the sandbox gave their
     * endpoint (less 50 ms of slack; /events/v3/send and /send/batch count
     * as one endpoint): { path, early_by_ms, after_answer_ms, limited_path }. */
    get earlyRetries() {
      return retries.early;
    },
    /** Token requests: { at, path, grantType, clientId, refreshToken,
     * status, secretInQuery }; empty without `oauth`. */
    get tokenRequests() {
      return oauth ? oauth.requests : [];
    },
    /** The refresh token that works now (changes with each answer under
     * `rotate`), or undefined without `oauth`. */
    get refreshToken() {
      return oauth ? oauth.refreshToken : undefined;
    },
    /** Revokes every refresh token: token requests from now on get 400
     * invalid_grant. Access tokens already issued keep working. */
    revokeRefreshToken() {
      if (!oauth) throw new Error('revokeRefreshToken needs the oauth option');
      oauth.revoke();
    },
    /** Every access token issued so far expires now. */
    expireAccessTokens() {
      if (!oauth) throw new Error('expireAccessTokens needs the oauth option');
      oauth.expireAll();
    },
    /**
     * Fault modes: `{ status: { status, count, policy?, retryAfter?, only? },
     * reset: { count }, slow: { ms, count }, malformed: { count },
     * crmLimit: { max, intervalMs, retryAfter? }, poison: true, random: { seed, rate,
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
