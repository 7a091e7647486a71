import { describe, expect, it } from 'vitest';
import type { ProbeStatus, TargetReport } from '../core/scan-report.js';
import type { ExposureWindowRow, WatchedStoreRow } from '../store/store-rows.js';
import type { ObservationWrite } from '../store/store.js';
import { decideObservation, needsClassification, stateOf, type Observation } from './decide-observation.js';
import type { StoreState, WatchEvent } from './watch-event.js';

const t0 = new Date('2024-03-01T10:00:00.000Z');
const at = (seconds: number): Date => new Date(t0.getTime() + seconds * 1000);

function storeRow(overrides: Partial<WatchedStoreRow> = {}): WatchedStoreRow {
  return {
    id: 7,
    name: 'sessions',
    target: 'redis://127.0.0.1:6379',
    probeTarget: 'redis://:s3cret@127.0.0.1:6379',
    protocol: 'redis',
    owner: 'platform-team',
    tags: ['prod'],
    intervalMs: 5_000,
    active: true,
    state: 'unknown',
    stateSince: null,
    detail: '',
    lastProbeAt: null,
    lastSuccessAt: null,
    lastProtectedAt: null,
    lastOpenAt: null,
    probeMs: null,
    server: null,
    records: null,
    classifiedAt: null,
    exposure: null,
    ...overrides,
  };
}

function report(status: ProbeStatus, overrides: Partial<TargetReport> = {}): TargetReport {
  return {
    target: 'redis://127.0.0.1:6379',
    protocol: 'redis',
    status,
    detail: `redis says ${status}`,
    server: { product: 'redis', version: '7.0.15' },
    indicators: [],
    collections: [],
    fields: [],
    subjects: { total: 0, byCategory: {} },
    severity: status === 'open' ? 'high' : 'info',
    fingerprint: 'fp',
    durationMs: 12,
    ...overrides,
  };
}

/** An open store's classification: `users` with emails, `records` records. */
function classified(overrides: Partial<TargetReport> = {}): TargetReport {
  return report('open', {
    size: { collections: 1, records: 1_000 },
    collections: [{ name: 'users', records: 1_000 }],
    fields: [
      {
        collection: 'users',
        path: 'email',
        categories: ['email'],
        records: 1_000,
        subjects: 990,
        confidence: 0.98,
        example: 'j***@e***.com',
      },
    ],
    subjects: { total: 990, byCategory: { email: 990 } },
    ...overrides,
  });
}

function openWindow(overrides: Partial<ExposureWindowRow> = {}): ExposureWindowRow {
  return {
    id: 3,
    storeId: 7,
    openedAt: at(0),
    openedAfter: at(-5),
    lastOpenAt: at(0),
    closedAt: null,
    ...overrides,
  };
}

function observe(status: ProbeStatus, seconds: number, overrides: Partial<TargetReport> = {}): Observation {
  return { at: at(seconds), report: report(status, overrides), classified: false };
}

/**
 * Plays `write` against the in-memory row and window as Store.recordObservation does against the
 * database, so a sequence of probes can be followed across several decisions.
 */
function apply(
  row: WatchedStoreRow,
  window: ExposureWindowRow | undefined,
  write: ObservationWrite,
  nextWindowId: number,
): { row: WatchedStoreRow; window: ExposureWindowRow | undefined; events: WatchEvent[] } {
  let current = window;
  if (write.openWindow !== undefined && current === undefined) {
    current = {
      id: nextWindowId,
      storeId: row.id,
      openedAt: write.openWindow.openedAt,
      openedAfter: write.openWindow.openedAfter,
      lastOpenAt: write.openWindow.openedAt,
      closedAt: null,
    };
  } else if (write.updateWindow !== undefined && current !== undefined) {
    current = {
      ...current,
      lastOpenAt: write.updateWindow.lastOpenAt ?? current.lastOpenAt,
      closedAt: write.updateWindow.closedAt ?? null,
    };
  }
  const events = write.events.map((event, i) => event.payload(100 + i, current) as WatchEvent);
  const next = { ...row, ...write.store };
  return { row: next, window: current?.closedAt === null ? current : undefined, events };
}

