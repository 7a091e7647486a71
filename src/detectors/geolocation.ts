import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';

const latWords = new FieldWordSet(['lat', 'latitude']);
const lngWords = new FieldWordSet(['lon', 'lng', 'long', 'longitude']);
const placeWords = new FieldWordSet([
  'geo',
  'location',
  'loc',
  'coords',
  'coordinates',
  'coordinate',
  'position',
  'gps',
  'latlng',
  'latlon',
  'geolocation',
  'point',
  'geohash',
]);
// "lat,lng" with at least two decimals each (~1 km): coarser pairs locate nobody.
const pair = /^\s{0,4}\(?(-?\d{1,3}\.\d{2,12})\s{0,4}[,; ]\s{0,4}(-?\d{1,3}\.\d{2,12})\)?\s{0,4}$/;
// Geohash (Niemeyer 2008): base32 without a, i, l, o; 6+ characters is ~1 km or better.
const geohash = /^[0-9b-hjkmnp-z]{6,12}$/;
const maxDocument = 4096;

function decimals(x: number): boolean {
  return !Number.isInteger(x);
}

function numberOf(value: Scalar): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.length > 0 && value.length < 24) {
    const x = Number(value);
    return value.trim() === '' ? Number.NaN : x;
  }
  return Number.NaN;
}

function matchGeolocation(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  const lat = latWords.inKey(field);
  const lng = !lat && lngWords.inKey(field);
  if (lat || lng) {
    const x = numberOf(value);
    if (!Number.isFinite(x) || !decimals(x) || x === 0) return 0;
    // `long` alone is too common a word; a longitude needs a place word or a lat sibling name.
    if (lng && field.keyWords.includes('long') && !placeWords.inPath(field) && field.keyWords.length > 1)
      return 0;
    return Math.abs(x) <= (lat ? 90 : 180) ? 0.9 : 0;
  }
  if (typeof value !== 'string' || value.length < 7 || value.length > maxDocument) return 0;
  // A pair starts with a digit, a sign, a parenthesis or a space; most strings fail here.
  const c = value.charCodeAt(0);
  const m =
    value.length <= 64 && ((c >= 48 && c <= 57) || c === 45 || c === 40 || c === 32)
      ? pair.exec(value)
      : null;
  if (m !== null) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (Math.abs(a) > 90 || Math.abs(b) > 180) return 0;
    if (placeWords.inPath(field)) return 0.95;
    // Without a place word only GPS precision (4+ decimals, ~10 m) is a coordinate, not prices.
    return (m[1] ?? '').length - (m[1] ?? '').indexOf('.') > 4 &&
      (m[2] ?? '').length - (m[2] ?? '').indexOf('.') > 4
      ? 0.7
      : 0;
  }
  if (placeWords.inKey(field) && field.keyWords.includes('geohash') && geohash.test(value)) return 0.85;
  // GeoJSON (RFC 7946 §3.1.2) point inside a string.
  if (value.charCodeAt(0) === 123 && value.includes('"coordinates"') && value.includes('"Point"'))
    return 0.85;
  return 0;
}

export const geolocationDetector = {
  id: 'geolocation',
  category: 'geolocation',
  fieldWords: [...latWords.words, ...lngWords.words, ...placeWords.words],
  match: matchGeolocation,
  examples: {
    match: [
      { path: 'home.lat', value: 37.774929 },
      { path: 'location.longitude', value: -122.419416 },
      { path: 'gps', value: '37.7749,-122.4194' },
      { path: 'x', value: '48.8584, 2.2945' },
      { path: 'geo', value: '{"type":"Point","coordinates":[-122.42,37.77]}' },
      { path: 'lat', value: '51.5072' },
      { path: 'location.geohash', value: '9q8yyk8yt' },
    ],
    noMatch: [
      { path: 'lat', value: 120.5 },
      { path: 'lat', value: 0 },
      { path: 'long_description', value: 12.5 },
      { path: 'price', value: '12.50,3.99' },
      { path: 'version', value: '1.2' },
      { path: 'lng', value: 'west' },
    ],
  },
} as const satisfies Detector;
