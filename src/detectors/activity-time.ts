import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';
import { parseTimestamp } from './parse-timestamp.js';

// Words that say a person or device was active at that time.
const activityWords = new FieldWordSet([
  'login',
  'logout',
  'logon',
  'logoff',
  'signin',
  'signout',
  'seen',
  'online',
  'offline',
  'active',
  'activity',
  'lastlogin',
  'lastseen',
  'lastactive',
  'laston',
  'lastonline',
  'lastlogout',
  'loggedin',
  'loggedout',
  'logged',
  'heartbeat',
  'connected',
  'disconnected',
  'access',
  'accessed',
  'visit',
  'visited',
]);
// `last_on`, `last_access`: `last` needs one of these after it.
const lastWords = new FieldWordSet([
  'on',
  'access',
  'used',
  'use',
  'ping',
  'connect',
  'connection',
  'sync',
  'request',
  'online',
  'seen',
  'login',
  'logout',
  'active',
]);
/** 2000-01-01 .. 2100-01-01: the activity of living accounts. */
const minTime = Date.UTC(2000, 0, 1);
const maxTime = Date.UTC(2100, 0, 1);

function namesActivity(field: FieldContext): boolean {
  const words = field.keyWords;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    if (activityWords.has(w)) return true;
    if (w === 'last' && i + 1 < words.length && lastWords.has(words[i + 1] ?? '')) return true;
  }
  return false;
}

function matchActivityTime(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  if (!namesActivity(field)) return 0;
  const t = parseTimestamp(value);
  if (!(t >= minTime && t < maxTime)) return 0;
  return 0.9;
}

export const activityTimeDetector = {
  id: 'activity-time',
  category: 'activity_time',
  fieldWords: [...activityWords.words, 'last'],
  requiresFieldWord: true,
  match: matchActivityTime,
  examples: {
    match: [
      { path: 'last_login', value: 1575417600 },
      { path: 'lastLoginAt', value: '2019-12-04T10:00:00Z' },
      { path: 'cams[].last_on', value: 1575417600123 },
      { path: 'logout_time', value: '2019-12-04 22:15:03' },
      { path: 'lastSeen', value: '1575417600' },
      { path: 'session.logged_in', value: 'Wed, 04 Dec 2019 10:00:00 GMT' },
    ],
    noMatch: [
      { path: 'created_at', value: '2019-12-04T10:00:00Z' },
      { path: 'last_login', value: 'jsmith' },
      { path: 'active', value: true },
      { path: 'last_login', value: 42 },
      { path: 'online', value: '3099-01-01' },
      { path: 'last_name', value: 'Smith' },
    ],
  },
} as const satisfies Detector;

// ---------------------------------------------------------------------------------------------
// The time of an event record: `@timestamp` of an Elasticsearch/Logstash document, `ts` of a log
// line. About a person's activity only when the record is about a person (a user's app event, a
// camera's telemetry with its owner), hence `personOnly`: the engine runs it on records that hold
// a person's identifier and never on a product's or a server's records.

// Key words that name nothing but "when this record happened".
const eventTimeWords = new FieldWordSet(['timestamp', 'ts', 'time', 'datetime']);
// Words that may sit beside them in such a key: `event_time`, `time_stamp`, `DateTime`.
const eventTimeCompanions = new FieldWordSet(['event', 'stamp', 'date', 'log', 'record']);
// Times of something other than the activity: when a thing was made, is due, or a person born.
const notEventWords = new FieldWordSet([
  'created',
  'creation',
  'updated',
  'modified',
  'changed',
  'expires',
  'expiry',
  'expiration',
  'birth',
  'dob',
  'born',
  'due',
  'scheduled',
  'deadline',
  'valid',
  'until',
  'release',
  'build',
  'published',
  'order',
  'shipped',
  'delivery',
]);

function namesEventTime(field: FieldContext): boolean {
  let core = false;
  for (const w of field.keyWords) {
    if (eventTimeWords.has(w)) core = true;
    else if (!eventTimeCompanions.has(w)) return false;
  }
  return core && !notEventWords.inPath(field);
}

function matchEventTime(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  if (!namesEventTime(field)) return 0;
  const t = parseTimestamp(value);
  if (!(t >= minTime && t < maxTime)) return 0;
  return 0.8;
}

export const activityEventTimeDetector = {
  id: 'activity-time-event',
  category: 'activity_time',
  fieldWords: [...eventTimeWords.words, 'stamp'],
  requiresFieldWord: true,
  personOnly: true,
  match: matchEventTime,
  examples: {
    match: [
      { path: '@timestamp', value: '2019-11-17T17:52:08.000Z' },
      { path: '@timestamp', value: 1574950942000 },
      { path: 'events[].ts', value: 1575417600 },
      { path: 'event_time', value: '2019-12-04 22:15:03' },
      { path: 'DateTime', value: '2019-12-04T10:00:00Z' },
    ],
    noMatch: [
      { path: 'updated_at', value: '2019-11-28T09:12:44Z' },
      { path: 'created.ts', value: 1575417600 },
      { path: 'batch_ts_id', value: '20191204101530' },
      { path: 'response_time', value: 1575417600 },
      { path: 'ts', value: 3862 },
      { path: 'time', value: '17:45' },
      { path: 'timestamp', value: '3099-01-01T00:00:00Z' },
    ],
  },
} as const satisfies Detector;
