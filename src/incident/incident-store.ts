import type { AffectedPerson } from '../classify/people-ledger.js';
import type { Category } from '../core/category.js';
import type { SubjectCounts } from '../core/scan-report.js';
import type { SqlClient } from '../store/sql-client.js';
import type { Store } from '../store/store.js';
import type { ExposureWindow } from '../watch/watch-event.js';
import {
  incidentRef,
  type Decision,
  type ExposedField,
  type IncidentFacts,
  type IncidentRecord,
  type Jurisdiction,
  type TimelineEntry,
  type TimelineKind,
} from './incident.js';
import { computeDeadlines } from './jurisdictions.js';

/** What is measured once when an incident opens (the `measured` column). */
export interface IncidentMeasurement {
  store: IncidentRecord['store'];
  window: ExposureWindow;
  categories: Category[];
  records?: number;
  subjects: SubjectCounts;
  reachable: number;
  fields: ExposedField[];
}

interface IncidentRow {
  id: number;
  storeId: number;
  windowId: number | null;
  status: 'open' | 'closed';
  openedAt: Date;
  awareAt: Date;
  containedAt: Date | null;
  closedAt: Date | null;
  jurisdictions: Jurisdiction[];
  measured: IncidentMeasurement;
  facts: IncidentFacts;
}

const incidentColumns = `id, store_id as "storeId", window_id as "windowId", status, opened_at as "openedAt",
  aware_at as "awareAt", contained_at as "containedAt", closed_at as "closedAt", jurisdictions, measured, facts`;

/**
 * People per INSERT: each column goes as one array parameter (unnest), so a batch costs seven
 * parameters whatever its size; 20,000 keeps one statement's arrays to a few MiB.
 */
const personBatch = 20_000;

export interface NewIncident {
  storeId: number;
  windowId: number | null;
  awareAt: Date;
  detectedAt: Date;
  jurisdictions: Jurisdiction[];
  measurement: IncidentMeasurement;
  people: readonly AffectedPerson[];
}

async function insertTimeline(
  db: SqlClient,
  incidentId: number,
  at: Date | string,
  kind: TimelineKind,
  detail: string,
  deadline?: string,
): Promise<void> {
  await db.query(
    'insert into incident_timeline (incident_id, at, kind, detail, deadline) values ($1, $2, $3, $4, $5)',
    [incidentId, at, kind, detail, deadline ?? null],
  );
}

/** Writes a new incident, its first timeline entries and its people in one transaction. */
export async function createIncident(store: Store, incident: NewIncident): Promise<number> {
  return store.db.transaction(async (tx) => {
    const [row] = await tx.query<{ id: number }>(
      `insert into incident (store_id, window_id, aware_at, jurisdictions, measured)
       values ($1, $2, $3, $4::jsonb, $5::jsonb) returning id`,
      [
        incident.storeId,
        incident.windowId,
        incident.awareAt,
        JSON.stringify(incident.jurisdictions),
        JSON.stringify(incident.measurement),
      ],
    );
    if (row === undefined) throw new Error('insert into incident returned no row');
    const id = row.id;
    const window = incident.measurement.window;
    await insertTimeline(
      tx,
      id,
      window.openedAt,
      'exposure-start',
      window.openedAfter === undefined
        ? 'first probe that found the store open (it was open when first watched: the exposure may have begun earlier)'
        : `first probe that found the store open; the last protected probe was at ${window.openedAfter}`,
    );
    await insertTimeline(tx, id, incident.detectedAt, 'detected', 'leakwatch watch detected the exposure');
    if (window.closedAt !== undefined) {
      await insertTimeline(
        tx,
        id,
        window.closedAt,
        'exposure-end',
        `first probe that found the store protected again; last seen open at ${window.lastOpenAt}`,
      );
    }
    await insertTimeline(
      tx,
      id,
      incident.awareAt,
      'aware',
      'the organisation became aware (incident opened)',
    );
    await insertTimeline(
      tx,
      id,
      new Date(),
      'people-computed',
      `${incident.measurement.subjects.total} distinct people, ${incident.measurement.reachable} with a contact address, from a read-only re-read of the store`,
    );
    // The foreign key to the incident written a moment ago in this transaction cannot dangle, and
    // its per-row check was a third of writing 2.4 million people on PGlite, which runs as superuser
    // with one connection (see prepareOutbox); PostgreSQL keeps the check.
    if (store.db.kind === 'pglite') await tx.query('set local session_replication_role = replica');
    // One row per subject hash, kept here rather than with ON CONFLICT, whose speculative insertion
    // doubles the cost of every row.
    const seen = new Set<string>();
    const people = incident.people.filter((person) => {
      if (seen.has(person.subjectHash)) return false;
      seen.add(person.subjectHash);
      return true;
    });
    for (let start = 0; start < people.length; start += personBatch) {
      const batch = people.slice(start, start + personBatch);
      await tx.query(
        `insert into affected_person (incident_id, subject_hash, identifier_kind, categories, contact_hash, contact, identifier)
         select $1, s, k, c::jsonb, h, ct, i
         from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) as u(s, k, c, h, ct, i)`,
        [
          id,
          batch.map((p) => p.subjectHash),
          batch.map((p) => p.identifierKind),
          batch.map((p) => JSON.stringify(p.categories)),
          batch.map((p) => p.contactHash ?? null),
          batch.map((p) => p.contact ?? null),
          batch.map((p) => p.identifier ?? null),
        ],
      );
    }
    if (store.db.kind === 'pglite') {
      await tx.query('set local session_replication_role = origin');
      // PGlite has no autovacuum to gather statistics: without them the planner read every person
      // of the incident for each revocation batch.
      await tx.query('analyze affected_person');
    }
    return id;
  });
}

