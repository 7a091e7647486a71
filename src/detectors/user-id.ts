import type { Detector, FieldContext, Scalar } from './detector.js';
import { deviceWords } from './device-words.js';
import { FieldWordSet } from './field-word-set.js';

// Single words that name a person's identifier.
const idKeys = new FieldWordSet([
  'uid',
  'userid',
  'accountid',
  'customerid',
  'ownerid',
  'memberid',
  'personid',
  'profileid',
  'subscriberid',
  'playerid',
  'patientid',
  'employeeid',
  'clientid',
  'usrid',
]);
// `user_id`, `owner.uuid`: a person word + an id word.
const personWords = new FieldWordSet([
  'user',
  'account',
  'owner',
  'customer',
  'member',
  'person',
  'profile',
  'subscriber',
  'player',
  'patient',
  'employee',
  'usr',
  'cust',
  'acct',
  'author',
  'creator',
  'buyer',
  'shared',
  'sharer',
  'invitee',
  'recipient',
]);
const idWords = new FieldWordSet([
  'id',
  'uuid',
  'guid',
  'uid',
  'key',
  'no',
  'number',
  'num',
  'ref',
  'ids',
  'sub',
]);
// OAuth `client_id` names an application; `account_type`, `user_agent` are not ids.
const notPersonIdWords = new FieldWordSet([
  'client',
  'app',
  'application',
  'session',
  'request',
  'trace',
  'device',
  'order',
  'transaction',
  'token',
  'api',
  'message',
  'event',
  'key',
]);
// Integer ids, UUIDs (RFC 9562), hex ids, prefixed opaque ids (`usr_9Xk2`), ObjectIds.
const idShape = /^[A-Za-z0-9][A-Za-z0-9_:.-]{0,63}$/;
const hasDigit = /\d/;

function idConfidence(field: FieldContext): number {
  const k = field.keyWords;
  for (const w of k) if (idKeys.has(w)) return w === 'clientid' ? 0 : 0.9;
  let person = false;
  let id = false;
  for (const w of k) {
    if (personWords.has(w)) person = true;
    else if (idWords.has(w)) id = true;
  }
  if (id && person) {
    // `api_key` style words next to `user` name a secret, not an id.
    for (const w of k) if (w !== 'key' && notPersonIdWords.has(w)) return 0;
    return k.includes('key') ? 0 : 0.9;
  }
  // `users[].id`, `owner.id`: the parent names the person; a device in between does not.
  if (id && k.length === 1 && !deviceWords.inPath(field)) {
    for (const w of field.pathWords) if (notPersonIdWords.has(w)) return 0;
    for (const w of field.pathWords) if (personWords.has(w)) return 0.85;
  }
  return 0;
}

function matchUserId(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  const confidence = idConfidence(field);
  if (confidence === 0) return 0;
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? confidence : 0;
  if (value.length === 0 || value.length > 64) return 0;
  if (!idShape.test(value) || !hasDigit.test(value)) return 0;
  return confidence;
}

export const userIdDetector = {
  id: 'user-id',
  category: 'user_id',
  fieldWords: [...idKeys.words, ...idWords.words],
  requiresFieldWord: true,
  match: matchUserId,
  examples: {
    match: [
      { path: 'user_id', value: 1234567 },
      { path: 'userId', value: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' },
      { path: 'users[].id', value: '5dc9a2f0e4b0a1b2c3d4e5f6' },
      { path: 'owner.uuid', value: 'usr_9Xk2Lm' },
      { path: 'account_id', value: '1000042' },
      { path: 'uid', value: 'a1b2c3d4e5' },
      { path: 'shared_with[].user_id', value: 77 },
    ],
    noMatch: [
      { path: 'client_id', value: '1234567' },
      { path: 'device_id', value: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' },
      { path: 'user_id', value: 'john.smith@example.com' },
      { path: 'users[].cams[].id', value: 12 },
      { path: 'order_id', value: 1234567 },
      { path: 'user_id', value: -1 },
      { path: 'user_agent', value: 'Mozilla/5.0' },
    ],
  },
} as const satisfies Detector;