function kinds(write: ObservationWrite): [string, boolean][] {
  return write.events.map((e) => [e.kind, e.alert]);
}

describe('stateOf', () => {
  it.each<[ProbeStatus, StoreState]>([
    ['open', 'open'],
    ['auth-required', 'protected'],
    ['unreachable', 'unreachable'],
    ['other-protocol', 'error'],
    ['error', 'error'],
  ])('%s -> %s', (status, state) => {
    expect(stateOf(status)).toBe(state);
  });
});

describe('decideObservation: single transitions', () => {
  interface Case {
    name: string;
    row: Partial<WatchedStoreRow>;
    window?: ExposureWindowRow;
    status: ProbeStatus;
    events: [string, boolean][];
    openWindow?: { openedAt: Date; openedAfter: Date | null };
    updateWindow?: { lastOpenAt?: Date; closedAt?: Date };
    state: StoreState;
  }
  const cases: Case[] = [
    {
      name: 'first probe protected: first-seen, no alert, no window',
      row: {},
      status: 'auth-required',
      events: [['first-seen', false]],
      state: 'protected',
    },
    {
      name: 'first probe open: first-seen with an alert, a window opened after nothing',
      row: {},
      status: 'open',
      events: [['first-seen', true]],
      openWindow: { openedAt: at(10), openedAfter: null },
      state: 'open',
    },
    {
      name: 'first probe unreachable: first-seen, no alert',
      row: {},
      status: 'unreachable',
      events: [['first-seen', false]],
      state: 'unreachable',
    },
    {
      name: 'protected -> open: opened, window opened after the last protected probe',
      row: { state: 'protected', lastProtectedAt: at(5) },
      status: 'open',
      events: [['opened', true]],
      openWindow: { openedAt: at(10), openedAfter: at(5) },
      state: 'open',
    },
    {
      name: 'protected -> protected: nothing new',
      row: { state: 'protected', lastProtectedAt: at(5) },
      status: 'auth-required',
      events: [],
      state: 'protected',
    },
    {
      name: 'open -> open: the window is extended, no event',
      row: { state: 'open', lastOpenAt: at(5) },
      window: openWindow(),
      status: 'open',
      events: [],
      updateWindow: { lastOpenAt: at(10) },
      state: 'open',
    },
    {
      name: 'open -> protected: closed, the window closes',
      row: { state: 'open', lastOpenAt: at(5) },
      window: openWindow(),
      status: 'auth-required',
      events: [['closed', true]],
      updateWindow: { closedAt: at(10) },
      state: 'protected',
    },
    {
      name: 'open -> unreachable: unreachable with an alert, the window stays open',
      row: { state: 'open' },
      window: openWindow(),
      status: 'unreachable',
      events: [['unreachable', true]],
      state: 'unreachable',
    },
    {
      name: 'unreachable -> unreachable: nothing new',
      row: { state: 'unreachable' },
      status: 'unreachable',
      events: [],
      state: 'unreachable',
    },
    {
      name: 'unreachable (window open) -> open: recovered, same window extended',
      row: { state: 'unreachable' },
      window: openWindow(),
      status: 'open',
      events: [['recovered', true]],
      updateWindow: { lastOpenAt: at(10) },
      state: 'open',
    },
    {
      name: 'unreachable (no window) -> protected: recovered',
      row: { state: 'unreachable', lastProtectedAt: at(0) },
      status: 'auth-required',
      events: [['recovered', true]],
      state: 'protected',
    },
    {
      name: 'protected -> error (other protocol): unreachable-kind event to error',
      row: { state: 'protected' },
      status: 'other-protocol',
      events: [['unreachable', true]],
      state: 'error',
    },
    {
      name: 'unknown state text in the row is treated as unknown',
      row: { state: 'bogus' },
      status: 'auth-required',
      events: [['first-seen', false]],
      state: 'protected',
    },
  ];

  it.each(cases)('$name', (c) => {
    const write = decideObservation(storeRow(c.row), c.window, observe(c.status, 10));
    expect(kinds(write)).toEqual(c.events);
    expect(write.openWindow).toEqual(c.openWindow);
    expect(write.updateWindow).toEqual(c.updateWindow);
    expect(write.store.state).toBe(c.state);
    expect(write.store.lastProbeAt).toEqual(at(10));
    for (const event of write.events) {
      expect(event.toState).toBe(c.state);
      expect(event.at).toEqual(at(10));
    }
  });
});

