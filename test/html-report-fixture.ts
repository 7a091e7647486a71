/**
 * Hand-made inputs for the HTML report, shaped like DESIGN.md's story: an "analytics-es" copy
 * open for 22 days (after a short earlier slip), a second store the audit found, and an incident
 * with its deadlines. `hostile` adds a store whose every name tries to become markup.
 */
import type { Category } from '../src/core/category.js';
import type { FieldFinding, ScanReport, SubjectCounts, TargetReport } from '../src/core/scan-report.js';
import type { IncidentRecord } from '../src/incident/incident.js';
import type { HtmlReportInput } from '../src/report/html-report.js';
import type { StoreHistory } from '../src/watch/status-view.js';
import type { WatchEvent, WatchedStoreRef } from '../src/watch/watch-event.js';

export const hostile = {
  store: '<script>alert("store")</script>',
  collection: '"><img src=x onerror=alert("collection")>',
  field: '</style><script>alert("field")</script>',
  detail: '<iframe src="https://evil.example/"></iframe> answers without credentials',
  version: '7.0"><svg onload=alert("version")>',
} as const;

const analytics = 'elasticsearch://127.0.0.1:9200';
const billing = 'redis://127.0.0.1:6379';

function field(
  path: string,
  categories: Category[],
  subjects: number,
  example: string,
  records = subjects,
): FieldFinding {
  return { collection: 'users', path, categories, records, subjects, confidence: 0.97, example };
}

const analyticsFields: FieldFinding[] = [
  field('email', ['email'], 2412, 'j***@g***.com'),
  field('username', ['username'], 2398, 'j***9'),
  field('home.net.ssid', ['wifi_ssid'], 2171, 'N***[9]'),
  field('home.net.subnet', ['network_layout'], 2171, '192.168.x.x/24'),
  field('cams[].nickname', ['device_name'], 2120, 'B***[9]', 3710),
  field('cams[].firmware', ['firmware_version'], 2120, '4.*.*.*', 3710),
  field('last_login', ['activity_time'], 2412, '2019-**-**'),
  field('api.ios_token', ['api_token'], 1447, 'a1b2…[32]'),
  field('api.android_token', ['api_token'], 1203, 'c3d4…[32]'),
  field('alexa.access_token', ['oauth_token'], 24, 'Atza|…[412]'),
  field('scale.bone_mass', ['health_metric'], 14, '*.*'),
];

export const analyticsSubjects: SubjectCounts = {
  total: 2412,
  byCategory: {
    email: 2412,
    username: 2398,
    wifi_ssid: 2171,
    network_layout: 2171,
    device_name: 2120,
    firmware_version: 2120,
    activity_time: 2412,
    api_token: 2405,
    oauth_token: 24,
    health_metric: 14,
  },
};

function analyticsTarget(): TargetReport {
  return {
    target: analytics,
    protocol: 'elasticsearch',
    status: 'open',
    detail: 'GET /_cat/indices answered without credentials; 3 indices',
    server: { product: 'elasticsearch', version: '6.8.2' },
    size: { collections: 3, records: 2_463_912, bytes: 1_873_331_200 },
    indicators: [],
    collections: [
      { name: 'users', records: 2463, bytes: 4_200_000 },
      { name: 'device-events-2019.12', records: 2_400_000, bytes: 1_800_000_000 },
      { name: 'scale-beta', records: 14 },
    ],
    fields: analyticsFields,
    subjects: analyticsSubjects,
    severity: 'critical',
    fingerprint: '5f1e0c7a9b3d4e2f5f1e0c7a9b3d4e2f',
    durationMs: 412,
  };
}

function ref(name: string, target: string, protocol: string): WatchedStoreRef {
  return { name, target, protocol, tags: ['analytics'] };
}

function event(
  store: WatchedStoreRef,
  id: string,
  kind: WatchEvent['kind'],
  at: string,
  from: WatchEvent['fromState'],
  to: WatchEvent['toState'],
  detail: string,
): WatchEvent {
  return { id, kind, at, store, fromState: from, toState: to, detail };
}

