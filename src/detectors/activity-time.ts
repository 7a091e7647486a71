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
