import type { Category } from '../core/category.js';
import type { Deadline, Jurisdiction } from './incident.js';

const hour = 3_600_000;
const day = 24 * hour;

interface DeadlineRule {
  id: Deadline['id'];
  jurisdiction: Jurisdiction;
  audience: string;
  law: string;
  rule: string;
  /** From awareness; absent: no fixed period. */
  withinMs?: number;
  condition?: string;
}

/**
 * The obligations Leakwatch tracks. Periods run from awareness (GDPR) or discovery (the US laws;
 * Leakwatch takes the same moment). Sources: GDPR Art. 33(1) and 34(1); California Civil Code
 * §1798.82(a) as amended by SB 446 (30 calendar days, from 2026) and §1798.82(f) (sample copy to the
 * Attorney General above 500 residents); HIPAA 45 CFR §164.404(b) and §164.408(b); FTC Health Breach
 * Notification Rule 16 CFR §318.4(a) and §318.5(c).
 */
export const deadlineRules: readonly DeadlineRule[] = [
  {
    id: 'gdpr-33',
    jurisdiction: 'gdpr',
    audience: 'supervisory authority',
    law: 'GDPR Art. 33(1)',
    rule: 'without undue delay and, where feasible, not later than 72 hours after becoming aware',
    withinMs: 72 * hour,
  },
  {
    id: 'gdpr-34',
    jurisdiction: 'gdpr',
    audience: 'affected individuals',
    law: 'GDPR Art. 34(1)',
    rule: 'without undue delay',
    condition: 'when the breach is likely to result in a high risk to their rights and freedoms',
  },
  {
    id: 'us-ca-individuals',
    jurisdiction: 'us-ca',
    audience: 'affected California residents',
    law: 'Cal. Civ. Code §1798.82(a)',
    rule: 'within 30 calendar days of discovery',
    withinMs: 30 * day,
  },
  {
    id: 'us-ca-attorney-general',
    jurisdiction: 'us-ca',
    audience: 'California Attorney General (sample copy of the notice)',
    law: 'Cal. Civ. Code §1798.82(f)',
    rule: 'when notifying residents',
    withinMs: 30 * day,
    condition: 'when more than 500 California residents are notified',
  },
  {
    id: 'hipaa-individuals',
    jurisdiction: 'hipaa',
    audience: 'affected individuals',
    law: 'HIPAA 45 CFR §164.404(b)',
    rule: 'without unreasonable delay and no later than 60 calendar days after discovery',
    withinMs: 60 * day,
  },
  {
    id: 'hipaa-hhs',
    jurisdiction: 'hipaa',
    audience: 'Secretary of HHS',
    law: 'HIPAA 45 CFR §164.408(b)',
    rule: 'within 60 calendar days of discovery',
    withinMs: 60 * day,
    condition: 'when 500 or more individuals are affected (fewer: in the annual log)',
  },
  {
    id: 'ftc-hbnr-individuals',
    jurisdiction: 'ftc-hbnr',
    audience: 'affected individuals',
    law: 'FTC Health Breach Notification Rule, 16 CFR §318.4(a)',
    rule: 'without unreasonable delay and no later than 60 calendar days after discovery',
    withinMs: 60 * day,
  },
  {
    id: 'ftc-hbnr-ftc',
    jurisdiction: 'ftc-hbnr',
    audience: 'Federal Trade Commission',
    law: 'FTC Health Breach Notification Rule, 16 CFR §318.5(c)',
    rule: 'within 60 calendar days of discovery',
    withinMs: 60 * day,
    condition: 'when 500 or more individuals are affected',
  },
];

/** Health data brings in the health-breach rules by default. */
const healthCategories: ReadonlySet<Category> = new Set(['health_metric']);

/** GDPR and California always; HIPAA and the FTC rule when health data was exposed. */
export function defaultJurisdictions(categories: readonly Category[]): Jurisdiction[] {
  const health = categories.some((c) => healthCategories.has(c));
  return health ? ['gdpr', 'us-ca', 'hipaa', 'ftc-hbnr'] : ['gdpr', 'us-ca'];
}

/** The deadlines of `jurisdictions`, due from `awareAt`. */
export function computeDeadlines(jurisdictions: readonly Jurisdiction[], awareAt: Date): Deadline[] {
  return deadlineRules
    .filter((rule) => jurisdictions.includes(rule.jurisdiction))
    .map((rule) => ({
      id: rule.id,
      jurisdiction: rule.jurisdiction,
      audience: rule.audience,
      law: rule.law,
      rule: rule.rule,
      ...(rule.withinMs === undefined
        ? {}
        : { dueAt: new Date(awareAt.getTime() + rule.withinMs).toISOString() }),
      ...(rule.condition === undefined ? {} : { condition: rule.condition }),
    }));
}
