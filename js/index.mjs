// ESM entry: the same destination object as the CommonJS entry.
import destinationHubspot from './index.js';

export const { explain } = destinationHubspot;
export { destinationHubspot };
export default destinationHubspot;
