import type { Category } from '../core/category.js';
import type { TargetReport } from '../core/scan-report.js';
import type { ExposureWindowRow, WatchedStoreRow } from '../store/store-rows.js';
import type { Store } from '../store/store.js';
import { summarizeExposure, windowOf } from './decide-observation.js';
import type { ExposureSummary, ExposureWindow, WatchEvent } from './watch-event.js';

/** One row of `leakwatch status`, in JSON the same shape as in the table. */
export interface StoreStatus {
  name: string;
  target: string;
  protocol: string;
  owner?: string;
  tags: string[];
  watched: boolean;
  state: string;
  since?: string;
  detail: string;
  lastProbeAt?: string;
  probeMs?: number;
  server?: { product: string; version?: string };
  records?: number;
  /** The open exposure window, if the store is (or was last seen) open. */
  exposureWindow?: ExposureWindow;
  exposure?: ExposureSummary;
}

export interface StoreHistory {
  store: StoreStatus;
  windows: ExposureWindow[];
  events: WatchEvent[];
  /** Per field, from the latest classification: categories and counts, never values. */
  fields: { collection: string; path: string; categories: Category[]; records: number; subjects: number }[];
}

function asReport(value: unknown): TargetReport | undefined {
  return value !== null && typeof value === 'object' && 'fields' in value
    ? (value as TargetReport)
    : undefined;
}

function statusOf(row: WatchedStoreRow, window: ExposureWindowRow | undefined, now: Date): StoreStatus {
  const report = asReport(row.exposure);
  return {
    name: row.name,
    target: row.target,
    protocol: row.protocol,
    ...(row.owner === null ? {} : { owner: row.owner }),
    tags: row.tags,
    watched: row.active,
    state: row.state,
    ...(row.stateSince === null ? {} : { since: row.stateSince.toISOString() }),
    detail: row.detail,
    ...(row.lastProbeAt === null ? {} : { lastProbeAt: row.lastProbeAt.toISOString() }),
    ...(row.probeMs === null ? {} : { probeMs: row.probeMs }),
    ...(row.server === null ? {} : { server: row.server }),
    ...(row.records === null ? {} : { records: row.records }),
    ...(window === undefined ? {} : { exposureWindow: windowOf(window, now) }),
    ...(report === undefined || row.classifiedAt === null
      ? {}
      : { exposure: summarizeExposure(report, row.classifiedAt) }),
  };
}

export async function storeStatuses(store: Store, now = new Date()): Promise<StoreStatus[]> {
  const rows = await store.listWatchedStores();
  const statuses: StoreStatus[] = [];
  for (const row of rows) statuses.push(statusOf(row, await store.openWindow(row.id), now));
  return statuses;
}

/** `undefined` when no watched store has that name or target. */
export async function storeHistory(
  store: Store,
  nameOrTarget: string,
  now = new Date(),
): Promise<StoreHistory | undefined> {
  const row = await store.findWatchedStore(nameOrTarget);
  if (row === undefined) return undefined;
  const windows = await store.listWindows(row.id);
  const open = windows.find((w) => w.closedAt === null);
  const report = asReport(row.exposure);
  return {
    store: statusOf(row, open, now),
    windows: windows.map((w) => windowOf(w, now)),
    events: (await store.listEvents(row.id)).map((e) => e.payload as WatchEvent),
    fields: (report?.fields ?? []).map((f) => ({
      collection: f.collection,
      path: f.path,
      categories: f.categories,
      records: f.records,
      subjects: f.subjects,
    })),
  };
}
