import type { Category } from '../core/category.js';
import type { ProbeStatus, TargetReport } from '../core/scan-report.js';
import type { ExposureWindowRow, WatchedStoreRow } from '../store/store-rows.js';
import type { ObservationWrite } from '../store/store.js';
import type {
  ExposureSummary,
  ExposureWindow,
  StoreState,
  WatchEvent,
  WatchEventKind,
} from './watch-event.js';

/** One probe of a watched store, and its classification when the probe sampled records. */
export interface Observation {
  at: Date;
  report: TargetReport;
  /** True when `report` holds fields and subjects from sampling, not just the size. */
  classified: boolean;
}

/** A record count moving by at least this share (and at least `sizeJumpMinRecords`) is news. */
const sizeJumpShare = 0.5;
const sizeJumpMinRecords = 100;

function isSizeJump(before: number | undefined, after: number | undefined): boolean {
  if (before === undefined || after === undefined) return false;
  const delta = Math.abs(after - before);
  return delta >= sizeJumpMinRecords && delta >= sizeJumpShare * before;
}

export function stateOf(status: ProbeStatus): StoreState {
  switch (status) {
    case 'open':
      return 'open';
    case 'auth-required':
      return 'protected';
    case 'unreachable':
      return 'unreachable';
    case 'other-protocol':
    case 'error':
      return 'error';
  }
}

function isStoreState(text: string): text is StoreState {
  return ['unknown', 'protected', 'open', 'unreachable', 'error'].includes(text);
}

export function summarizeExposure(report: TargetReport, classifiedAt: Date): ExposureSummary {
  const categories = new Set<Category>();
  for (const field of report.fields) for (const category of field.categories) categories.add(category);
  return {
    classifiedAt: classifiedAt.toISOString(),
    ...(report.size?.records === undefined ? {} : { records: report.size.records }),
    ...(report.size?.collections === undefined ? {} : { collections: report.size.collections }),
    categories: [...categories].sort(),
    subjects: report.subjects,
  };
}

export function windowOf(row: ExposureWindowRow, now: Date): ExposureWindow {
  const end = row.closedAt ?? now;
  return {
    openedAt: row.openedAt.toISOString(),
    ...(row.openedAfter === null ? {} : { openedAfter: row.openedAfter.toISOString() }),
    ...(row.closedAt === null ? {} : { closedAt: row.closedAt.toISOString() }),
    lastOpenAt: row.lastOpenAt.toISOString(),
    durationMs: Math.max(0, end.getTime() - row.openedAt.getTime()),
  };
}

function asReport(value: unknown): TargetReport | undefined {
  return value !== null && typeof value === 'object' && 'fields' in value
    ? (value as TargetReport)
    : undefined;
}

interface PendingEvent {
  kind: WatchEventKind;
  detail: string;
  alert: boolean;
  changes?: WatchEvent['changes'];
}

/** What a fresh classification shows that the previous one did not. */
function contentEvents(before: TargetReport, after: TargetReport): PendingEvent[] {
  const events: PendingEvent[] = [];
  const oldCollections = new Set(before.collections.map((c) => c.name));
  const newCollections = after.collections.map((c) => c.name).filter((name) => !oldCollections.has(name));
  if (oldCollections.size > 0 && newCollections.length > 0) {
    events.push({
      kind: 'new-collections',
      detail: `${newCollections.length} new collection(s): ${newCollections.slice(0, 5).join(', ')}`,
      alert: true,
      changes: { collections: newCollections },
    });
  }
  const oldFields = new Set(before.fields.map((f) => `${f.collection}\u0000${f.path}`));
  const oldCategories = new Set(before.fields.flatMap((f) => f.categories));
  const newFields = after.fields
    .filter((f) => !oldFields.has(`${f.collection}\u0000${f.path}`))
    .map((f) => `${f.collection}.${f.path}`);
  const newCategories = [...new Set(after.fields.flatMap((f) => f.categories))].filter(
    (c) => !oldCategories.has(c),
  );
  if (newFields.length > 0 || newCategories.length > 0) {
    events.push({
      kind: 'new-fields',
      detail:
        newCategories.length > 0
          ? `new categories exposed: ${newCategories.join(', ')}`
          : `${newFields.length} new personal-data field(s): ${newFields.slice(0, 5).join(', ')}`,
      alert: true,
      changes: { fields: newFields, categories: newCategories },
    });
  }
  const recordsBefore = before.size?.records;
  const recordsAfter = after.size?.records;
  if (recordsBefore !== undefined && recordsAfter !== undefined) {
    if (isSizeJump(recordsBefore, recordsAfter)) {
      events.push({
        kind: 'size-jump',
        detail: `records ${recordsBefore.toLocaleString('en-US')} -> ${recordsAfter.toLocaleString('en-US')}`,
        alert: true,
        changes: { recordsBefore, recordsAfter },
      });
    }
  }
  if (after.indicators.includes('ransom-note') && !before.indicators.includes('ransom-note')) {
    events.push({ kind: 'ransom-note', detail: 'a ransom note appeared in the store', alert: true });
  }
  return events;
}

