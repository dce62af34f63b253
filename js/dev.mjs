// ESM entry of ./dev.
import dev from './dev.js';

export const { schemas, examples } = dev;
export default dev;
