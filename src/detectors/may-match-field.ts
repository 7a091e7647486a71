import type { Detector, FieldContext } from './detector.js';

/**
 * Whether `detector` can match any value of `field`: false only for a detector that requires a
 * field word when no word of the path is one of its `fieldWords`. The classifier calls this once
 * per field and detector (not per value) to skip detectors cheaply. `fieldWords` are singular whole
 * words as `splitFieldWords` yields them; `fieldContext` adds singulars of plural keys.
 */
export function mayMatchField(detector: Detector, field: FieldContext): boolean {
  if (detector.requiresFieldWord !== true) return true;
  const words = detector.fieldWords;
  if (words === undefined) return false;
  for (const w of field.pathWords) if (words.includes(w)) return true;
  return false;
}
