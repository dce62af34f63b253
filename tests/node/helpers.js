'use strict';

// Shared set-up for the Node integration tests: the built package (pkg/),
// a real @walkeros/collector and the HubSpot sandbox.

const { startFlow } = require('@walkeros/collector');
const { startSandbox } = require('../sandbox/hubspot.js');
const destinationHubspot = require('../../pkg');

const TOKEN = 'pat-na1-test-secret-token';
const PREFIX = 'pe12345678_';
const LEVELS = ['error', 'warn', 'info', 'debug'];

/**
 * Starts a sandbox and a collector with the destination registered as
 * `hubspot`. `settings` are merged over working defaults (apiBase, token,
 * prefix); `config` holds other destination config (mapping, batch, ...).
 */
async function setup({ settings = {}, config = {}, register = 'flow' } = {}) {
  const sandbox = await startSandbox({ token: TOKEN });
  const logs = [];
  const destinationConfig = {
    ...config,
    settings: { accessToken: TOKEN, eventNamePrefix: PREFIX, apiBase: sandbox.url, ...settings },
  };
  const logger = {
    level: 3,
    handler: (level, message, context, scope) => logs.push({ level: LEVELS[level], message, context, scope }),
  };
  let flow;
  if (register === 'flow') {
    flow = await startFlow({
      logger,
      destinations: { hubspot: { code: destinationHubspot, config: destinationConfig } },
    });
  } else {
    flow = await startFlow({ logger });
    const result = await flow.elb('walker destination', {
      code: destinationHubspot,
      config: { id: 'hubspot', ...destinationConfig },
    });
    if (!result.ok) throw new Error(`registration failed: ${JSON.stringify(result)}`);
  }
  const { collector, elb } = flow;
  return {
    sandbox,
    collector,
    elb,
    logs,
    /** Log lines from the destination at a level. */
    logged(level) {
      return logs.filter((l) => l.level === level && l.scope.includes('hubspot'));
    },
    async shutdown() {
      await elb('walker shutdown');
      await sandbox.close();
    },
  };
}

/** The text of the `error` a collector log line carries (an Error, its
 * serialized form, or a string). */
function errorText(entry) {
  const error = entry && entry.context && entry.context.error;
  if (error && typeof error === 'object') return String(error.message);
  return String(error);
}

/**
 * Waits until `predicate()` is truthy, checking every `interval` ms, and
 * throws after `timeout` ms naming `what`: a regression then fails the test
 * instead of hanging it.
 */
async function waitFor(predicate, { timeout = 10000, interval = 10, what = 'the condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) throw new Error(`waitFor: timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

module.exports = { setup, errorText, waitFor, TOKEN, PREFIX, destinationHubspot, startSandbox };
