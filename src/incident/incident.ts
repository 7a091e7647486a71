import type { Category } from '../core/category.js';
import type { SubjectCounts } from '../core/scan-report.js';
import type { ExposureWindow } from '../watch/watch-event.js';

/** Laws whose deadlines an incident tracks (jurisdictions.ts). */
export type Jurisdiction = 'gdpr' | 'us-ca' | 'hipaa' | 'ftc-hbnr';
export const jurisdictions = [
  'gdpr',
  'us-ca',
  'hipaa',
  'ftc-hbnr',
] as const satisfies readonly Jurisdiction[];

/** One obligation with its due time, computed from the moment of awareness. */
export interface Deadline {
  id:
    | 'gdpr-33'
    | 'gdpr-34'
    | 'us-ca-individuals'
    | 'us-ca-attorney-general'
    | 'hipaa-individuals'
    | 'hipaa-hhs'
    | 'ftc-hbnr-individuals'
    | 'ftc-hbnr-ftc';
  jurisdiction: Jurisdiction;
  /** Who must be told: "supervisory authority", "affected individuals", … */
  audience: string;
  /** The provision, e.g. "GDPR Art. 33(1)". */
  law: string;
  /** ISO time; absent where the law sets no fixed period ("without undue delay"). */
  dueAt?: string;
  /** The rule in words, e.g. "72 hours from awareness". */
  rule: string;
  /** When it applies only under a condition the tool cannot measure (residency, risk). */
  condition?: string;
  /** Set once the incident's timeline records this notification. */
  doneAt?: string;
}

export type TimelineKind =
  | 'exposure-start'
  | 'exposure-end'
  | 'detected'
  | 'aware'
  | 'contained'
  | 'people-computed'
  | 'notice-drafted'
  | 'notification'
  | 'revocation'
  | 'note'
  | 'closed';

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  detail: string;
  /** For `notification`: which deadline it fulfils. */
  deadline?: Deadline['id'];
}

export interface Decision {
  at: string;
  decision: string;
  rationale: string;
  by?: string;
}

/** What notices need and measurement cannot supply; each missing one is listed by `notice`. */
export interface IncidentFacts {
  controller?: string;
  dpoContact?: string;
  contactPoint?: string;
  consequences?: string;
  measuresTaken?: string;
  measuresProposed?: string;
  adviceToIndividuals?: string;
  /** Who the people are ("customers of the scale app", "employees"): GDPR Art. 33(3)(a) asks for their categories. */
  subjectCategories?: string;
  /** Why the authority is told after 72 hours: GDPR Art. 33(1) requires the reasons with a late notification. */
  delayReasons?: string;
  /** Whether a law enforcement investigation delayed the notice: Cal. Civ. Code §1798.82(d)(2)(E). */
  lawEnforcementDelay?: boolean;
  /** A toll-free number people can call: 45 CFR §164.404(c)(1)(E). */
  tollFreeNumber?: string;
  /** The free identity theft prevention offer (≥ 12 months) Cal. Civ. Code §1798.82(d)(2)(G) asks for when government ids leaked. */
  identityTheftServices?: string;
}

export interface ExposedField {
  collection: string;
  path: string;
  categories: Category[];
  records: number;
  subjects: number;
}

/** `leakwatch incident show --format json`. Counts and categories only, never a value. */
export interface IncidentRecord {
  id: number;
  /** `INC-0001`. */
  ref: string;
  status: 'open' | 'closed';
  store: { name: string; target: string; protocol: string; owner?: string; tags: string[] };
  window: ExposureWindow;
  /** When watch first saw the exposure (the window's opening probe). */
  detectedAt: string;
  /** When the organisation became aware: the start of GDPR's 72 hours. */
  awareAt: string;
  containedAt?: string;
  closedAt?: string;
  jurisdictions: Jurisdiction[];
  categories: Category[];
  records?: number;
  subjects: SubjectCounts;
  /** People with a contact address (reachable by `notify`). */
  reachable: number;
  fields: ExposedField[];
  deadlines: Deadline[];
  timeline: TimelineEntry[];
  decisions: Decision[];
  facts: IncidentFacts;
}

export function incidentRef(id: number): string {
  return `INC-${String(id).padStart(4, '0')}`;
}

/** Accepts `7`, `INC-0007` or `inc-7`. */
export function parseIncidentRef(text: string): number | undefined {
  const match = /^(?:inc-?)?0*(\d{1,12})$/i.exec(text.trim());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