/** Two windows: a six-hour slip on Dec 1, then the 22 days from Dec 4. */
export function analyticsHistory(name = 'analytics-es'): StoreHistory {
  const store = ref(name, analytics, 'elasticsearch');
  return {
    store: {
      ...store,
      watched: true,
      state: 'protected',
      since: '2019-12-26T11:00:00.000Z',
      detail: 'elasticsearch 6.8.2 requires credentials (401)',
      lastProbeAt: '2019-12-27T09:00:00.000Z',
      probeMs: 14,
      server: { product: 'elasticsearch', version: '6.8.2' },
      records: 2_463_912,
      exposure: {
        classifiedAt: '2019-12-04T10:01:30.000Z',
        records: 2_463_912,
        collections: 3,
        categories: Object.keys(analyticsSubjects.byCategory) as Category[],
        subjects: analyticsSubjects,
      },
    },
    windows: [
      {
        openedAfter: '2019-12-01T13:59:00.000Z',
        openedAt: '2019-12-01T14:00:00.000Z',
        closedAt: '2019-12-01T20:00:00.000Z',
        lastOpenAt: '2019-12-01T19:59:00.000Z',
        durationMs: 6 * 3_600_000,
      },
      {
        openedAfter: '2019-12-04T09:58:00.000Z',
        openedAt: '2019-12-04T10:00:00.000Z',
        closedAt: '2019-12-26T11:00:00.000Z',
        lastOpenAt: '2019-12-26T10:59:00.000Z',
        durationMs: Date.parse('2019-12-26T11:00:00.000Z') - Date.parse('2019-12-04T10:00:00.000Z'),
      },
    ],
    events: [
      event(
        store,
        'e1',
        'first-seen',
        '2019-11-28T09:00:00.000Z',
        'unknown',
        'protected',
        'requires credentials',
      ),
      event(
        store,
        'e2',
        'opened',
        '2019-12-01T14:00:00.000Z',
        'protected',
        'open',
        'answers without credentials',
      ),
      event(store, 'e3', 'closed', '2019-12-01T20:00:00.000Z', 'open', 'protected', 'requires credentials'),
      event(
        store,
        'e4',
        'opened',
        '2019-12-04T10:00:00.000Z',
        'protected',
        'open',
        'answers without credentials',
      ),
      event(store, 'e5', 'closed', '2019-12-26T11:00:00.000Z', 'open', 'protected', 'requires credentials'),
    ],
    fields: analyticsFields.map(({ collection, path, categories, records, subjects }) => ({
      collection,
      path,
      categories,
      records,
      subjects,
    })),
  };
}

function billingHistory(): StoreHistory {
  const store = ref('billing-redis', billing, 'redis');
  const subjects: SubjectCounts = { total: 1180, byCategory: { email: 1180, user_id: 1180 } };
  return {
    store: {
      ...store,
      watched: true,
      state: 'open',
      since: '2019-12-20T16:30:00.000Z',
      detail: 'redis 5.0.7 answers PING and INFO without a password',
      server: { product: 'redis', version: '5.0.7' },
      records: 1180,
      exposure: {
        classifiedAt: '2019-12-20T16:31:00.000Z',
        records: 1180,
        categories: ['email', 'user_id'],
        subjects,
      },
      exposureWindow: {
        openedAfter: '2019-12-20T16:29:00.000Z',
        openedAt: '2019-12-20T16:30:00.000Z',
        lastOpenAt: '2019-12-27T08:59:00.000Z',
        durationMs: Date.parse('2019-12-27T09:00:00.000Z') - Date.parse('2019-12-20T16:30:00.000Z'),
      },
    },
    windows: [
      {
        openedAfter: '2019-12-20T16:29:00.000Z',
        openedAt: '2019-12-20T16:30:00.000Z',
        lastOpenAt: '2019-12-27T08:59:00.000Z',
        durationMs: Date.parse('2019-12-27T09:00:00.000Z') - Date.parse('2019-12-20T16:30:00.000Z'),
      },
    ],
    events: [
      event(
        store,
        'b1',
        'first-seen',
        '2019-11-28T09:00:00.000Z',
        'unknown',
        'protected',
        'requires a password',
      ),
      event(
        store,
        'b2',
        'opened',
        '2019-12-20T16:30:00.000Z',
        'protected',
        'open',
        'answers without a password',
      ),
    ],
    fields: [
      { collection: 'db0', path: 'session:*#email', categories: ['email'], records: 1180, subjects: 1180 },
      { collection: 'db0', path: 'session:*#uid', categories: ['user_id'], records: 1180, subjects: 1180 },
    ],
  };
}