/**
 * The heart of `watch`: from the store as last recorded and one new probe, the state change, the
 * exposure window and the timeline events (DESIGN.md watch/). Pure, so every transition is tested
 * without a network, and deterministic, so a probe repeated after a crash yields the same writes.
 */
export function decideObservation(
  current: WatchedStoreRow,
  window: ExposureWindowRow | undefined,
  observation: Observation,
): ObservationWrite {
  const { at, report } = observation;
  const previous: StoreState = isStoreState(current.state) ? current.state : 'unknown';
  const state = stateOf(report.status);
  const write: ObservationWrite = {
    store: {
      state,
      detail: report.detail,
      lastProbeAt: at,
      probeMs: report.durationMs ?? null,
      ...(state !== previous ? { stateSince: at } : {}),
      ...(state === 'open' || state === 'protected' ? { lastSuccessAt: at } : {}),
      ...(state === 'protected' ? { lastProtectedAt: at } : {}),
      ...(state === 'open' ? { lastOpenAt: at } : {}),
      ...(report.server === undefined ? {} : { server: report.server }),
      ...(report.size?.records === undefined ? {} : { records: report.size.records }),
    },
    events: [],
  };
  const pending: PendingEvent[] = [];
  const storeDetail = report.detail;

  if (state === 'open') {
    if (window === undefined) {
      write.openWindow = { openedAt: at, openedAfter: current.lastProtectedAt };
      pending.push(
        previous === 'unknown'
          ? { kind: 'first-seen', detail: `open when first watched: ${storeDetail}`, alert: true }
          : { kind: 'opened', detail: storeDetail, alert: true },
      );
    } else {
      write.updateWindow = { lastOpenAt: at };
      if (previous !== 'open') pending.push({ kind: 'recovered', detail: storeDetail, alert: true });
    }
  } else if (state === 'protected') {
    if (window !== undefined) {
      write.updateWindow = { closedAt: at };
      pending.push({ kind: 'closed', detail: storeDetail, alert: true });
    } else if (previous === 'unknown') {
      pending.push({ kind: 'first-seen', detail: storeDetail, alert: false });
    } else if (previous !== 'protected') {
      pending.push({ kind: 'recovered', detail: storeDetail, alert: true });
    }
  } else if (state !== previous) {
    // unreachable or error: the window (if any) stays open, since nobody saw it closed.
    pending.push({
      kind: previous === 'unknown' ? 'first-seen' : 'unreachable',
      detail: storeDetail,
      alert: previous !== 'unknown',
    });
  }

  const before = asReport(current.exposure);
  let exposure =
    before === undefined || current.classifiedAt === null
      ? undefined
      : summarizeExposure(before, current.classifiedAt);
  if (observation.classified && state === 'open') {
    write.store.exposure = report;
    write.store.classifiedAt = at;
    exposure = summarizeExposure(report, at);
    // Content changes are news only within one exposure; a new window's opening alert says it all.
    if (before !== undefined && window !== undefined) pending.push(...contentEvents(before, report));
  }

  for (const event of pending) {
    write.events.push({
      kind: event.kind,
      at,
      fromState: previous,
      toState: state,
      alert: event.alert,
      payload: (id, row): WatchEvent => ({
        id: `lw-evt-${id}`,
        kind: event.kind,
        at: at.toISOString(),
        store: {
          name: current.name,
          target: current.target,
          protocol: current.protocol,
          ...(current.owner === null ? {} : { owner: current.owner }),
          tags: current.tags,
        },
        fromState: previous,
        toState: state,
        detail: event.detail,
        ...(row === undefined ? {} : { window: windowOf(row, at) }),
        ...(exposure === undefined ? {} : { exposure }),
        ...(event.changes === undefined ? {} : { changes: event.changes }),
      }),
    });
  }
  return write;
}

/**
 * Whether the next probe of an open store should sample records: on every change (it just opened,
 * its size or indicators moved) and every `classifyIntervalMs` otherwise.
 */
export function needsClassification(
  current: WatchedStoreRow,
  report: TargetReport,
  classifyIntervalMs: number,
  now: Date,
): boolean {
  if (report.status !== 'open') return false;
  if (current.state !== 'open' || current.classifiedAt === null) return true;
  if (now.getTime() - current.classifiedAt.getTime() >= classifyIntervalMs) return true;
  const before = asReport(current.exposure);
  if (before === undefined) return true;
  if (isSizeJump(before.size?.records, report.size?.records)) return true;
  // Only a count both reports know: a connector that counts collections only while sampling would
  // otherwise trigger a sampling on every probe.
  const collectionsBefore = before.size?.collections;
  const collectionsNow = report.size?.collections;
  if (
    collectionsBefore !== undefined &&
    collectionsNow !== undefined &&
    collectionsNow !== collectionsBefore
  ) {
    return true;
  }
  return report.indicators.some((indicator) => !before.indicators.includes(indicator));
}
