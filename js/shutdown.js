'use strict';

// Drains destinations the collector never got to destroy when the process
// ends: on SIGTERM and SIGINT (the process stays alive until every drain
// ends within its shutdownTimeout, then the signal is raised again so the
// process ends as it would have), and on beforeExit.

const live = new Set();
let installed = false;

function drainAll() {
  return Promise.all([...live].map((instance) => instance.stop()));
}

function onSignal(signal) {
  drainAll().finally(() => {
    // Ours was a once-listener: with no other listener left, raising the
    // signal again ends the process the default way.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function install() {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, onSignal);
  // The process is about to end with events still queued (their retry
  // timers do not keep it alive): the drain's requests and waits do, until
  // it ends. A drained destination is no longer live, so this ends.
  process.on('beforeExit', () => {
    if ([...live].some((instance) => instance.queued() > 0)) drainAll();
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