describe('decideObservation: store fields', () => {
  it('sets stateSince only when the state changes, and the per-state timestamps', () => {
    const changed = decideObservation(storeRow({ state: 'protected' }), undefined, observe('open', 10));
    expect(changed.store).toMatchObject({
      state: 'open',
      stateSince: at(10),
      lastSuccessAt: at(10),
      lastOpenAt: at(10),
      probeMs: 12,
      server: { product: 'redis', version: '7.0.15' },
    });
    expect(changed.store).not.toHaveProperty('lastProtectedAt');

    const same = decideObservation(storeRow({ state: 'protected' }), undefined, observe('auth-required', 10));
    expect(same.store).not.toHaveProperty('stateSince');
    expect(same.store).toMatchObject({ lastProtectedAt: at(10), lastSuccessAt: at(10) });

    const down = decideObservation(storeRow({ state: 'protected' }), undefined, observe('unreachable', 10));
    expect(down.store).not.toHaveProperty('lastSuccessAt');
    expect(down.store).not.toHaveProperty('lastProtectedAt');
    expect(down.store).toMatchObject({ stateSince: at(10), detail: 'redis says unreachable' });
  });

  it('records the size and keeps the classification of an open, classified store', () => {
    const r = classified();
    const write = decideObservation(storeRow({ state: 'protected' }), undefined, {
      at: at(10),
      report: r,
      classified: true,
    });
    expect(write.store.records).toBe(1_000);
    expect(write.store.exposure).toBe(r);
    expect(write.store.classifiedAt).toEqual(at(10));
  });

  it('never stores a classification of a store that is not open', () => {
    const write = decideObservation(storeRow({ state: 'open' }), openWindow(), {
      at: at(10),
      report: report('auth-required', { fields: classified().fields }),
      classified: true,
    });
    expect(write.store).not.toHaveProperty('exposure');
    expect(write.store).not.toHaveProperty('classifiedAt');
  });
});

