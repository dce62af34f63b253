'use strict';

// walkeros-destination-hubspot/dev: what the package says about itself, the
// walkerOS way. `schemas` are the JSON Schemas of `settings` and of a
// rule's `settings`, made by the same Rust table that validates them;
// `examples.step` are step examples, true by test. Both are read from
// walkerOS.json, so the package carries them once.

const shipped = require('./walkerOS.json');

const schemas = shipped.schemas;
const examples = { env: require('./simulation.js'), step: shipped.examples.step };

module.exports = { schemas, examples };
