'use strict';

// The README's settings tables are the published schemas, rendered.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { render, readmePath, schemas } = require('../../pkg-template/readme.js');

test('the README settings and rule-settings tables match the schemas (make readme renders them)', () => {
  const readme = fs.readFileSync(readmePath, 'utf8');
  assert.equal(readme, render(readme, schemas()), 'README.md tables drifted from the schemas: run make readme');
});

test('a drifted table is noticed', () => {
  const readme = fs.readFileSync(readmePath, 'utf8');
  const drifted = readme.replace('| `batchSize` |', '| `batchSize` (renamed) |');
  assert.notEqual(drifted, readme);
  assert.notEqual(render(drifted, schemas()), drifted);
});
