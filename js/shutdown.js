'use strict';

// Flushes destinations the collector never got to destroy when the process
// ends: on SIGTERM and SIGINT (then the signal is raised again so the
// process ends as it would have), and on beforeExit.

const live = new Set();
let installed = false;
// beforeExit comes again after each flush; HubSpot failing for good must
// not keep a process from ending.
const EXIT_FLUSHES = 3;
let exitFlushes = 0;
// Longest a signal waits for the flush before the process goes on ending.
const SIGNAL_GRACE_MS = 5000;

function flushAll() {
  return Promise.all([...live].map((instance) => instance.flush(true, true)));
}

function onSignal(signal) {
  const done = () => {
    // Ours was a once-listener: with no other listener left, raising the
    // signal again ends the process the default way.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const grace = setTimeout(done, SIGNAL_GRACE_MS);
  grace.unref();
  flushAll().finally(() => {
    clearTimeout(grace);
    done();
  });
}

function install() {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, onSignal);
  process.on('beforeExit', () => {
    // Flushing schedules requests, which keep the loop alive; it stops once
    // nothing is queued.
    if (exitFlushes < EXIT_FLUSHES && [...live].some((instance) => instance.queued() > 0)) {
      exitFlushes += 1;
      flushAll();
    }
  });
}

function register(instance) {
  live.add(instance);
  install();
}

function unregister(instance) {
  live.delete(instance);
}

/** The destinations running in this process (for `stats()`). */
function running() {
  return [...live];
}

module.exports = { register, unregister, running };