export async function findOpenIncidentForWindow(store: Store, windowId: number): Promise<number | undefined> {
  const [row] = await store.db.query<{ id: number }>(
    `select id from incident where window_id = $1 and status = 'open'`,
    [windowId],
  );
  return row?.id;
}

export async function loadIncident(store: Store, id: number): Promise<IncidentRecord | undefined> {
  const [row] = await store.db.query<IncidentRow>(`select ${incidentColumns} from incident where id = $1`, [
    id,
  ]);
  if (row === undefined) return undefined;
  const timeline = await store.db.query<{
    at: Date;
    kind: TimelineKind;
    detail: string;
    deadline: string | null;
  }>('select at, kind, detail, deadline from incident_timeline where incident_id = $1 order by at, id', [id]);
  const decisions = await store.db.query<{
    at: Date;
    decision: string;
    rationale: string;
    by: string | null;
  }>(
    'select at, decision, rationale, decided_by as by from incident_decision where incident_id = $1 order by id',
    [id],
  );
  const entries: TimelineEntry[] = timeline.map((t) => ({
    at: t.at.toISOString(),
    kind: t.kind,
    detail: t.detail,
    ...(t.deadline === null ? {} : { deadline: t.deadline as NonNullable<TimelineEntry['deadline']> }),
  }));
  const deadlines = computeDeadlines(row.jurisdictions, row.awareAt).map((deadline) => {
    const done = entries.find((e) => e.kind === 'notification' && e.deadline === deadline.id);
    return done === undefined ? deadline : { ...deadline, doneAt: done.at };
  });
  const m = row.measured;
  return {
    id: row.id,
    ref: incidentRef(row.id),
    status: row.status,
    store: m.store,
    window: m.window,
    detectedAt: m.window.openedAt,
    awareAt: row.awareAt.toISOString(),
    ...(row.containedAt === null ? {} : { containedAt: row.containedAt.toISOString() }),
    ...(row.closedAt === null ? {} : { closedAt: row.closedAt.toISOString() }),
    jurisdictions: row.jurisdictions,
    categories: m.categories,
    ...(m.records === undefined ? {} : { records: m.records }),
    subjects: m.subjects,
    reachable: m.reachable,
    fields: m.fields,
    deadlines,
    timeline: entries,
    decisions: decisions.map((d): Decision => ({
      at: d.at.toISOString(),
      decision: d.decision,
      rationale: d.rationale,
      ...(d.by === null ? {} : { by: d.by }),
    })),
    facts: row.facts,
  };
}

export interface IncidentSummary {
  id: number;
  ref: string;
  status: 'open' | 'closed';
  store: string;
  openedAt: string;
  awareAt: string;
  people: number;
}

export async function listIncidents(store: Store): Promise<IncidentSummary[]> {
  const rows = await store.db.query<IncidentRow>(`select ${incidentColumns} from incident order by id`);
  return rows.map((row) => ({
    id: row.id,
    ref: incidentRef(row.id),
    status: row.status,
    store: row.measured.store.name,
    openedAt: row.openedAt.toISOString(),
    awareAt: row.awareAt.toISOString(),
    people: row.measured.subjects.total,
  }));
}

export async function appendTimeline(
  store: Store,
  id: number,
  kind: TimelineKind,
  detail: string,
  deadline?: string,
  at: Date = new Date(),
): Promise<void> {
  await insertTimeline(store.db, id, at, kind, detail, deadline);
}

export async function addDecision(store: Store, id: number, decision: Omit<Decision, 'at'>): Promise<void> {
  await store.db.query(
    'insert into incident_decision (incident_id, decision, rationale, decided_by) values ($1, $2, $3, $4)',
    [id, decision.decision, decision.rationale, decision.by ?? null],
  );
}

export async function updateFacts(store: Store, id: number, facts: IncidentFacts): Promise<void> {
  await store.db.query(`update incident set facts = facts || $2::jsonb where id = $1`, [
    id,
    JSON.stringify(facts),
  ]);
}

export async function markContained(store: Store, id: number, at: Date): Promise<void> {
  await store.db.transaction(async (tx) => {
    await tx.query('update incident set contained_at = $2 where id = $1 and contained_at is null', [id, at]);
    await insertTimeline(tx, id, at, 'contained', 'the store was protected again');
  });
}

/**
 * Closes an incident and purges what identifies its people: sealed contacts and identifiers are
 * deleted (keyed hashes and category lists stay for the record), pending notifications cancelled.
 */
export async function closeIncident(store: Store, id: number, reason: string): Promise<number> {
  return store.db.transaction(async (tx) => {
    const purged = await tx.query<{ id: number }>(
      `update affected_person set contact = null, identifier = null
       where incident_id = $1 and (contact is not null or identifier is not null) returning id`,
      [id],
    );
    await tx.query(
      `update notification set status = 'cancelled', lease_until = null where incident_id = $1 and status = 'pending'`,
      [id],
    );
    await tx.query(`update incident set status = 'closed', closed_at = now() where id = $1`, [id]);
    await insertTimeline(
      tx,
      id,
      new Date(),
      'closed',
      `${reason}; sealed contacts and identifiers of ${purged.length} people purged`,
    );
    return purged.length;
  });
}
