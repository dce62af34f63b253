'use strict';

// The README's settings and rule-settings tables, rendered from the
// package's JSON Schemas (which the Rust validator's own table produces).
// `node pkg-template/readme.js --write` updates README.md after `make pkg`;
// tests/node/readme.test.js fails when the README and the schemas drift.

const fs = require('node:fs');
const path = require('node:path');

const readmePath = path.resolve(__dirname, '..', 'README.md');

function typeOf(field) {
  if (field.anyOf) return field.anyOf.some((t) => t.const === false) ? 'mapping value or `false`' : 'mapping value';
  if (field.format === 'uri') return 'URL';
  if (field.type === 'integer') return `integer ${field.minimum.toLocaleString('en')}–${field.maximum.toLocaleString('en')}`;
  if (field.pattern) return `string \`${field.pattern}\``;
  return field.type;
}

function table(schema, heading) {
  const required = new Set(schema.required);
  const rows = Object.entries(schema.properties).map(([name, field]) => {
    const star = required.has(name) ? ' *' : '';
    const fallback = field.default === undefined ? '' : `\`${JSON.stringify(field.default)}\``;
    const text = field.description.replace(/\|/g, '\\|');
    return `| \`${name}\`${star} | ${typeOf(field)} | ${fallback} | ${text} |`;
  });
  return [`| ${heading} | type | default | what it does |`, '|---|---|---|---|', ...rows].join('\n');
}

/** `readme` with the text between each pair of markers rendered anew. */
function render(readme, schemas) {
  const parts = { 'settings-table': table(schemas.settings, 'setting'), 'rule-settings-table': table(schemas.mapping, 'rule `settings`') };
  let out = readme;
  for (const [name, body] of Object.entries(parts)) {
    const start = `<!-- ${name}: generated from the schemas by pkg-template/readme.js -->`;
    const end = `<!-- /${name} -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no ${start} ... ${end} block`);
    out = `${out.slice(0, from + start.length)}\n${body}\n${out.slice(to)}`;
  }
  return out;
}

function schemas() {
  return require(path.resolve(__dirname, '..', 'pkg', 'dist', 'dev.js')).schemas;
}

if (require.main === module) {
  const readme = fs.readFileSync(readmePath, 'utf8');
  const next = render(readme, schemas());
  if (process.argv.includes('--write')) fs.writeFileSync(readmePath, next);
  else process.stdout.write(next);
}

module.exports = { render, readmePath, schemas };
