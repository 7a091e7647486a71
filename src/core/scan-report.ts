import type { Category } from './category.js';
import type { Protocol } from './protocol.js';

/**
 * What a probe concluded. `open` means an anonymous (or user-named) client can READ data; the other
 * values are expected outcomes, not errors (DESIGN.md invariant 6).
 */
export type ProbeStatus = 'open' | 'auth-required' | 'unreachable' | 'other-protocol' | 'error';
export const probeStatuses = [
  'open',
  'auth-required',
  'unreachable',
  'other-protocol',
  'error',
] as const satisfies readonly ProbeStatus[];

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
/** Most severe first; `severityRank` compares them. */
export const severities = [
  'critical',
  'high',
  'medium',
  'low',
  'info',
] as const satisfies readonly Severity[];

export type Indicator = 'ransom-note' | 'honeypot-suspected' | 'empty';

export interface ServerInfo {
  product: string;
  version?: string;
}

/** Only what is known: a connector leaves out a number it could not measure rather than guess 0. */
export interface StoreSize {
  collections?: number;
  records?: number;
  bytes?: number;
  /** True when `records` is an estimate (PostgreSQL `reltuples`) or a lower bound (a capped listing). */
  approximate?: boolean;
}

export interface CollectionInfo {
  name: string;
  records?: number;
  bytes?: number;
}

export interface FieldFinding {
  collection: string;
  path: string;
  categories: Category[];
  records: number;
  subjects: number;
  confidence: number;
  /** Masked, never raw (DESIGN.md invariant 3). */
  example?: string;
}

export interface SubjectCounts {
  total: number;
  byCategory: Partial<Record<Category, number>>;
}

/** One entry of `targets[]` in the JSON contract (DESIGN.md, `schemaVersion: 1`). */
export interface TargetReport {
  /** As given, credentials removed. */
  target: string;
  /** `unknown` when a bare `host:port` answered but spoke none of the known protocols. */
  protocol: Protocol | 'file' | 'unknown';
  status: ProbeStatus;
  detail: string;
  server?: ServerInfo;
  size?: StoreSize;
  indicators: Indicator[];
  collections: CollectionInfo[];
  fields: FieldFinding[];
  subjects: SubjectCounts;
  severity: Severity;
  fingerprint: string;
  /** Wall time of this target's probe. */
  durationMs?: number;
}

export interface ScanReport {
  schemaVersion: 1;
  tool: { name: 'leakwatch'; version: string };
  startedAt: string;
  finishedAt: string;
  targets: TargetReport[];
}
