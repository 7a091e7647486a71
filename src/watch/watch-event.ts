import type { Category } from '../core/category.js';
import type { SubjectCounts } from '../core/scan-report.js';

/**
 * What the watcher believes about a store's protection, from its latest probe. `unknown` only before
 * the first probe; `error` covers a server that answered but broke its protocol.
 */
export type StoreState = 'unknown' | 'protected' | 'open' | 'unreachable' | 'error';
export const storeStates = [
  'unknown',
  'protected',
  'open',
  'unreachable',
  'error',
] as const satisfies readonly StoreState[];

/**
 * One entry of a store's timeline. Protection transitions (`opened`, `closed`), reachability
 * (`unreachable`, `recovered`), and what a re-classification of an open store found changed.
 * `first-seen` starts the timeline and alerts only when the store is already open.
 */
export type WatchEventKind =
  | 'first-seen'
  | 'opened'
  | 'closed'
  | 'unreachable'
  | 'recovered'
  | 'new-collections'
  | 'new-fields'
  | 'size-jump'
  | 'ransom-note';
export const watchEventKinds = [
  'first-seen',
  'opened',
  'closed',
  'unreachable',
  'recovered',
  'new-collections',
  'new-fields',
  'size-jump',
  'ransom-note',
] as const satisfies readonly WatchEventKind[];

/** An exposure window: when a store could be read without credentials, as precisely as probes tell. */
export interface ExposureWindow {
  /** First probe that found the store open. */
  openedAt: string;
  /** Last probe that found it protected before that: the exposure began after this. Absent when the store was open when first watched. */
  openedAfter?: string;
  /** First probe that found it protected again; absent while the window is open. */
  closedAt?: string;
  /** Last probe that found it open: the exposure lasted at least until this. */
  lastOpenAt: string;
  /** `closedAt - openedAt`, or now - openedAt for an open window. */
  durationMs: number;
}

/** What the latest classification of the store found; counts and categories, never values. */
export interface ExposureSummary {
  classifiedAt: string;
  records?: number;
  collections?: number;
  categories: Category[];
  subjects: SubjectCounts;
}

export interface WatchedStoreRef {
  name: string;
  /** Credentials removed. */
  target: string;
  protocol: string;
  owner?: string;
  tags: string[];
}

/**
 * The payload of every alert channel (the webhook body verbatim). `id` is stable across restarts
 * and retries: Standard Webhooks' `webhook-id`, receivers deduplicate on it.
 */
export interface WatchEvent {
  id: string;
  kind: WatchEventKind;
  /** ISO 8601, when the probe that saw the change finished. */
  at: string;
  store: WatchedStoreRef;
  fromState: StoreState;
  toState: StoreState;
  /** One sanitized human line, e.g. "Redis 7.0.15 answers without a password (2,400 keys)". */
  detail: string;
  window?: ExposureWindow;
  exposure?: ExposureSummary;
  /** For re-classification events: what is new. */
  changes?: {
    collections?: string[];
    fields?: string[];
    categories?: Category[];
    recordsBefore?: number;
    recordsAfter?: number;
  };
}
