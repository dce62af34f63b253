'use strict';

// Turns wasm-pack's output into the npm package in pkg/: the package.json
// template (versioned from Cargo.toml), the LICENSE and the README (less its
// Development section) at the top, and in dist/ the js/ shell, the wasm and
// its glue, and walkerOS.json (the schemas and examples of ./dev as JSON, as
// walkerOS packages ship it). Everything but those three lives in
// dist/ because the walkerOS CLI copies only package.json and dist/ of a
// local package that has one. Run by `make pkg`.

const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const wasmDir = path.join(root, 'target', 'wasm-pack');
const out = path.join(root, 'pkg');
const dist = path.join(out, 'dist');
const glue = 'walkeros_destination_hubspot.js';
const wasm = 'walkeros_destination_hubspot_bg.wasm';

for (const file of [glue, wasm]) {
  if (!fs.existsSync(path.join(wasmDir, file))) {
    console.error(`assemble: ${path.join('target', 'wasm-pack', file)} is missing; run wasm-pack build first (make pkg does)`);
    process.exit(1);
  }
}

const cargo = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
const version = /^version\s*=\s*"([^"]+)"/m.exec(cargo)[1];

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(dist, 'wasm'), { recursive: true });

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, 'package.json'), 'utf8'));
manifest.version = version;
fs.writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

// The examples' source; they ship inside walkerOS.json.
const notShipped = new Set(['examples.js']);
for (const file of fs.readdirSync(path.join(root, 'js'))) {
  if (notShipped.has(file)) continue;
  fs.copyFileSync(path.join(root, 'js', file), path.join(dist, file));
}
fs.copyFileSync(path.join(wasmDir, glue), path.join(dist, 'wasm', glue));
fs.copyFileSync(path.join(wasmDir, wasm), path.join(dist, 'wasm', wasm));
fs.writeFileSync(path.join(out, 'README.md'), userReadme(fs.readFileSync(path.join(root, 'README.md'), 'utf8')));
fs.copyFileSync(path.join(root, 'LICENSE'), path.join(out, 'LICENSE'));
fs.writeFileSync(path.join(dist, 'walkerOS.json'), walkerOSJson(manifest));

const size = fs.statSync(path.join(dist, 'wasm', wasm)).size;
console.log(`assemble: pkg/ ready (walkeros-destination-hubspot ${version}, wasm ${(size / 1024).toFixed(0)} KiB)`);

/** The README without its Development section, which is about working
 * on this repository, not using the package. */
function userReadme(readme) {
  const start = readme.indexOf('\n## Development\n');
  const end = readme.indexOf('\n## ', start + 1);
  if (start < 0 || end < 0) throw new Error('assemble: README.md has no "## Development" section before another one');
  return readme.slice(0, start) + readme.slice(end);
}

/** The package's self-description for walkerOS tooling: the schemas (from
 * the Rust table, through the wasm) and the examples, with functions as
 * `{ "$code": source }` (walkerOS's convention). ./dev reads it back. */
function walkerOSJson(manifest) {
  const schemas = require(path.join(dist, 'wasm', glue)).schemas();
  const examples = { env: require(path.join(root, 'js', 'simulation.js')), step: require(path.join(root, 'js', 'examples.js')).step };
  const meta = {
    package: manifest.name,
    version: manifest.version,
    type: manifest.walkerOS.type,
    platform: manifest.walkerOS.platform,
  };
  const code = (key, value) => (typeof value === 'function' ? { $code: value.toString() } : value);
  return JSON.stringify({ $meta: meta, schemas, examples }, code);
}
