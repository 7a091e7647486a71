import { categorySensitivity, type Category } from './category.js';
import {
  severities,
  type Indicator,
  type ProbeStatus,
  type Severity,
  type SubjectCounts,
} from './scan-report.js';

/** 0 for `critical`, 4 for `info`: lower is worse. */
export function severityRank(severity: Severity): number {
  return severities.indexOf(severity);
}

/** True when `severity` is as bad as `threshold` or worse (the `--fail-on` test). */
export function isAtLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) <= severityRank(threshold);
}

export interface SeverityInput {
  status: ProbeStatus;
  subjects: SubjectCounts;
  /** Records the store holds, when known. */
  records?: number;
  /** True when records were read and classified; false when the data could not be classified. */
  classified: boolean;
  /** What the scan concluded about the store beyond its data (`assessIndicators`). */
  indicators?: readonly Indicator[];
}

// People thresholds of TAXONOMY.md's "Severity of a store".
const specialCriticalPeople = 100;
const personalHighPeople = 1000;

/**
 * TAXONOMY.md's severity rules, then the indicators: a suspected honeypot caps it at `low` (its
 * data is likely bait, not anyone's), a ransom note raises it to at least `high` (the store was
 * already wiped: its data was exposed and likely taken).
 */
export function storeSeverity(input: SeverityInput): Severity {
  if (input.status !== 'open') return 'info';
  const byData = dataSeverity(input);
  const indicators = input.indicators ?? [];
  if (indicators.includes('honeypot-suspected'))
    return severityRank(byData) < severityRank('low') ? 'low' : byData;
  if (indicators.includes('ransom-note') && severityRank(byData) > severityRank('high')) return 'high';
  return byData;
}

function dataSeverity(input: SeverityInput): Severity {
  let secret = false;
  let specialPeople = -1;
  let personalPeople = -1;
  for (const [category, people] of Object.entries(input.subjects.byCategory) as [Category, number][]) {
    switch (categorySensitivity[category]) {
      case 'secret':
        secret = true;
        break;
      case 'special':
        specialPeople = Math.max(specialPeople, people);
        break;
      case 'personal':
        personalPeople = Math.max(personalPeople, people);
        break;
      case 'low':
        break;
    }
  }
  if (secret || specialPeople >= specialCriticalPeople) return 'critical';
  if (specialPeople >= 0 || personalPeople >= personalHighPeople) return 'high';
  if (personalPeople >= 0) return 'medium';
  const empty = input.records === 0;
  if (!empty && !input.classified) return 'medium';
  return 'low';
}
