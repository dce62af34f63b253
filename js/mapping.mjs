// ESM entry of the mapping helpers.
import mapping from './mapping.js';

export const { getMappingValue, getMappingEvent, compileMappings } = mapping;
export default mapping;
