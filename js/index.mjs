// ESM entry: the same destination object as the CommonJS entry.
import destinationHubspot from './index.js';

export const { explain, stats } = destinationHubspot;
export { destinationHubspot };
export default destinationHubspot;
