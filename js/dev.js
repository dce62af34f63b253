'use strict';

// walkeros-destination-hubspot/dev: what the package says about itself, the
// walkerOS way. `schemas` are the JSON Schemas of `settings` and of a
// rule's `settings`, made by the same Rust table that validates them;
// `examples` are step examples, true by test.

const { schemas: schemasJson } = require('./wasm/walkeros_destination_hubspot.js');
const examples = require('./examples.js');

const schemas = JSON.parse(schemasJson());

module.exports = { schemas, examples };
