import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';
import { parseTimestamp } from './parse-timestamp.js';

const dobWords = new FieldWordSet([
  'dob',
  'birthday',
  'birthdate',
  'bday',
  'dateofbirth',
  'born',
  'geburtsdatum',
  'birth',
  'birthyear',
]);
// `birth_place`, `birth_country`: not a date.
const notDateWords = new FieldWordSet([
  'place',
  'city',
  'country',
  'name',
  'weight',
  'order',
  'rate',
  'count',
  'certificate',
  'control',
]);
const minTime = Date.UTC(1900, 0, 1);
/** A person is at least one year old, and born after 1900. */
const yearMs = 365.25 * 24 * 3600 * 1000;

function matchDateOfBirth(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  let named = false;
  let yearOnly = false;
  for (const w of field.keyWords) {
    if (notDateWords.has(w)) return 0;
    if (dobWords.has(w)) named = true;
    if (w === 'year' || w === 'birthyear' || w === 'yob') yearOnly = true;
  }
  if (!named && !field.keyWords.includes('yob')) return 0;
  const maxTime = Date.now() - yearMs;
  if (yearOnly) {
    const y = typeof value === 'number' ? value : Number(value);
    return Number.isInteger(y) && y >= 1900 && Date.UTC(y, 0, 1) <= maxTime ? 0.7 : 0;
  }
  const t = parseTimestamp(value, true);
  return t >= minTime && t <= maxTime ? 0.95 : 0;
}

export const dateOfBirthDetector = {
  id: 'date-of-birth',
  category: 'date_of_birth',
  fieldWords: [...dobWords.words, 'yob'],
  requiresFieldWord: true,
  personOnly: true,
  match: matchDateOfBirth,
  examples: {
    match: [
      { path: 'dob', value: '1984-07-21' },
      { path: 'profile.birthday', value: '21/07/1984' },
      { path: 'date_of_birth', value: '1984-07-21T00:00:00Z' },
      { path: 'birthDate', value: 458179200000 },
      { path: 'birth_year', value: 1984 },
      { path: 'dob', value: -315619200 },
    ],
    noMatch: [
      { path: 'dob', value: '1850-01-01' },
      { path: 'birthday', value: '2999-01-01' },
      { path: 'birth_place', value: 'Madrid' },
      { path: 'created_at', value: '1984-07-21' },
      { path: 'dob', value: 'unknown' },
    ],
  },
} as const satisfies Detector;
