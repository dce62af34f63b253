// ESM entry of the mapping helpers.
import mapping from './mapping.js';

export const { getMappingValue, getMappingEvent } = mapping;
export default mapping;
