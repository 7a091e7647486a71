import { probeStatuses, type ProbeStatus, type ScanReport } from '../core/scan-report.js';

/** `3 targets: 1 open, 1 auth-required, 1 unreachable` — the one-line summary every format shares. */
export function summarizeReport(report: ScanReport): string {
  const counts = new Map<ProbeStatus, number>();
  for (const target of report.targets) counts.set(target.status, (counts.get(target.status) ?? 0) + 1);
  const parts = probeStatuses.filter((s) => counts.has(s)).map((s) => `${counts.get(s) ?? 0} ${s}`);
  const n = report.targets.length;
  return `${n} target${n === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}
