import { createHash } from 'node:crypto';
import { categorySensitivity, type Category } from '../core/category.js';
import type { ScanReport, Severity, SubjectCounts } from '../core/scan-report.js';
import { severityRank, storeSeverity } from '../core/severity.js';
import type { IncidentRecord } from '../incident/incident.js';
import type { StoreHistory } from '../watch/status-view.js';
import { formatCount } from './format-size.js';
import { formatUtc } from './format-time.js';
import { html, rawHtml, type SafeHtml } from './html-escape.js';
import { renderHistorySection } from './html-history-section.js';
import { renderIncidentSection } from './html-incident-section.js';
import { htmlStyles } from './html-styles.js';
import { renderTargetSection } from './html-target-section.js';
import { renderTimelineChart, type TimelineLane } from './html-timeline-chart.js';

export interface HtmlReportInput {
  title?: string;
  /** ISO time the page says it was made; also "now" for open windows and deadlines. */
  generatedAt: string;
  report?: ScanReport;
  histories?: StoreHistory[];
  incidents?: IncidentRecord[];
}

// The browser may run nothing and fetch nothing: the one style sheet is allowed by its hash.
const styleHash = createHash('sha256').update(htmlStyles).digest('base64');
const contentSecurityPolicy = `default-src 'none'; style-src 'sha256-${styleHash}'; img-src 'none'; font-src 'none'; connect-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'`;

const maxLanes = 100;

interface StoreSummary {
  name: string;
  /** Incident first (what notices use), then the scan, then the watched store's last classification. */
  people?: { counts: SubjectCounts; rank: number };
  open: boolean;
  /** A watched store's state is newer than any scan: it decides "open now" once known. */
  watched: boolean;
  exposed: boolean;
  severity: Severity;
}

function exposedSeverity(subjects: SubjectCounts | undefined, records?: number): Severity {
  return storeSeverity({
    status: 'open',
    subjects: subjects ?? { total: 0, byCategory: {} },
    classified: subjects !== undefined,
    ...(records === undefined ? {} : { records }),
  });
}

function summarize(input: HtmlReportInput): Map<string, StoreSummary> {
  const stores = new Map<string, StoreSummary>();
  const entry = (key: string, name: string): StoreSummary => {
    let s = stores.get(key);
    if (s === undefined) {
      s = { name, open: false, watched: false, exposed: false, severity: 'info' };
      stores.set(key, s);
    }
    return s;
  };
  const worse = (a: Severity, b: Severity): Severity => (severityRank(a) <= severityRank(b) ? a : b);
  const people = (s: StoreSummary, counts: SubjectCounts | undefined, rank: number) => {
    if (counts !== undefined && (s.people === undefined || rank < s.people.rank)) s.people = { counts, rank };
  };
  for (const t of input.report?.targets ?? []) {
    const s = entry(t.target, t.target);
    if (!s.watched) s.open ||= t.status === 'open';
    s.exposed ||= t.status === 'open';
    s.severity = worse(s.severity, t.severity);
    people(s, t.subjects, 1);
  }
  for (const h of input.histories ?? []) {
    const s = entry(h.store.target, h.store.name);
    s.name = h.store.name;
    const exposed = h.store.state === 'open' || h.windows.length > 0;
    s.open = (s.watched && s.open) || h.store.state === 'open';
    s.watched = true;
    s.exposed ||= exposed;
    if (exposed) s.severity = worse(s.severity, exposedSeverity(h.store.exposure?.subjects, h.store.records));
    people(s, h.store.exposure?.subjects, 2);
  }
  for (const i of input.incidents ?? []) {
    const s = entry(i.store.target, i.store.name);
    s.name = i.store.name;
    s.exposed = true;
    if (!s.watched && i.status === 'open' && i.window.closedAt === undefined) s.open = true;
    s.severity = worse(s.severity, exposedSeverity(i.subjects, i.records));
    people(s, i.subjects, 0);
  }
  return stores;
}

function timelineLanes(input: HtmlReportInput): TimelineLane[] {
  const lanes = new Map<string, TimelineLane>();
  const lane = (key: string, name: string): TimelineLane => {
    let l = lanes.get(key);
    if (l === undefined) {
      l = { store: name, windows: [], markers: [] };
      lanes.set(key, l);
    }
    return l;
  };
  for (const h of input.histories ?? []) {
    const l = lane(h.store.target, h.store.name);
    l.windows.push(...h.windows);
    l.markers.push(...h.events.map((e) => ({ at: e.at, kind: e.kind, label: `${e.kind}: ${e.detail}` })));
  }
  for (const i of input.incidents ?? []) {
    const l = lane(i.store.target, i.store.name);
    if (!l.windows.some((w) => w.openedAt === i.window.openedAt)) l.windows.push(i.window);
    for (const t of i.timeline) {
      // The bars already show where the exposure starts and ends.
      if (t.kind === 'exposure-start' || t.kind === 'exposure-end' || t.kind === 'note') continue;
      l.markers.push({ at: t.at, kind: t.kind, label: `${i.ref} ${t.kind}: ${t.detail}` });
    }
  }
  return [...lanes.values()].filter((l) => l.windows.length > 0 || l.markers.length > 0).slice(0, maxLanes);
}

