'use strict';

// The packed tarball in an empty project with @walkeros/collector as its only
// other dependency: no Rust, no build step. The README's quick start runs
// there as written, with only HubSpot's address pointed at the sandbox.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, execFile } = require('node:child_process');
const { promisify } = require('node:util');

// The sandbox runs in this process, so commands that talk to it must not
// block the event loop.
const run = promisify(execFile);
const { startSandbox } = require('../sandbox/hubspot.js');

const root = path.resolve(__dirname, '..', '..');
const collectorVersion = require(path.join(root, 'package.json')).devDependencies['@walkeros/collector'];

/** The first js example under a README heading. */
function readmeExample(heading) {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.split(`\n## ${heading}\n`)[1];
  const match = section && /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(match, `the README has an example under "${heading}"`);
  return match[1];
}

test('the packed tarball installs and runs in an empty project, as the README says', { timeout: 180000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubspot-pkg-'));
  const sandbox = await startSandbox({ token: 'readme-token' });
  try {
    const tarball = execFileSync('npm', ['pack', path.join(root, 'pkg'), '--pack-destination', dir, '--silent'], {
      encoding: 'utf8',
    }).trim().split('\n').pop();
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'pkg', 'package.json'), 'utf8'));
    assert.equal(manifest.dependencies, undefined, 'no runtime dependencies');
    const [packed] = JSON.parse(execFileSync('npm', ['pack', path.join(root, 'pkg'), '--dry-run', '--json'], { encoding: 'utf8' }));
    assert.ok(packed.unpackedSize <= 600 * 1024, `installed size ${packed.unpackedSize} bytes is over 600 KB`);

    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--silent', `./${tarball}`, `@walkeros/collector@${collectorVersion}`],
      { cwd: dir, stdio: 'inherit' },
    );

    // HubSpot's address is the only thing changed: the example itself runs untouched.
    fs.writeFileSync(
      path.join(dir, 'to-sandbox.cjs'),
      `const net = require('node:net');
const tls = require('node:tls');
const real = tls.connect;
// The package's HTTP client opens HubSpot connections with
// tls.connect({ host, port, servername }): this one goes to the sandbox.
tls.connect = (options, ...rest) => {
  if (!options || options.host !== 'api.hubapi.com') return real(options, ...rest);
  const local = new URL(process.env.SANDBOX_URL);
  return net.connect({ host: local.hostname, port: Number(local.port) });
};
`,
    );
    fs.writeFileSync(path.join(dir, 'quick-start.cjs'), readmeExample('Quick start'));
    fs.writeFileSync(path.join(dir, 'check-mapping.cjs'), readmeExample('Checking a mapping'));
    fs.writeFileSync(path.join(dir, 'dry-run.cjs'), readmeExample('Dry run: checking a configuration'));
    fs.writeFileSync(path.join(dir, 'dev.cjs'), readmeExample('Schemas and examples'));
    fs.writeFileSync(
      path.join(dir, 'esm.mjs'),
      `import destinationHubspot, { destinationHubspot as named } from 'walkeros-destination-hubspot';
import { schemas, examples } from 'walkeros-destination-hubspot/dev';
import { getMappingValue } from 'walkeros-destination-hubspot/mapping';
if (destinationHubspot !== named || destinationHubspot.type !== 'hubspot') process.exit(1);
if (!schemas.settings.properties.accessToken || !examples.step.defaultEvent || typeof getMappingValue !== 'function') process.exit(2);
console.log('esm ok');
`,
    );
    const env = {
      ...process.env,
      SANDBOX_URL: sandbox.url,
      HUBSPOT_ACCESS_TOKEN: sandbox.token,
      HUBSPOT_EVENT_PREFIX: 'pe12345678_',
    };
    await run('node', ['--require', './to-sandbox.cjs', 'quick-start.cjs'], { cwd: dir, env, timeout: 30000 });
    assert.equal((await run('node', ['esm.mjs'], { cwd: dir })).stdout.trim(), 'esm ok');
    fs.writeFileSync(
      path.join(dir, 'cjs.cjs'),
      `const { schemas, examples } = require('walkeros-destination-hubspot/dev');
const shipped = require('walkeros-destination-hubspot/walkerOS.json');
if (JSON.stringify(shipped.schemas) !== JSON.stringify(schemas) || !examples.step.utkIdentity) process.exit(1);
console.log('cjs ok');
`,
    );
    assert.equal((await run('node', ['cjs.cjs'], { cwd: dir })).stdout.trim(), 'cjs ok');
    // The mapping example prints what its comments say.
    const printed = (await run('node', ['check-mapping.cjs'], { cwd: dir })).stdout;
    assert.equal(printed, "{ order_id: 'ord-1', revenue: 99.5, items: [ 'Cap', 'Ruck' ] }\norder complete\n");
    // The dry run example prints the definition check (definitions "check",
    // the default), the upsert, then the event, then no notes.
    const dry = (await run('node', ['dry-run.cjs'], { cwd: dir })).stdout.split('\n');
    assert.match(dry[0], /^GET \/events\/v3\/event-definitions\/purchase\b/);
    assert.match(dry[1], /^POST \/crm\/v3\/objects\/contacts\/batch\/upsert .*"firstname":"Jane"/);
    assert.match(dry[2], /^POST \/events\/v3\/send .*"eventName":"pe12345678_purchase".*"revenue":"42"/);
    assert.equal(dry[3], '[]');
    const dev = (await run('node', ['dev.cjs'], { cwd: dir })).stdout.split('\n');
    assert.equal(dev[0], '21');
    assert.match(dev.slice(1).join(' '), /^\[\s*'defaultEvent',\s*'defaultProperties',\s*'destinationIdentify',/);

    assert.deepEqual(sandbox.events.map(({ occurredAt, uuid, ...rest }) => rest), [
      {
        eventName: 'pe12345678_purchase_completed',
        email: 'jane@example.com',
        properties: { hs_touchpoint_source: 'walkerOS', order_id: 'ord-1', revenue: '99.5' },
        via: 'send',
      },
    ]);

    // TypeScript resolves the installed package through its exports, as
    // an ESM (.mts) and a CommonJS (.cts) file: the default import is the
    // destination in both.
    fs.writeFileSync(
      path.join(dir, 'esm.mts'),
      `import destinationHubspot, { explain, stats, destinationHubspot as named, type Config } from 'walkeros-destination-hubspot';
import { getMappingValue } from 'walkeros-destination-hubspot/mapping';
import { schemas } from 'walkeros-destination-hubspot/dev';
const type: 'hubspot' = destinationHubspot.type;
const same: typeof named = destinationHubspot;
const config: Config = { settings: { accessToken: 'x' } };
void [type, same, config, explain, stats().queued, getMappingValue, schemas.settings];
`,
    );
    fs.writeFileSync(
      path.join(dir, 'cjs.cts'),
      `import destinationHubspot from 'walkeros-destination-hubspot';
const type: 'hubspot' = destinationHubspot.type;
void type;
`,
    );
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'es2022', types: [], esModuleInterop: true }, files: ['esm.mts', 'cjs.cts'] }),
    );
    await run(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: dir }).catch((error) => {
      assert.fail(`TypeScript in the consumer project: ${error.stdout}${error.stderr}`);
    });

    const installed = path.join(dir, 'node_modules', 'walkeros-destination-hubspot');
    const files = fs.readdirSync(installed, { recursive: true });
    assert.ok(files.includes(path.join('dist', 'wasm', 'walkeros_destination_hubspot_bg.wasm')));
    assert.ok(files.includes(path.join('dist', 'walkerOS.json')));
    assert.ok(files.includes('LICENSE'), 'the MIT license the package names ships with it');
  } finally {
    await sandbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
