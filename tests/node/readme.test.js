'use strict';

// The README's settings and examples tables are the package's schemas and
// step examples, rendered.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { render, readmePath, dev } = require('../../pkg-template/readme.js');

test('the README settings, rule-settings and examples tables match the package (make readme renders them)', () => {
  const readme = fs.readFileSync(readmePath, 'utf8');
  assert.equal(readme, render(readme, dev()), 'README.md tables drifted from the schemas: run make readme');
});

test('a drifted table is noticed', () => {
  const readme = fs.readFileSync(readmePath, 'utf8');
  const drifted = readme.replace('| `batchSize` |', '| `batchSize` (renamed) |');
  assert.notEqual(drifted, readme);
  assert.notEqual(render(drifted, dev()), drifted);
});

test('the README stays a page for users: at most 15 KB', () => {
  const size = fs.statSync(readmePath).size;
  assert.ok(size <= 15 * 1024, `README.md is ${size} bytes: design notes go to ARCHITECTURE.md, benchmark analysis to bench/README.md`);
});