function card(metric: string, label: string, value: string, extraClass = ''): SafeHtml {
  return html`<div class="${`card ${extraClass}`.trim()}">
    <div class="label">${label}</div>
    <div class="value" data-metric="${metric}">${value}</div>
  </div>`;
}

function categoryTable(totals: Map<Category, number>): SafeHtml {
  const rows = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (rows.length === 0) return html``;
  const max = Math.max(...rows.map(([, n]) => n), 1);
  return html`<h2>People per category</h2>
    <section class="panel">
      <table class="categories">
        <thead>
          <tr>
            <th>category</th>
            <th>sensitivity</th>
            <th class="num">people</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(([c, n]) => {
            const sensitivity = categorySensitivity[c];
            return html`<tr data-category="${c}">
              <td><span class="${`chip ${sensitivity}`}">${c}</span></td>
              <td>${sensitivity}</td>
              <td class="num" data-metric="category-people">${formatCount(n)}</td>
              <td>
                <svg class="bars" viewBox="0 0 300 12" width="300" height="12" aria-hidden="true">
                  <rect class="bar-bg" x="0" y="0" width="300" height="12" rx="2"></rect>
                  <rect
                    class="${sensitivity}"
                    x="0"
                    y="0"
                    width="${Math.max((n / max) * 300, 1).toFixed(1)}"
                    height="12"
                    rx="2"
                  ></rect>
                </svg>
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
    </section>`;
}

/**
 * A report as one self-contained HTML page: summary, people per category, the exposure timeline,
 * incidents with their deadlines, and every store's fields. It loads nothing (inline CSS and SVG,
 * no script, a CSP that forbids any fetch) and escapes every string that came from a target.
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  const title = input.title ?? 'Leakwatch report';
  const stores = summarize(input);
  const totals = new Map<Category, number>();
  let peopleTotal = 0;
  for (const s of stores.values()) {
    if (s.people === undefined) continue;
    peopleTotal += s.people.counts.total;
    for (const [c, n] of Object.entries(s.people.counts.byCategory) as [Category, number][])
      totals.set(c, (totals.get(c) ?? 0) + n);
  }
  const all = [...stores.values()];
  const severity = all.reduce<Severity>(
    (worst, s) => (severityRank(s.severity) < severityRank(worst) ? s.severity : worst),
    'info',
  );
  const lanes = timelineLanes(input);
  const targets = [...(input.report?.targets ?? [])].sort(
    (a, b) => severityRank(a.severity) - severityRank(b.severity),
  );
  const report = input.report;
  const scanned = new Set(targets.map((t) => t.target));
  const version = report?.tool.version;
  const body = html`<main>
    <header>
      <h1>${title}</h1>
      <p class="sub">
        Generated
        ${formatUtc(input.generatedAt)}${report !== undefined && html` · scan ${formatUtc(report.startedAt)} → ${formatUtc(report.finishedAt)}`}
      </p>
    </header>
    <section class="cards" aria-label="summary">
      ${card('stores', 'stores', formatCount(stores.size))}
      ${card('exposed', 'exposed', formatCount(all.filter((s) => s.exposed).length))}
      ${card('open', 'open now', formatCount(all.filter((s) => s.open).length))}
      ${card('people-total', stores.size > 1 ? 'people (sum over stores)' : 'people', formatCount(peopleTotal))}
      ${card('severity', 'worst severity', severity, `sev-${severity}`)}
    </section>
    ${
      lanes.length > 0 &&
      html`<h2>Exposure timeline</h2>
        ${renderTimelineChart(lanes, input.generatedAt)}`
    }
    ${categoryTable(totals)}
    ${
      (input.incidents ?? []).length > 0 &&
      html`<h2>Incidents and deadlines</h2>
        ${(input.incidents ?? []).map((i) => renderIncidentSection(i, input.generatedAt))}`
    }
    ${
      targets.length > 0 &&
      html`<h2>Stores</h2>
        ${targets.map(renderTargetSection)}`
    }
    ${
      (input.histories ?? []).length > 0 &&
      html`<h2>Watched stores</h2>
        ${(input.histories ?? []).map((h) => renderHistorySection(h, { collapseFields: scanned.has(h.store.target) }))}`
    }
    <footer>
      Leakwatch${version !== undefined && html` ${version}`}. Counts, categories and masked examples only: no
      value read from a store appears in this report. This file loads nothing from anywhere.
    </footer>
  </main>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html`${title}`.value}</title>
<style>${rawHtml(htmlStyles).value}</style>
</head>
<body>
${body.value}
</body>
</html>
`;
}