describe('decideObservation: sequences', () => {
  it('open -> unreachable -> open keeps the same window and raises no second opened', () => {
    let row = storeRow({ state: 'protected', lastProtectedAt: at(0) });
    let window: ExposureWindowRow | undefined;
    const all: WatchEvent[] = [];
    const steps: [ProbeStatus, number][] = [
      ['open', 10],
      ['unreachable', 20],
      ['open', 30],
      ['open', 40],
    ];
    for (const [status, seconds] of steps) {
      const write = decideObservation(row, window, observe(status, seconds));
      const applied = apply(row, window, write, 1 + all.length);
      row = applied.row;
      window = applied.window;
      all.push(...applied.events);
    }
    expect(all.map((e) => e.kind)).toEqual(['opened', 'unreachable', 'recovered']);
    expect(window).toBeDefined();
    // One window across the outage: opened at the first open probe, after the last protected one.
    expect(all.map((e) => e.window?.openedAt)).toEqual([
      at(10).toISOString(),
      at(10).toISOString(),
      at(10).toISOString(),
    ]);
    expect(all[0]?.window?.openedAfter).toBe(at(0).toISOString());
    expect(window?.lastOpenAt).toEqual(at(40));
    expect(all[2]).toMatchObject({ fromState: 'unreachable', toState: 'open' });
    expect(row.state).toBe('open');
    expect(row.stateSince).toEqual(at(30));
  });

  it('protected -> unreachable -> protected: unreachable then recovered, no window', () => {
    let row = storeRow({ state: 'protected', lastProtectedAt: at(0) });
    let window: ExposureWindowRow | undefined;
    const all: WatchEvent[] = [];
    const writes: ObservationWrite[] = [];
    for (const [status, seconds] of [
      ['unreachable', 10],
      ['auth-required', 20],
    ] as const) {
      const write = decideObservation(row, window, observe(status, seconds));
      writes.push(write);
      const applied = apply(row, window, write, 1);
      row = applied.row;
      window = applied.window;
      all.push(...applied.events);
    }
    expect(all.map((e) => [e.kind, e.fromState, e.toState])).toEqual([
      ['unreachable', 'protected', 'unreachable'],
      ['recovered', 'unreachable', 'protected'],
    ]);
    expect(writes.every((w) => w.openWindow === undefined && w.updateWindow === undefined)).toBe(true);
    expect(all.every((e) => e.window === undefined)).toBe(true);
    expect(window).toBeUndefined();
  });

  it('open -> protected closes the window with the exact duration', () => {
    let row = storeRow({ state: 'protected', lastProtectedAt: at(0) });
    let window: ExposureWindowRow | undefined;
    const all: WatchEvent[] = [];
    for (const [status, seconds] of [
      ['open', 10],
      ['open', 20],
      ['auth-required', 70],
    ] as const) {
      const applied = apply(row, window, decideObservation(row, window, observe(status, seconds)), 9);
      row = applied.row;
      window = applied.window;
      all.push(...applied.events);
    }
    expect(all.map((e) => e.kind)).toEqual(['opened', 'closed']);
    expect(all[1]?.window).toEqual({
      openedAt: at(10).toISOString(),
      openedAfter: at(0).toISOString(),
      closedAt: at(70).toISOString(),
      lastOpenAt: at(20).toISOString(),
      durationMs: 60_000,
    });
    expect(window).toBeUndefined();
    expect(row.lastProtectedAt).toEqual(at(70));
  });
});

describe('decideObservation: event payloads', () => {
  it('has a stable id, the window so far and a store reference without credentials', () => {
    const row = storeRow({ state: 'protected', lastProtectedAt: at(0) });
    const write = decideObservation(row, undefined, observe('open', 10));
    const [event] = write.events;
    const window = openWindow({ id: 11, openedAt: at(10), openedAfter: at(0), lastOpenAt: at(10) });
    const payload = event?.payload(42, window) as WatchEvent;
    expect(payload).toEqual({
      id: 'lw-evt-42',
      kind: 'opened',
      at: at(10).toISOString(),
      store: {
        name: 'sessions',
        target: 'redis://127.0.0.1:6379',
        protocol: 'redis',
        owner: 'platform-team',
        tags: ['prod'],
      },
      fromState: 'protected',
      toState: 'open',
      detail: 'redis says open',
      window: {
        openedAt: at(10).toISOString(),
        openedAfter: at(0).toISOString(),
        lastOpenAt: at(10).toISOString(),
        durationMs: 0,
      },
    });
    expect(JSON.stringify(payload)).not.toContain('s3cret');
  });

  it('leaves out owner when there is none, and openedAfter for a store open when first watched', () => {
    const write = decideObservation(storeRow({ owner: null }), undefined, observe('open', 10));
    const payload = write.events[0]?.payload(
      1,
      openWindow({ openedAt: at(10), openedAfter: null }),
    ) as WatchEvent;
    expect(payload.kind).toBe('first-seen');
    expect(payload.store).not.toHaveProperty('owner');
    expect(payload.window).not.toHaveProperty('openedAfter');
    expect(payload.detail).toContain('open when first watched');
  });

  it('an open window reports its duration up to the probe', () => {
    const row = storeRow({ state: 'open' });
    const write = decideObservation(row, openWindow(), observe('unreachable', 90));
    const payload = write.events[0]?.payload(5, openWindow()) as WatchEvent;
    expect(payload.window).toMatchObject({ durationMs: 90_000 });
    expect(payload.window).not.toHaveProperty('closedAt');
  });

  it('carries an exposure summary when the opening probe was classified', () => {
    const row = storeRow({ state: 'protected', lastProtectedAt: at(0) });
    const write = decideObservation(row, undefined, { at: at(10), report: classified(), classified: true });
    const payload = write.events[0]?.payload(1, openWindow()) as WatchEvent;
    expect(payload.exposure).toEqual({
      classifiedAt: at(10).toISOString(),
      records: 1_000,
      collections: 1,
      categories: ['email'],
      subjects: { total: 990, byCategory: { email: 990 } },
    });
    // Not classified and never classified before: nothing to summarise.
    const bare = decideObservation(row, undefined, observe('open', 10));
    expect(bare.events[0]?.payload(1, openWindow())).not.toHaveProperty('exposure');
  });

  it('a closing event carries the last classification', () => {
    const row = storeRow({ state: 'open', exposure: classified(), classifiedAt: at(3) });
    const write = decideObservation(row, openWindow(), observe('auth-required', 10));
    const payload = write.events[0]?.payload(1, openWindow({ closedAt: at(10) })) as WatchEvent;
    expect(payload.kind).toBe('closed');
    expect(payload.exposure?.classifiedAt).toBe(at(3).toISOString());
    expect(payload.exposure?.categories).toEqual(['email']);
  });
});

