import type { Algorithm, AlgorithmState } from './algorithm.js';
import { fixedWindow } from './fixed-window.js';
import { gcra } from './gcra.js';
import { slidingWindow } from './sliding-window.js';
import type { RateLimitAlgorithm } from './store.js';

/** Every algorithm by name, for the stores. */
export const ALGORITHMS: Readonly<Record<RateLimitAlgorithm, Algorithm<AlgorithmState>>> = {
  'fixed-window': fixedWindow as unknown as Algorithm<AlgorithmState>,
  'sliding-window': slidingWindow as unknown as Algorithm<AlgorithmState>,
  gcra: gcra as unknown as Algorithm<AlgorithmState>,
};