export function analyticsIncident(): IncidentRecord {
  const history = analyticsHistory();
  const window = history.windows[1]!;
  return {
    id: 1,
    ref: 'INC-0001',
    status: 'open',
    store: { name: 'analytics-es', target: analytics, protocol: 'elasticsearch', tags: ['analytics'] },
    window,
    detectedAt: '2019-12-04T10:00:00.000Z',
    awareAt: '2019-12-26T10:40:00.000Z',
    containedAt: '2019-12-26T11:00:00.000Z',
    jurisdictions: ['gdpr', 'us-ca'],
    categories: Object.keys(analyticsSubjects.byCategory) as Category[],
    records: 2463,
    subjects: analyticsSubjects,
    reachable: 2412,
    fields: history.fields,
    deadlines: [
      {
        id: 'gdpr-33',
        jurisdiction: 'gdpr',
        audience: 'supervisory authority',
        law: 'GDPR Art. 33(1)',
        dueAt: '2019-12-29T10:40:00.000Z',
        rule: 'without undue delay and, where feasible, not later than 72 hours after becoming aware',
      },
      {
        id: 'gdpr-34',
        jurisdiction: 'gdpr',
        audience: 'affected individuals',
        law: 'GDPR Art. 34(1)',
        rule: 'without undue delay',
        condition: 'when the breach is likely to result in a high risk to their rights and freedoms',
      },
      {
        id: 'us-ca-individuals',
        jurisdiction: 'us-ca',
        audience: 'affected California residents',
        law: 'Cal. Civ. Code §1798.82(a)',
        dueAt: '2020-01-25T10:40:00.000Z',
        rule: 'within 30 calendar days of discovery',
        condition: 'for residents of California',
      },
    ],
    timeline: [
      { at: '2019-12-04T10:00:00.000Z', kind: 'exposure-start', detail: 'first open probe' },
      { at: '2019-12-04T10:00:00.000Z', kind: 'detected', detail: 'watch saw the store open' },
      { at: '2019-12-26T10:40:00.000Z', kind: 'aware', detail: 'incident opened' },
      { at: '2019-12-26T11:00:00.000Z', kind: 'contained', detail: 'protection restored' },
      { at: '2019-12-26T12:10:00.000Z', kind: 'revocation', detail: 'all sessions revoked, Alexa unlinked' },
    ],
    decisions: [],
    facts: {},
  };
}

function hostileTarget(): TargetReport {
  return {
    target: `http://127.0.0.1:8080/${hostile.store}`,
    protocol: 'http',
    status: 'open',
    detail: hostile.detail,
    server: { product: 'nginx', version: hostile.version },
    size: { collections: 1, records: 7 },
    indicators: [],
    collections: [{ name: hostile.collection, records: 7 }],
    fields: [
      {
        collection: hostile.collection,
        path: hostile.field,
        categories: ['email'],
        records: 7,
        subjects: 7,
        confidence: 0.9,
        example: '<b>x</b>***',
      },
    ],
    subjects: { total: 7, byCategory: { email: 7 } },
    severity: 'medium',
    fingerprint: '00112233445566778899aabbccddeeff',
  };
}

function hostileHistory(): StoreHistory {
  const store = ref(hostile.store, `http://127.0.0.1:8080/${hostile.store}`, 'http');
  return {
    store: { ...store, watched: true, state: 'open', detail: hostile.detail },
    windows: [
      {
        openedAt: '2019-12-24T08:00:00.000Z',
        lastOpenAt: '2019-12-27T08:59:00.000Z',
        durationMs: Date.parse('2019-12-27T09:00:00.000Z') - Date.parse('2019-12-24T08:00:00.000Z'),
      },
    ],
    events: [event(store, 'h1', 'first-seen', '2019-12-24T08:00:00.000Z', 'unknown', 'open', hostile.detail)],
    fields: [
      { collection: hostile.collection, path: hostile.field, categories: ['email'], records: 7, subjects: 7 },
    ],
  };
}

/** The story's report: what `npm run demo` shows, frozen at Dec 27, 2019. */
export function storyReportInput(options: { hostile?: boolean } = {}): HtmlReportInput {
  const report: ScanReport = {
    schemaVersion: 1,
    tool: { name: 'leakwatch', version: '0.1.0' },
    startedAt: '2019-12-04T10:01:28.000Z',
    finishedAt: '2019-12-04T10:01:30.000Z',
    targets: [analyticsTarget(), ...(options.hostile === true ? [hostileTarget()] : [])],
  };
  return {
    title: 'Leakwatch report: the analytics copy',
    generatedAt: '2019-12-27T09:00:00.000Z',
    report,
    histories: [
      analyticsHistory(),
      billingHistory(),
      ...(options.hostile === true ? [hostileHistory()] : []),
    ],
    incidents: [analyticsIncident()],
  };
}
