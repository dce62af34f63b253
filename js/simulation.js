'use strict';

// For walkerOS's simulation (`walkeros push --simulate`): the env that
// replaces the destination's, and the calls it records.
module.exports = {
  init: { fetch: undefined },
  push: { fetch: () => Promise.resolve(new Response(null, { status: 204 })) },
  simulation: ['fetch'],
};
