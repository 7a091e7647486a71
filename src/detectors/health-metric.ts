import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';

interface Metric {
  /** Plausible human range in the field's usual unit; outside it the field is something else. */
  readonly min: number;
  readonly max: number;
}

// Ranges span extremes of living adults and children (WHO growth standards; clinical reference
// ranges), wide enough for every real reading and narrow enough to reject pixels and prices.
const height: Metric = { min: 50, max: 250 }; // cm
const heightMetres: Metric = { min: 0.5, max: 2.5 };
const heightInches: Metric = { min: 20, max: 100 };
const weightKg: Metric = { min: 2, max: 300 };
const weightLb: Metric = { min: 4, max: 660 };
const weightG: Metric = { min: 2000, max: 300_000 };
const bmi: Metric = { min: 10, max: 70 };
const percent: Metric = { min: 2, max: 80 }; // body fat, water, muscle as a share of body mass
const boneMass: Metric = { min: 0.5, max: 10 }; // kg
const boneDensity: Metric = { min: 0.3, max: 2.5 }; // g/cm² (DXA)
const muscle: Metric = { min: 2, max: 150 }; // kg or %
const protein: Metric = { min: 1, max: 400 }; // % on scales, g/day intake
const heartRate: Metric = { min: 25, max: 250 }; // bpm
const systolic: Metric = { min: 60, max: 250 }; // mmHg
const diastolic: Metric = { min: 30, max: 150 };
const visceral: Metric = { min: 1, max: 60 }; // scale index
const bmr: Metric = { min: 500, max: 5000 }; // kcal/day
const spo2: Metric = { min: 70, max: 100 };
const glucose: Metric = { min: 20, max: 600 }; // mg/dL
const metabolicAge: Metric = { min: 5, max: 110 };

const unitG = new FieldWordSet(['g', 'gram', 'grams']);
const unitLb = new FieldWordSet(['lb', 'lbs', 'pound', 'pounds']);
const unitM = new FieldWordSet(['m', 'meter', 'meters', 'metre', 'metres']);
const unitIn = new FieldWordSet(['in', 'inch', 'inches']);
const bodyWords = new FieldWordSet([
  'body',
  'health',
  'scale',
  'metric',
  'metrics',
  'vital',
  'vitals',
  'measurement',
  'measurements',
  'fitness',
  'biometrics',
  'composition',
]);
// Records about things, screens and goods (belt and braces besides `personOnly`).
const thingWords = new FieldWordSet([
  'product',
  'item',
  'sku',
  'package',
  'parcel',
  'shipping',
  'shipment',
  'price',
  'image',
  'img',
  'thumbnail',
  'video',
  'photo',
  'screen',
  'window',
  'icon',
  'px',
  'pixel',
  'pixels',
  'frame',
  'resolution',
  'font',
  'banner',
  'viewport',
  'canvas',
  'box',
  'container',
  'cell',
  'row',
  'column',
  'water',
  'tank',
  'rate',
  'limit',
  'goal',
  'target',
  'max',
  'min',
  'threshold',
  'id',
  'at',
  'time',
  'cargo',
  'vehicle',
  'car',
  'truck',
  'load',
  'payload',
  'file',
  'page',
  'layout',
  'bar',
  'chart',
  // Dimensions of goods: `dims.height_mm`, `package.size.weight`. Nobody's height is kept in mm.
  'dim',
  'dims',
  'dimension',
  'dimensions',
  'size',
  'sizes',
  'mm',
]);

