import type { Detector, FieldContext, Scalar } from './detector.js';
import { deviceWords } from './device-words.js';
import { FieldWordSet } from './field-word-set.js';

// Single words that name a person's name.
const nameKeys = new FieldWordSet([
  'surname',
  'forename',
  'firstname',
  'lastname',
  'fullname',
  'givenname',
  'familyname',
  'displayname',
  'middlename',
  'realname',
  'legalname',
  'fname',
  'lname',
  'vorname',
  'nachname',
  'nombre',
  'apellido',
  'prenom',
  'nom',
  'cardholder',
  'holder',
]);
// `first_name`, `family_name`: these + `name`.
const nameQualifiers = new FieldWordSet([
  'first',
  'last',
  'full',
  'given',
  'family',
  'middle',
  'display',
  'real',
  'legal',
  'maiden',
  'contact',
  'owner',
  'customer',
  'person',
  'sender',
  'recipient',
  'patient',
  'employee',
  'member',
  'account',
  'holder',
  'billing',
  'shipping',
  'emergency',
  'parent',
  'guardian',
  'spouse',
  'author',
  'buyer',
  'profile',
]);
// A bare `name` counts under these parents (`users[].name`, `owner.name`).
const personParents = new FieldWordSet([
  'user',
  'account',
  'owner',
  'customer',
  'person',
  'people',
  'profile',
  'contact',
  'member',
  'employee',
  'patient',
  'recipient',
  'sender',
  'author',
  'buyer',
  'student',
  'guest',
  'driver',
  'passenger',
  'client',
  'subscriber',
  'shared',
  'share',
  'family',
  'child',
  'parent',
  'friend',
]);
// A `name` under these is a thing's name.
const thingParents = new FieldWordSet([
  'product',
  'item',
  'file',
  'host',
  'app',
  'company',
  'org',
  'organization',
  'organisation',
  'network',
  'wifi',
  'ssid',
  'model',
  'brand',
  'bucket',
  'table',
  'field',
  'event',
  'room',
  'group',
  'team',
  'project',
  'category',
  'tag',
  'city',
  'street',
  'country',
  'state',
  'domain',
  'server',
  'service',
  'plan',
  'sku',
  'store',
  'shop',
  'business',
  'merchant',
  'bank',
  'school',
  'place',
  'venue',
  'region',
  'role',
  'permission',
  'job',
  'task',
  'queue',
  'topic',
  'channel',
  'index',
  'db',
  'database',
  'schema',
  'nick',
  'nickname',
  'user',
  'username',
  'screen',
  'login',
  'handle',
  'file',
  'class',
  'type',
  'key',
]);
// Letters (any script), spaces, apostrophes, hyphens, dots; 1-6 words. No digits, no `@`.
const nameShape = /^[\p{L}][\p{L}\p{M}' .\-’]{0,98}$/u;

function nameConfidence(field: FieldContext): number {
  const k = field.keyWords;
  for (const w of k) if (nameKeys.has(w)) return 0.9;
  const hasName = k.includes('name');
  if (!hasName) return 0;
  for (const w of k) {
    if (w !== 'user' && thingParents.has(w)) return 0;
    if (nameQualifiers.has(w)) return 0.9;
  }
  if (deviceWords.inPath(field)) return 0;
  // `user_name` is a login name unless its value has spaces (checked by the caller).
  if (k.includes('user')) return 0.6;
  for (const w of field.pathWords) if (thingParents.has(w) && w !== 'user') return 0;
  for (const w of field.pathWords) if (personParents.has(w)) return 0.85;
  // A root `name`: on a person record (the classifier checks `personOnly`) it is the person's.
  return k.length === 1 ? 0.6 : 0;
}

function matchPersonName(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string' || value.length < 2 || value.length > 100) return 0;
  const confidence = nameConfidence(field);
  if (confidence === 0) return 0;
  if (!nameShape.test(value)) return 0;
  let spaces = 0;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) === 32) spaces++;
  if (spaces > 5) return 0;
  if (confidence === 0.6) {
    // Weak field evidence: want a capitalised "Given Family" shape.
    if (spaces < 1 || spaces > 3) return 0;
    const c = value.charCodeAt(0);
    if (c >= 97 && c <= 122) return 0;
    return 0.7;
  }
  return confidence;
}

export const personNameDetector = {
  id: 'person-name',
  category: 'person_name',
  fieldWords: [...nameKeys.words, 'name'],
  requiresFieldWord: true,
  personOnly: true,
  match: matchPersonName,
  examples: {
    match: [
      { path: 'first_name', value: 'Jane' },
      { path: 'lastName', value: "O'Brien-Smith" },
      { path: 'users[].name', value: 'José Álvarez' },
      { path: 'full_name', value: 'Li Wei' },
      { path: 'name', value: 'Jane Doe' },
      { path: 'owner.displayName', value: 'Jane D.' },
      { path: 'user_name', value: 'Jane Doe' },
    ],
    noMatch: [
      { path: 'cams[].name', value: 'Baby Room' },
      { path: 'product.name', value: 'Smart Scale' },
      { path: 'file_name', value: 'report.pdf' },
      { path: 'user_name', value: 'jdoe42' },
      { path: 'first_name', value: 'jane@example.com' },
      { path: 'name', value: 'server-01' },
      { path: 'wifi.name', value: 'Home Net' },
    ],
  },
} as const satisfies Detector;
