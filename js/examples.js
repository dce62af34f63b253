'use strict';

// The destination's step examples, in walkerOS's format: an event going in
// (`in`), the rule it meets (`mapping`, placed at the event's own
// entity/action, or at `match` when given), the destination's `settings`,
// and the HTTP requests that come out (`out`, as
// `['fetch', 'METHOD path', body]`). tests/node/examples.test.js runs each
// through a real collector against the sandbox, so they stay true.
// Not shipped as is: pkg-template/assemble.js writes them into
// dist/walkerOS.json, which ./dev reads.

// The settings every example has; `settings()` adds an example's own.
const settings = (own) => ({
  accessToken: 'pat-na1-00000000-0000-0000-0000-000000000000',
  eventNamePrefix: 'pe12345678_',
  ...own,
});

function event(name, fields) {
  const [entity, action] = name.split(' ');
  return {
    name,
    entity,
    action,
    data: {},
    context: {},
    globals: {},
    custom: {},
    user: {},
    nested: [],
    consent: {},
    id: `1700000000000-${entity}-${action}`,
    trigger: 'test',
    timestamp: 1700000000000,
    timing: 0,
    group: 'gr0up',
    count: 1,
    version: { source: '4.2.1', tagging: 1 },
    source: { type: 'server', id: 'https://example.com/', previous_id: '' },
    ...fields,
  };
}

// The requests in `out`, as `['fetch', 'METHOD path', body]`.
const send = (body) => ['fetch', 'POST /events/v3/send', body];
const upsert = (email, properties) => [
  'fetch',
  'POST /crm/v3/objects/contacts/batch/upsert',
  { inputs: [{ id: email, idProperty: 'email', objectWriteTraceId: '0', properties }] },
];

// The HubSpot event an example's event becomes; its uuid is made from the
// event's id, so every page view here has the same one.
const PAGE_VIEW = '28e2ec68-24c7-5325-84ff-06382de48df1';
const ORDER_COMPLETE = '90ddbfb1-762a-5ccf-8345-b01e70d6727c';
const hubspotEvent = (name, uuid, fields) => ({
  eventName: `pe12345678_${name}`,
  uuid,
  occurredAt: '2023-11-14T22:13:20.000Z',
  properties: {},
  ...fields,
});
// A function, so no two examples share (and could change) one object.
const jane = () => ({ email: 'jane@example.com' });

