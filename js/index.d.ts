// Types for walkeros-destination-hubspot, a walkerOS v4 server destination.

/** A walkerOS mapping value: a path string, a value config, or fallbacks. */
export type MappingValue = string | MappingValueConfig | Array<string | MappingValueConfig | Array<string | MappingValueConfig>>;

export interface MappingValueConfig {
  key?: string;
  value?: unknown;
  map?: Record<string, MappingValue>;
  loop?: [MappingValue | 'this', MappingValue];
  set?: MappingValue[];
  consent?: Record<string, boolean>;
  /** The value's replacement; called synchronously (a returned Promise counts as a failure). */
  fn?: MappingFunction<unknown>;
  /** The value is used only when this returns true. */
  condition?: MappingFunction<boolean>;
  /** The produced value is used only when this returns true. */
  validate?: MappingFunction<boolean>;
}

/** What walkerOS passes a mapping function besides the value. */
export interface MappingFunctionContext {
  event: Record<string, unknown>;
  mapping: unknown;
  collector: unknown;
  logger: unknown;
  consent?: Record<string, boolean>;
}

export type MappingFunction<R> = (value: unknown, context: MappingFunctionContext) => R;

/** An OAuth app's credentials (see docs/oauth.md). */
export interface OAuthSettings {
  /** The app's client ID. */
  clientId: string;
  /** The app's client secret; never logged. */
  clientSecret: string;
  /** The refresh token of the HubSpot account the app was installed in; never logged. */
  refreshToken: string;
  /** The token endpoint's path under `apiBase`. Default `/oauth/2026-03/token`; `/oauth/v1/token` for older apps (sunset 2027-02-16). */
  tokenPath?: string;
}

/** Exactly one of `accessToken` (a private app) and `oauth` (an OAuth app). */
export type Settings = SettingsBase & ({ accessToken: string; oauth?: never } | { oauth: OAuthSettings; accessToken?: never });

export interface SettingsBase {
  /** Fully qualified event name prefix: `pe{HubID}_`, such as `pe12345678_`. Required with `definitions: 'off'`; otherwise learned from HubSpot when left out. */
  eventNamePrefix?: string;
  /** HubSpot event definitions: `'check'` (default) reads and warns, `'create'` creates what is missing, `'off'` does neither. */
  definitions?: 'off' | 'check' | 'create';
  /** Mapping value for the contact's email. Default `'user.email'`; `false` switches it off. */
  email?: MappingValue | false;
  /** Mapping value for the HubSpot CRM object id of the contact. */
  objectId?: MappingValue;
  /** Mapping value for the HubSpot user token (the hubspotutk cookie). */
  utk?: MappingValue;
  /** Mapping value resolving to `{ email, properties }`: a contact upsert before the event. */
  identify?: MappingValue;
  /** Properties added to every event. */
  defaultProperties?: Record<string, string | number | boolean>;
  /** Queue events and send them with the batch endpoint. Default false. */
  batch?: boolean;
  /** Events per batch, 1 to 500. Default 50. */
  batchSize?: number;
  /** Batch mode: milliseconds between timed flushes; 0 for none. Default 5000. */
  flushInterval?: number;
  /** Contacts remembered for upsert dedup. Default 10000. */
  dedupCapacity?: number;
  /** CRM requests per 10 s until HubSpot's headers say otherwise. Default 100. */
  rateLimit?: number;
  /** Events held for delivery at most. Default 10000. */
  maxQueue?: number;
  /** Milliseconds one request may take. Default 10000. */
  timeout?: number;
  /** Milliseconds a shutdown keeps sending what is queued, 0 to 600000. Default 10000. */
  shutdownTimeout?: number;
  /** A directory for the disk spool (off when unset): see docs/spool.md. */
  spool?: string;
  /** Bytes of undelivered records the spool holds at most. Default 1073741824 (1 GiB). */
  spoolMaxBytes?: number;
  /** Milliseconds between fsyncs of the spool; 0 for every write. Default 1000. */
  spoolSyncInterval?: number;
  /** API base URL. Default `https://api.hubapi.com`; `http://` only for loopback hosts. */
  apiBase?: string;
}

