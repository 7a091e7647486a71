import type { AffectedPerson } from '../classify/people-ledger.js';
import type { Category } from '../core/category.js';
import { UsageError } from '../core/errors.js';
import { parseTarget } from '../core/parse-target.js';
import type { SubjectCounts } from '../core/scan-report.js';
import { runScan } from '../scan/run-scan.js';
import type { Store } from '../store/store.js';
import { windowOf } from '../watch/decide-observation.js';
import type { Jurisdiction } from './incident.js';
import { createIncident, findOpenIncidentForWindow, type IncidentMeasurement } from './incident-store.js';
import { defaultJurisdictions } from './jurisdictions.js';

export interface OpenIncidentOptions {
  /** The watched store: its name or target; credentials named here are used for the re-read. */
  target: string;
  awareAt?: Date;
  jurisdictions?: Jurisdiction[];
  /** Per connection step of the re-read. */
  timeoutMs?: number;
  /** Deadline of the whole re-read of every record. */
  readTimeoutMs?: number;
  /** Records re-read so far, at most once a second. */
  onRecords?: (records: number) => void;
}

export interface OpenedIncident {
  id: number;
  /** False when an open incident for this window already existed and is returned instead. */
  created: boolean;
}

function countPeople(people: readonly AffectedPerson[]): SubjectCounts {
  const byCategory: Partial<Record<Category, number>> = {};
  for (const person of people) {
    for (const category of person.categories) byCategory[category] = (byCategory[category] ?? 0) + 1;
  }
  return { total: people.length, byCategory };
}

/**
 * Opens an incident for the latest exposure window of a watched store: re-reads every record of
 * the store read-only (the same connectors as scan, no sampling) to list each distinct person with
 * the categories of their data, and stores them sealed with the store's people keys.
 */
export async function openIncident(store: Store, options: OpenIncidentOptions): Promise<OpenedIncident> {
  const row = await store.findWatchedStore(options.target);
  if (row === undefined) {
    throw new UsageError(
      `"${parseTarget(options.target).display}" is not a watched store: watch it first (leakwatch status lists them)`,
    );
  }
  const windows = await store.listWindows(row.id);
  const latest = windows.at(-1);
  if (latest === undefined) {
    throw new UsageError(
      `${row.name} has no recorded exposure window: it was never seen open (leakwatch history ${row.name})`,
    );
  }
  const existing = await findOpenIncidentForWindow(store, latest.id);
  if (existing !== undefined) return { id: existing, created: false };

  // Credentials the user names now win over the anonymous target that watch used.
  const given = parseTarget(options.target);
  const readTarget =
    given.protocol !== undefined && (given.username !== undefined || given.password !== undefined)
      ? options.target
      : row.probeTarget;
  const keys = store.peopleKeys();
  let people: AffectedPerson[] | undefined;
  const report = await runScan({
    targets: [readTarget],
    concurrency: 1,
    timeoutMs: options.timeoutMs ?? 10_000,
    sample: { limit: Infinity, timeoutMs: options.readTimeoutMs ?? 30 * 60_000 },
    people: {
      keys,
      onPeople: (_target, found) => {
        people = found;
      },
      ...(options.onRecords === undefined ? {} : { onRecords: options.onRecords }),
    },
  });
  const target = report.targets[0];
  if (target?.status !== 'open' || people === undefined) {
    throw new UsageError(
      `cannot re-read ${row.name} to list the affected people: ${target?.status ?? 'no answer'} (${target?.detail ?? ''}). ` +
        'If it is protected again, name read-only credentials in --target, e.g. redis://:PASSWORD@host:port',
    );
  }
  const subjects = countPeople(people);
  const categories = Object.keys(subjects.byCategory).sort() as Category[];
  const measurement: IncidentMeasurement = {
    store: {
      name: row.name,
      target: row.target,
      protocol: row.protocol,
      ...(row.owner === null ? {} : { owner: row.owner }),
      tags: row.tags,
    },
    window: windowOf(latest, new Date()),
    categories,
    ...(target.size?.records === undefined ? {} : { records: target.size.records }),
    subjects,
    reachable: people.filter((p) => p.contact !== undefined).length,
    fields: target.fields.map((f) => ({
      collection: f.collection,
      path: f.path,
      categories: f.categories,
      records: f.records,
      subjects: f.subjects,
    })),
  };
  const id = await createIncident(store, {
    storeId: row.id,
    windowId: latest.id,
    awareAt: options.awareAt ?? new Date(),
    detectedAt: latest.openedAt,
    jurisdictions: options.jurisdictions ?? defaultJurisdictions(categories),
    measurement,
    people,
  });
  return { id, created: true };
}
