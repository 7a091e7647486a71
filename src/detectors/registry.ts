import type { Detector } from './detector.js';

/**
 * Every detector, in the order ties are broken (more specific first: a vendor token before the
 * generic high-entropy token). Filled as detectors land.
 */
export const detectors: readonly Detector[] = [];
