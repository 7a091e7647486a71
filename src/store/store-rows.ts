/** Rows as the store returns them (snake_case columns mapped by the queries to these names). */

export interface WatchedStoreRow {
  id: number;
  name: string;
  /** Credentials removed. */
  target: string;
  /** As the user gave it; may hold credentials the user named. Never displayed. */
  probeTarget: string;
  protocol: string;
  owner: string | null;
  tags: string[];
  intervalMs: number;
  active: boolean;
  state: string;
  stateSince: Date | null;
  detail: string;
  lastProbeAt: Date | null;
  lastSuccessAt: Date | null;
  lastProtectedAt: Date | null;
  lastOpenAt: Date | null;
  probeMs: number | null;
  server: { product: string; version?: string } | null;
  records: number | null;
  classifiedAt: Date | null;
  /** The latest classification: a sanitized TargetReport. */
  exposure: unknown;
}

export interface ExposureWindowRow {
  id: number;
  storeId: number;
  openedAt: Date;
  openedAfter: Date | null;
  lastOpenAt: Date;
  closedAt: Date | null;
}

export interface WatchEventRow {
  id: number;
  storeId: number;
  at: Date;
  kind: string;
  fromState: string;
  toState: string;
  windowId: number | null;
  payload: unknown;
}

export interface AlertRow {
  id: number;
  eventId: number;
  channel: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  sentAt: Date | null;
  payload: unknown;
}

export interface ScanRunRow {
  id: number;
  startedAt: Date;
  finishedAt: Date;
  targets: number;
  open: number;
}
