import type { Detector, FieldContext, Scalar } from './detector.js';
import { deviceWords } from './device-words.js';
import { isEmailAddress } from './email.js';
import { FieldWordSet } from './field-word-set.js';

const usernameWords = new FieldWordSet([
  'username',
  'login',
  'handle',
  'screenname',
  'uname',
  'nick',
  'nickname',
  'userid',
  'loginname',
  'accountname',
  'alias',
  'gamertag',
  'benutzername',
]);
// `screen_name`, `user_name`, `account_name`: these + `name`. Not `display_name`: the name shown
// for a person (person_name, on a person's record) or for a product in a catalogue, never a login;
// as an identifier it would turn a catalogue into "records about a person".
const qualifiers = new FieldWordSet(['user', 'screen', 'account', 'login', 'member']);
// `login_at`, `login_count`, `username_changed`: about a login, not one.
const metaWords = new FieldWordSet([
  'at',
  'time',
  'date',
  'ts',
  'count',
  'attempts',
  'failed',
  'ip',
  'method',
  'type',
  'provider',
  'url',
  'page',
  'status',
  'changed',
  'updated',
  'enabled',
  'required',
  'last',
  'first',
  'id',
  'token',
  'session',
]);
// Login names: no whitespace, 2-64 characters, a letter somewhere.
const shape = /^@?[\p{L}\p{N}._+@-]{2,64}$/u;
const hasLetter = /\p{L}/u;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function usernameConfidence(field: FieldContext): number {
  const k = field.keyWords;
  let named = 0;
  for (const w of k) {
    if (metaWords.has(w)) return 0;
    if (usernameWords.has(w)) named = w === 'nick' || w === 'nickname' || w === 'alias' ? 0.75 : 0.9;
  }
  if (named === 0 && k.includes('name')) {
    for (const w of k) if (qualifiers.has(w)) named = 0.85;
  }
  if (named === 0) return 0;
  // A device's nickname is a device name.
  if (deviceWords.inPath(field)) return 0;
  return named;
}

function matchUsername(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string' || value.length < 2 || value.length > 65) return 0;
  const confidence = usernameConfidence(field);
  if (confidence === 0) return 0;
  if (!shape.test(value) || !hasLetter.test(value) || uuid.test(value)) return 0;
  // An email in a login field is an email (the email detector reports it).
  if (value.indexOf('@') > 0 && isEmailAddress(value)) return 0;
  const v = value.toLowerCase();
  if (v === 'null' || v === 'none' || v === 'true' || v === 'false' || v === 'undefined') return 0;
  return confidence;
}

export const usernameDetector = {
  id: 'username',
  category: 'username',
  fieldWords: [...usernameWords.words, 'name'],
  requiresFieldWord: true,
  match: matchUsername,
  examples: {
    match: [
      { path: 'username', value: 'jdoe42' },
      { path: 'account.login', value: 'jane_doe' },
      { path: 'twitter_handle', value: '@jane_doe' },
      { path: 'screen_name', value: 'JaneD' },
      { path: 'userName', value: 'j.doe' },
    ],
    noMatch: [
      { path: 'username', value: 'jane@example.com' },
      { path: 'last_login', value: '2019-12-04T10:00:00Z' },
      { path: 'login_count', value: '42' },
      { path: 'cams[].nickname', value: 'BabyRoom' },
      { path: 'username', value: 'Jane Doe' },
      { path: 'username', value: '12345' },
      { path: 'display_name', value: 'Amber' },
      { path: 'products[].displayName', value: 'CamPan' },
    ],
  },
} as const satisfies Detector;
