import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';

const genderWords = new FieldWordSet(['gender', 'sex', 'geschlecht', 'sexe', 'sexo', 'genre']);
// `sex_offender_check`, `gender_neutral`: flags about something else.
const notGenderWords = new FieldWordSet([
  'neutral',
  'offender',
  'ratio',
  'count',
  'split',
  'distribution',
  'target',
  'filter',
  'pref',
  'preference',
  'at',
  'id',
]);
// Small code sets: ISO/IEC 5218 (0 not known, 1 male, 2 female, 9 not applicable), HL7
// AdministrativeGender (M, F, O, U), and the words forms and apps use, in a few languages.
const codes = new Set([
  'm',
  'f',
  'male',
  'female',
  'man',
  'woman',
  'men',
  'women',
  'non-binary',
  'nonbinary',
  'non binary',
  'nb',
  'other',
  'x',
  'u',
  'o',
  'unknown',
  'diverse',
  'd',
  'unspecified',
  'prefer not to say',
  'prefer_not_to_say',
  'undisclosed',
  'intersex',
  'trans',
  'transgender',
  'genderqueer',
  'agender',
  'w',
  'männlich',
  'weiblich',
  'divers',
  'homme',
  'femme',
  'masculin',
  'féminin',
  'masculino',
  'femenino',
  'feminino',
  'hombre',
  'mujer',
  'boy',
  'girl',
  'mr',
  'ms',
  'mrs',
]);

function namesGender(field: FieldContext): boolean {
  let named = false;
  for (const w of field.keyWords) {
    if (notGenderWords.has(w)) return false;
    if (genderWords.has(w)) named = true;
  }
  return named;
}

function matchGender(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  if (!namesGender(field)) return 0;
  if (typeof value === 'number') return value === 0 || value === 1 || value === 2 || value === 9 ? 0.85 : 0;
  if (value.length === 0 || value.length > 20) return 0;
  const v = value.trim().toLowerCase();
  if (v === '0' || v === '1' || v === '2' || v === '9') return 0.85;
  return codes.has(v) ? 0.95 : 0;
}

export const genderDetector = {
  id: 'gender',
  category: 'gender',
  fieldWords: genderWords.words,
  requiresFieldWord: true,
  match: matchGender,
  examples: {
    match: [
      { path: 'gender', value: 'female' },
      { path: 'profile.sex', value: 'M' },
      { path: 'body.gender', value: 1 },
      { path: 'Geschlecht', value: 'weiblich' },
      { path: 'gender', value: 'Non-binary' },
    ],
    noMatch: [
      { path: 'gender', value: 'banana' },
      { path: 'gender_neutral', value: 'true' },
      { path: 'status', value: 'M' },
      { path: 'sex', value: 5 },
      { path: 'gender', value: true },
    ],
  },
} as const satisfies Detector;
