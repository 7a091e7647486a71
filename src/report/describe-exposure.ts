import type { Category } from '../core/category.js';
import type { TargetReport } from '../core/scan-report.js';

/** Categories of a target by people affected, most first: `[['email', 117950], ['api_token', 2400]]`. */
export function exposedCategories(target: TargetReport): [Category, number][] {
  return (Object.entries(target.subjects.byCategory) as [Category, number][]).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  );
}

/** `email 117,950 · api_token 2,400 · health_metric 140` — what an open store exposes, in people. */
export function describeExposure(target: TargetReport, max = 8): string {
  const all = exposedCategories(target);
  const shown = all
    .slice(0, max)
    .map(([category, people]) => `${category} ${people.toLocaleString('en-US')}`);
  if (all.length > max) shown.push(`+${all.length - max} more`);
  return shown.join(' · ');
}
