/**
 * What authors of adapters and feature packages need from the kernel, kept out of the
 * root entry that app authors read: the start-up option checks every package of the
 * toolkit shares.
 *
 * @module \@org/core/adapter
 */
export {
  booleanOption,
  functionOption,
  integerInRange,
  nonNegativeInteger,
  positiveInteger,
} from '../options/check-options.js';
export type { PreparedRoute } from '../toolkit/toolkit.js';
