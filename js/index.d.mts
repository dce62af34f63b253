// Types for the ESM entry (index.mjs). index.d.ts describes the CommonJS
// one, whose module.exports is the destination: read as an ES module's
// types, its default would be that whole module instead.
export * from './index.js';
import { destinationHubspot } from './index.js';
export default destinationHubspot;