/** Which metric the key names, or undefined. */
function metricOf(field: FieldContext): Metric | undefined {
  const k = field.keyWords;
  const has = (w: string): boolean => k.includes(w);
  if (has('bmi')) return bmi;
  if (has('systolic') || has('sys')) return systolic;
  if (has('diastolic') || has('dia')) return diastolic;
  if (has('heartrate') || has('pulse') || has('bpm') || (has('heart') && has('rate'))) return heartRate;
  if (has('spo2') || (has('oxygen') && has('saturation'))) return spo2;
  if (has('glucose')) return glucose;
  if (has('bmr') || (has('basal') && has('metabolic'))) return bmr;
  if (has('metabolic') && has('age')) return metabolicAge;
  if (has('visceral')) return visceral;
  if (has('bone')) return has('density') || has('bmd') ? boneDensity : boneMass;
  if (has('bodyfat') || has('fat')) return percent;
  if (has('muscle')) return muscle;
  if (has('protein')) return protein;
  // `water` alone is a tank level or a usage figure; body water needs `body` or a share word.
  if (has('water') && (bodyWords.inPath(field) || has('percent') || has('pct') || has('ratio')))
    return percent;
  if (has('height') || has('stature')) {
    if (unitM.inKey(field)) return heightMetres;
    if (unitIn.inKey(field)) return heightInches;
    return height;
  }
  if (has('weight') || has('mass') || has('bodyweight')) {
    if (unitG.inKey(field)) return weightG;
    if (unitLb.inKey(field)) return weightLb;
    return weightKg;
  }
  return undefined;
}

// A number, optionally with a unit (`72.5 kg`, `180cm`, `21 %`).
const numberWithUnit = /^\s{0,3}(\d{1,6}(?:\.\d{1,6})?)\s{0,3}(?:[A-Za-z%/]{1,8})?\s{0,3}$/;
const bloodPressure = /^(\d{2,3})\s{0,2}\/\s{0,2}(\d{2,3})(?:\s{0,3}mm ?Hg)?$/i;

function matchHealthMetric(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  const k = field.keyWords;
  if (typeof value === 'string' && value.length <= 20 && (k.includes('pressure') || k.includes('bp'))) {
    const bp = bloodPressure.exec(value);
    if (bp !== null) {
      const s = Number(bp[1]);
      const d = Number(bp[2]);
      return s >= systolic.min && s <= systolic.max && d >= diastolic.min && d <= diastolic.max && s > d
        ? 0.9
        : 0;
    }
  }
  const metric = metricOf(field);
  if (metric === undefined) return 0;
  for (const w of field.pathWords)
    if (
      thingWords.has(w) &&
      !(w === 'rate' && metric === heartRate) &&
      !(w === 'water' && metric === percent)
    )
      return 0;
  let x: number;
  if (typeof value === 'number') {
    x = value;
  } else {
    if (value.length > 20) return 0;
    const m = numberWithUnit.exec(value);
    if (m === null) return 0;
    x = Number(m[1]);
  }
  if (!Number.isFinite(x) || x < metric.min || x > metric.max) return 0;
  return 0.9;
}

export const healthMetricDetector = {
  id: 'health-metric',
  category: 'health_metric',
  fieldWords: [
    'height',
    'weight',
    'bmi',
    'fat',
    'bodyfat',
    'bone',
    'muscle',
    'water',
    'protein',
    'heart',
    'heartrate',
    'pulse',
    'bpm',
    'blood',
    'pressure',
    'systolic',
    'diastolic',
    'visceral',
    'bmr',
    'metabolic',
    'spo2',
    'glucose',
    'mass',
    'stature',
    'bp',
    'bodyweight',
  ],
  requiresFieldWord: true,
  personOnly: true,
  match: matchHealthMetric,
  examples: {
    match: [
      { path: 'body.height', value: 178 },
      { path: 'weight', value: 72.5 },
      { path: 'metrics.bmi', value: 22.9 },
      { path: 'body_fat', value: '18.5 %' },
      { path: 'bone_mass', value: 3.1 },
      { path: 'heart_rate', value: 64 },
      { path: 'blood_pressure', value: '120/80' },
      { path: 'scale.body_water', value: 55.2 },
      { path: 'height_m', value: 1.82 },
      { path: 'weight_lbs', value: 165 },
      { path: 'protein', value: 17.3 },
      { path: 'muscle_mass', value: 52.4 },
    ],
    noMatch: [
      { path: 'image.height', value: 200 },
      { path: 'product.weight_g', value: 450 },
      { path: 'height', value: 1080 },
      { path: 'weight', value: 0 },
      { path: 'heart_rate', value: 400 },
      { path: 'water_level', value: 55 },
      { path: 'bmi', value: 'high' },
      { path: 'blood_pressure', value: '80/120' },
      { path: 'weight', value: true },
      { path: 'dims.height_mm', value: 110 },
      { path: 'dimensions.height', value: 85 },
      { path: 'size.weight_kg', value: 12 },
    ],
  },
} as const satisfies Detector;