describe('decideObservation: re-classification of an open store', () => {
  const openRow = storeRow({ state: 'open', exposure: classified(), classifiedAt: at(0), records: 1_000 });
  const reclassify = (after: TargetReport, window: ExposureWindowRow | undefined = openWindow()) =>
    decideObservation(openRow, window, { at: at(60), report: after, classified: true });
  const payloads = (write: ObservationWrite) =>
    write.events.map((e, i) => e.payload(i + 1, openWindow()) as WatchEvent);

  it('nothing changed: no event', () => {
    expect(reclassify(classified()).events).toEqual([]);
  });

  it('new collections', () => {
    const write = reclassify(
      classified({
        size: { collections: 2, records: 1_010 },
        collections: [
          { name: 'users', records: 1_000 },
          { name: 'devices', records: 10 },
        ],
      }),
    );
    expect(kinds(write)).toEqual([['new-collections', true]]);
    expect(payloads(write)[0]?.changes).toEqual({ collections: ['devices'] });
  });

  it('a new field of a known category', () => {
    const base = classified();
    const write = reclassify(
      classified({
        fields: [
          ...base.fields,
          {
            collection: 'users',
            path: 'alt_email',
            categories: ['email'],
            records: 5,
            subjects: 5,
            confidence: 0.9,
          },
        ],
      }),
    );
    expect(kinds(write)).toEqual([['new-fields', true]]);
    const [payload] = payloads(write);
    expect(payload?.changes).toEqual({ fields: ['users.alt_email'], categories: [] });
    expect(payload?.detail).toContain('users.alt_email');
  });

  it('a new category on a known field', () => {
    const write = reclassify(
      classified({
        fields: [
          {
            collection: 'users',
            path: 'email',
            categories: ['email', 'api_token'],
            records: 1_000,
            subjects: 990,
            confidence: 0.98,
          },
        ],
      }),
    );
    expect(kinds(write)).toEqual([['new-fields', true]]);
    const [payload] = payloads(write);
    expect(payload?.changes).toEqual({ fields: [], categories: ['api_token'] });
    expect(payload?.detail).toBe('new categories exposed: api_token');
    expect(payload?.exposure?.categories).toEqual(['api_token', 'email']);
  });

  it.each([
    ['grows by half', 1_500, true],
    ['halves', 500, true],
    ['grows by 49%', 1_490, false],
    ['doubles but by fewer than 100 records', 1_000 + 99, false],
  ])('records %s', (_, records, jump) => {
    const write = reclassify(classified({ size: { collections: 1, records } }));
    expect(kinds(write)).toEqual(jump ? [['size-jump', true]] : []);
    if (jump) {
      expect(payloads(write)[0]?.changes).toEqual({ recordsBefore: 1_000, recordsAfter: records });
    }
  });

  it('a small store doubling by fewer than 100 records is no jump', () => {
    const small = storeRow({
      state: 'open',
      exposure: classified({ size: { collections: 1, records: 50 } }),
      classifiedAt: at(0),
    });
    const write = decideObservation(small, openWindow(), {
      at: at(60),
      report: classified({ size: { collections: 1, records: 140 } }),
      classified: true,
    });
    expect(write.events).toEqual([]);
    const big = decideObservation(small, openWindow(), {
      at: at(60),
      report: classified({ size: { collections: 1, records: 150 } }),
      classified: true,
    });
    expect(kinds(big)).toEqual([['size-jump', true]]);
  });

  it('a ransom note appearing, once', () => {
    const write = reclassify(classified({ indicators: ['ransom-note'] }));
    expect(kinds(write)).toEqual([['ransom-note', true]]);
    const already = storeRow({
      state: 'open',
      exposure: classified({ indicators: ['ransom-note'] }),
      classifiedAt: at(0),
    });
    const again = decideObservation(already, openWindow(), {
      at: at(60),
      report: classified({ indicators: ['ransom-note'] }),
      classified: true,
    });
    expect(again.events).toEqual([]);
  });

  it('several changes at once: one event each, in a fixed order', () => {
    const base = classified();
    const write = reclassify(
      classified({
        indicators: ['ransom-note'],
        size: { collections: 2, records: 5_000 },
        collections: [
          { name: 'users', records: 1_000 },
          { name: 'README', records: 1 },
        ],
        fields: [
          ...base.fields,
          {
            collection: 'users',
            path: 'phone',
            categories: ['phone'],
            records: 9,
            subjects: 9,
            confidence: 0.9,
          },
        ],
      }),
    );
    expect(write.events.map((e) => e.kind)).toEqual([
      'new-collections',
      'new-fields',
      'size-jump',
      'ransom-note',
    ]);
  });

  it('no content events for a fresh window (its opening alert says it all)', () => {
    const closedRow = storeRow({ state: 'protected', exposure: classified(), classifiedAt: at(0) });
    const write = decideObservation(closedRow, undefined, {
      at: at(60),
      report: classified({ size: { collections: 3, records: 9_000 }, indicators: ['ransom-note'] }),
      classified: true,
    });
    expect(kinds(write)).toEqual([['opened', true]]);
  });

  it('no content events without an earlier classification', () => {
    const row = storeRow({ state: 'open' });
    const write = decideObservation(row, openWindow(), {
      at: at(60),
      report: classified(),
      classified: true,
    });
    expect(write.events).toEqual([]);
    expect(write.store.exposure).toBeDefined();
  });
});