export interface RuleSettings {
  /** HubSpot event name for this rule, without the prefix. */
  eventName?: string;
  /** Per-rule contact upsert, overriding `settings.identify`. */
  identify?: MappingValue;
  /** Mapping value resolving to an object of event properties. */
  properties?: MappingValue;
  /** HubSpot types of the event's properties; otherwise a property's first value decides. */
  propertyTypes?: Record<string, 'string' | 'number' | 'datetime' | 'enumeration'>;
}

export interface Rule {
  settings?: RuleSettings;
  ignore?: boolean;
  silent?: boolean;
  name?: string;
  [key: string]: unknown;
}

export interface Env {
  /** Replaces the built-in HTTP client (node:https, kept-alive) for every HubSpot request, called as fetch(url, { method, headers, body, signal }) with a string body (none for a GET) and a signal that aborts at settings.timeout or the shutdown's deadline: globalThis.fetch or undici's fetch fit. */
  fetch?: typeof fetch;
  /** Receives every event given up on: the HubSpot event body and the reason. */
  onDrop?: (event: Record<string, unknown>, reason: string) => void;
  /** OAuth apps: receives the refresh token HubSpot rotated to (the old one may stop working; store this one) and when the new access token expires (ms since the epoch). */
  onToken?: (token: { refreshToken: string; expiresAt: number }) => void;
}

export interface Stats {
  accepted: number;
  sent: number;
  retried: number;
  deduplicated: number;
  contactsUpserted: number;
  /** Events not sent, by why: `ignored`, `silent`, `no_name`, `no_identity`, `invalid_name`. */
  skipped: Record<string, number>;
  /** Events handed to env.onDrop, by why: `rejected` (400 or another 4xx), `unauthorized` (401), `forbidden` (403), `not_found` (404), `queue_full`, `spool_full`, `shutdown`, `no_prefix`. */
  dropped: Record<string, number>;
  /** Events not accepted by HubSpot yet: waiting, or on their way. */
  queued: number;
  /** Contact upserts waiting to be sent. */
  queuedUpserts: number;
  /** Spool records (events and contact upserts) not done yet. */
  spooled: number;
  /** Events the spool queued again at start. */
  replayed: number;
  rateLimited: Record<string, number>;
  /** Event definitions and properties created in HubSpot. */
  definitionsCreated: number;
  propertiesCreated: number;
  /** Property values left out because they did not fit their property's type. */
  valuesLeftOut: number;
  /** A shutdown is under way: what is queued is still being sent. */
  draining: boolean;
}

export interface Config {
  settings: Settings;
  mapping?: Record<string, Record<string, Rule | Rule[]>>;
  [key: string]: unknown;
}

export interface DestinationHubspot {
  type: 'hubspot';
  config: Partial<Config>;
  init(context: { config: Config; env?: Env; [key: string]: unknown }): void;
  push(event: Record<string, unknown>, context: { config: Config; rule?: Rule; data?: unknown; env?: Env; logger: unknown; [key: string]: unknown }): Promise<void>;
  pushBatch(batch: { events: Record<string, unknown>[]; entries?: unknown[]; [key: string]: unknown }, context: { config: Config; env?: Env; logger: unknown; [key: string]: unknown }): Promise<void | { failed: Array<{ index: number; error: string }> }>;
  destroy(context: { config: Config; logger: unknown; [key: string]: unknown }): Promise<void>;
}

export interface Explanation {
  /** POSTs, and with definitions "check" or "create" the GETs of event definitions (no body). */
  requests: Array<{ method: 'GET' | 'POST'; path: string; body: unknown }>;
  notes: Array<{ level: 'error' | 'warn' | 'info'; message: string }>;
}

/**
 * The dry run: the requests pushing `event` would make, without sending anything. It applies
 * the matching rule (its condition, data, settings) as the collector does, but not the
 * collector's own steps before a destination: `policy`, `include`/`remove` and consent checks.
 * Property values are shown as mapped: converting them to the types HubSpot has (and leaving
 * out what does not fit, docs/definitions.md) happens when they are sent.
 */
export declare function explain(event: Record<string, unknown>, config: Config): Explanation;

/** Delivery counters summed over every live destination. */
export declare function stats(): Stats;
/** Delivery counters of the destination with this config; undefined for a config no live destination has. */
export declare function stats(config: Config): Stats | undefined;

export declare const destinationHubspot: DestinationHubspot & { explain: typeof explain; stats: typeof stats };
export default destinationHubspot;
