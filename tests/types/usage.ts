// Type-checked by `make test` (tsc --noEmit): the package's declarations
// describe how it is used.
import { schemas, examples, type JsonSchema, type StepExample, type StepEffect } from 'walkeros-destination-hubspot/dev';
import destinationHubspot, { explain, stats, type Config, type Settings, type Stats } from 'walkeros-destination-hubspot';
import { getMappingValue, getMappingEvent, compileMappings } from 'walkeros-destination-hubspot/mapping';

const settings: Settings = {
  accessToken: 'pat-na1-…',
  eventNamePrefix: 'pe12345678_',
  email: 'user.email',
  utk: 'user.hutk',
  identify: { map: { email: 'user.email', properties: { map: { firstname: 'user.name' } } } },
  defaultProperties: { hs_touchpoint_source: 'walkerOS' },
  batch: true,
  batchSize: 100,
  flushInterval: 2000,
  dedupCapacity: 50000,
  rateLimit: 190,
  maxQueue: 20000,
  timeout: 5000,
};

const config: Config = {
  settings,
  mapping: { order: { complete: { settings: { eventName: 'purchase', properties: { map: { revenue: 'data.total' } } } } } },
  env: { onDrop: (event: Record<string, unknown>, reason: string) => console.log(event, reason) },
};

const { requests, notes } = explain({ name: 'order complete', data: { total: 1 } }, config);
const firstPath: string | undefined = requests[0]?.path;
const levels: Array<'error' | 'warn' | 'info'> = notes.map((n) => n.level);
const queued: number = stats().queued;
const perConfig = stats(config);
const type: 'hubspot' = destinationHubspot.type;

async function mappings(): Promise<void> {
  const collector = { logger: { error: (message: string) => console.error(message) }, status: { failed: 0 } };
  await getMappingValue({ a: 1 }, 'a', { collector, consent: { marketing: true } });
  const { mappingKey } = await getMappingEvent({ name: 'a b' }, { a: { b: {} } });
  const set = compileMappings({ email: 'user.email' });
  const resolved = set.resolve({ user: { email: 'x@y.z' } });
  console.log(mappingKey, resolved.email, firstPath, levels, queued, perConfig, type);
}

void mappings();

// An OAuth app instead of a private app's token, with env.onToken.
const oauthConfig: Config = {
  settings: {
    oauth: { clientId: 'app-id', clientSecret: 'secret', refreshToken: 'rt-…', tokenPath: '/oauth/v1/token' },
    eventNamePrefix: 'pe12345678_',
    shutdownTimeout: 5000,
  },
  env: { onToken: ({ refreshToken, expiresAt }: { refreshToken: string; expiresAt: number }) => console.log(refreshToken.length, expiresAt) },
};
void oauthConfig;

// @ts-expect-error: accessToken and oauth exclude each other.
const both: Settings = { accessToken: 'x', oauth: { clientId: 'a', clientSecret: 'b', refreshToken: 'c' }, eventNamePrefix: 'pe1_' };
void both;

// @ts-expect-error: batchSize is a number.
const wrong: Settings = { accessToken: 'x', eventNamePrefix: 'pe1_', batchSize: '50' };
void wrong;

// The /dev export: schemas and step examples.
const settingsSchema: JsonSchema = schemas.settings;
const firstExample: StepExample | undefined = examples.step.defaultEvent;
const effect: StepEffect | undefined = firstExample?.out[0];
void [settingsSchema, effect, examples.env.simulation];

// Mapping functions (fn, condition, validate) in a value config, and the
// definitions GET that explain() shows with definitions "check".
const withFunctions: Config = {
  settings: {
    accessToken: 'pat-na1-…',
    identify: { map: { email: 'user.email', properties: { map: { firstname: { key: 'user.name', fn: (value) => String(value).trim() } } } } },
  },
  mapping: {
    order: {
      complete: [
        {
          condition: (event: unknown) => Boolean(event),
          settings: {
            eventName: 'big_purchase',
            properties: { map: { total: { key: 'data.total', condition: (_value, ctx) => ctx.event !== undefined, validate: (value) => typeof value === 'number' } } },
          },
        },
      ],
    },
  },
};
const definitionChecks: string[] = explain({ name: 'order complete' }, withFunctions).requests.filter((r) => r.method === 'GET').map((r) => r.path);
void definitionChecks;

// stats(config) of a config no destination was started with is undefined.
const unknownStats: Stats | undefined = stats({ settings: { accessToken: 'x' } });
// @ts-expect-error: it may be undefined.
const notChecked: Stats = stats(config);
void [unknownStats, notChecked];