describe('needsClassification', () => {
  const hour = 3_600_000;
  const openRow = storeRow({ state: 'open', exposure: classified(), classifiedAt: at(0) });
  it.each<[string, WatchedStoreRow, TargetReport, number, boolean]>([
    ['not open: never', openRow, report('auth-required'), 0, false],
    ['just opened', storeRow({ state: 'protected' }), report('open'), 1, true],
    ['open but never classified', storeRow({ state: 'open' }), report('open'), 1, true],
    [
      'classification is not a report',
      storeRow({ state: 'open', classifiedAt: at(0), exposure: { nope: 1 } }),
      report('open'),
      1,
      true,
    ],
    ['nothing moved, recently classified', openRow, classified({ fields: [] }), 60, false],
    ['the interval elapsed', openRow, classified(), 3_600, true],
    ['size jump', openRow, classified({ size: { collections: 1, records: 2_000 } }), 60, true],
    ['small size change', openRow, classified({ size: { collections: 1, records: 1_050 } }), 60, false],
    ['collection count moved', openRow, classified({ size: { collections: 2, records: 1_000 } }), 60, true],
    [
      'collection count known to only one of them',
      openRow,
      classified({ size: { records: 1_000 } }),
      60,
      false,
    ],
    ['a new indicator', openRow, classified({ indicators: ['ransom-note'] }), 60, true],
  ])('%s', (_, row, probe, seconds, expected) => {
    expect(needsClassification(row, probe, hour, at(seconds))).toBe(expected);
  });
});
