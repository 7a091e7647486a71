import type { Category } from '../core/category.js';

/** A scalar read from a record. Objects and arrays are walked by the classifier, never passed here. */
export type Scalar = string | number | boolean;

/**
 * Where a value sits. Computed once per field by the classifier, not once per value, so detectors
 * can afford to look at it on every call.
 */
export interface FieldContext {
  /** The field path as DESIGN.md defines it: `cams[].mac`, `home.net.ssid`, a CSV column name. */
  readonly path: string;
  /**
   * Lower-cased whole words of the last key, split on camelCase, snake_case, kebab-case and digits:
   * `lastLoginAt` → `['last', 'login', 'at']`, `wifi_ssid` → `['wifi', 'ssid']`.
   */
  readonly keyWords: readonly string[];
  /** Lower-cased words of every key of the path (array steps dropped): `home.net.ssid` → `['home', 'net', 'ssid']`. */
  readonly pathWords: readonly string[];
}

export interface DetectorExample {
  readonly path: string;
  readonly value: Scalar;
}

/**
 * One detector: pattern + validator + field-name context + its own examples, in one file
 * (STYLE.md, after gitleaks rules and Presidio recognisers). `match` must be linear in the length
 * of the value (no catastrophic backtracking) and cheap: the classifier calls it per value.
 */
export interface Detector {
  /** Stable public id, kebab-case: `email`, `oauth-token-amazon`, `health-metric`. */
  readonly id: string;
  readonly category: Category;
  /**
   * Whole words of a field name that are evidence for this category. Together with
   * `requiresFieldWord` they let the classifier skip the detector for fields that cannot match.
   */
  readonly fieldWords?: readonly string[];
  /** Value evidence alone is not enough (usernames, passwords, gender): a field word must be present. */
  readonly requiresFieldWord?: boolean;
  /**
   * Counts only on records about a person (TAXONOMY.md: a product catalogue's `weight_g` is not
   * health data). The classifier decides which records are about a person.
   */
  readonly personOnly?: boolean;
  /** Confidence in [0, 1] that `value`, in this field, holds the category; 0 means no. */
  match(value: Scalar, field: FieldContext): number;
  /** Values this detector must recognise, and values it must not; the test suite runs both. */
  readonly examples: {
    readonly match: readonly DetectorExample[];
    readonly noMatch: readonly DetectorExample[];
  };
}