const step = {
  defaultEvent: {
    title: 'Default event',
    description: 'An event with a user email and no rule: sent under its walkerOS name for that contact, with a uuid from its id and occurredAt from its timestamp.',
    in: event('product view', { user: jane(), data: { id: 'sku-1' } }),
    settings: settings(),
    out: [send(hubspotEvent('product_view', 'c61c2759-b8b3-57fb-9531-e2985886692c', jane()))],
  },
  defaultProperties: {
    title: 'Default properties',
    description: 'defaultProperties go with every event, as strings.',
    in: event('page view', { user: jane() }),
    settings: settings({ defaultProperties: { hs_touchpoint_source: 'walkerOS', tier: 2 } }),
    out: [send(hubspotEvent('page_view', PAGE_VIEW, { ...jane(), properties: { hs_touchpoint_source: 'walkerOS', tier: '2' } }))],
  },
  destinationIdentify: {
    title: 'Destination identify',
    description: 'settings.identify upserts the contact (by email) before its event; again only when its properties change.',
    in: event('page view', { user: { ...jane(), name: 'Jane' } }),
    settings: settings({
      identify: { map: { email: 'user.email', properties: { map: { firstname: 'user.name' } } } },
    }),
    out: [upsert('jane@example.com', { firstname: 'Jane' }), send(hubspotEvent('page_view', PAGE_VIEW, jane()))],
  },
  mappedEventName: {
    title: 'Mapped event name',
    description: 'A rule names the HubSpot event and maps its properties from the event data.',
    in: event('order complete', { user: jane(), data: { id: 'ord-1', total: 99.5, currency: 'EUR' } }),
    mapping: {
      settings: {
        eventName: 'purchase_completed',
        properties: { map: { order_id: 'data.id', revenue: 'data.total', currency: 'data.currency' } },
      },
    },
    settings: settings(),
    out: [
      // definitions "check" (the default) reads the rule's definition at init.
      ['fetch', 'GET /events/v3/event-definitions/purchase_completed', ''],
      send(hubspotEvent('purchase_completed', ORDER_COMPLETE, { ...jane(), properties: { order_id: 'ord-1', revenue: '99.5', currency: 'EUR' } })),
    ],
  },
  noIdentity: {
    title: 'No identity',
    description: 'An event with no email, objectId or utk has no contact: nothing is sent, and a warning names it.',
    in: event('page view', { user: { session: 's1' } }),
    settings: settings(),
    out: [],
  },
  objectIdAssociation: {
    title: 'objectId association',
    description: 'With settings.objectId, an event without an email is tied to the contact by its HubSpot object id.',
    in: event('page view', { user: { id: '51' } }),
    settings: settings({ objectId: 'user.id' }),
    out: [send(hubspotEvent('page_view', PAGE_VIEW, { objectId: '51' }))],
  },
  userLoginIdentify: {
    title: 'User login identify',
    description: 'A silent rule with identify: the login only creates or updates the contact; no event is sent.',
    in: event('user login', { user: jane(), data: { firstname: 'Jane', plan: 'pro' } }),
    mapping: {
      silent: true,
      settings: {
        identify: {
          map: { email: 'user.email', properties: { map: { firstname: 'data.firstname', plan: 'data.plan' } } },
        },
      },
    },
    settings: settings(),
    out: [upsert('jane@example.com', { firstname: 'Jane', plan: 'pro' })],
  },
  wildcardIgnored: {
    title: 'Wildcard ignored',
    description: 'A rule { ignore: true } under "*": { "*": ... } drops every event no other rule matches.',
    in: event('debug ping', { user: jane() }),
    match: '* *',
    mapping: { ignore: true },
    settings: settings(),
    out: [],
  },
  batchFlush: {
    title: 'Batch flush',
    description: 'In batch mode events wait for batchSize, the flush timer or shutdown, and go with the batch endpoint.',
    in: event('page view', { user: jane() }),
    settings: settings({ batch: true }),
    out: [['fetch', 'POST /events/v3/send/batch', { inputs: [hubspotEvent('page_view', PAGE_VIEW, jane())] }]],
  },
  utkIdentity: {
    title: 'utk identity',
    description: 'With settings.utk (the hubspotutk cookie) and email switched off, the event is tied to the visitor by usertoken.',
    in: event('page view', { user: { hutk: 'f2b1a3c4d5e6f708192a3b4c5d6e7f80' } }),
    settings: settings({ email: false, utk: 'user.hutk' }),
    out: [send(hubspotEvent('page_view', PAGE_VIEW, { utk: 'f2b1a3c4d5e6f708192a3b4c5d6e7f80' }))],
  },
  createDefinitions: {
    title: 'Create definitions',
    description: 'definitions "create": the definition and its properties are made before the event.',
    in: event('order complete', { user: jane(), data: { id: 'ord-1', total: 99.5 } }),
    mapping: {
      settings: {
        eventName: 'purchase',
        properties: { map: { order_id: 'data.id', revenue: 'data.total' } },
        propertyTypes: { order_id: 'string' },
      },
    },
    settings: settings({ definitions: 'create' }),
    out: [
      ['fetch', 'POST /events/v3/event-definitions', {
        label: 'Purchase',
        name: 'purchase',
        description: 'Created by walkerOS (walkeros-destination-hubspot)',
        primaryObject: 'CONTACT',
        includeDefaultProperties: false,
        propertyDefinitions: [{ name: 'order_id', label: 'Order id', type: 'string' }],
      }],
      ['fetch', 'POST /events/v3/event-definitions/purchase/property', { name: 'revenue', label: 'Revenue', type: 'number' }],
      send(hubspotEvent('purchase', ORDER_COMPLETE, { ...jane(), properties: { order_id: 'ord-1', revenue: '99.5' } })),
    ],
  },
};

module.exports = { step };
