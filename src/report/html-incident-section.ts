import type { Category } from '../core/category.js';
import type { Deadline, IncidentRecord } from '../incident/incident.js';
import { formatCount } from './format-size.js';
import { formatDuration } from '../core/duration.js';
import { formatUtc } from './format-time.js';
import { categoryChip, renderFieldTable } from './html-field-table.js';
import { html, type SafeHtml } from './html-escape.js';

function deadlineState(deadline: Deadline, now: number): SafeHtml {
  if (deadline.doneAt !== undefined)
    return html`<span class="state state-done">done ${formatUtc(deadline.doneAt)}</span>`;
  const due = deadline.dueAt === undefined ? NaN : Date.parse(deadline.dueAt);
  if (Number.isNaN(due)) return html`<span class="note">no fixed period</span>`;
  return due < now
    ? html`<span class="state state-overdue">overdue by ${formatDuration(now - due)}</span>`
    : html`<span>due in ${formatDuration(due - now)}</span>`;
}

/** One incident: its window, the people it concerns, and every deadline with its state at `now`. */
export function renderIncidentSection(incident: IncidentRecord, nowIso: string): SafeHtml {
  const now = Date.parse(nowIso);
  const w = incident.window;
  const byCategory = (Object.entries(incident.subjects.byCategory) as [Category, number][]).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  );
  return html`<section
    class="panel incident"
    data-incident="${incident.ref}"
    data-store="${incident.store.name}"
  >
    <div class="panel-head">
      <h3>${incident.ref} · ${incident.store.name}</h3>
      <span class="mono">${incident.store.target}</span
      ><span class="${`state state-${incident.status === 'open' ? 'open' : 'done'}`}"
        >${incident.status}</span
      >
    </div>
    <p class="facts">
      Exposed ${w.openedAfter !== undefined && html`after <b>${formatUtc(w.openedAfter)}</b>, `}open from
      <b>${formatUtc(w.openedAt)}</b>
      ${w.closedAt === undefined ? html`and <b class="state-open">still open</b>` : html`to <b>${formatUtc(w.closedAt)}</b>`}
      (${formatDuration(w.durationMs)}) · detected ${formatUtc(incident.detectedAt)} · aware
      ${formatUtc(incident.awareAt)}${incident.containedAt !== undefined && html` · contained ${formatUtc(incident.containedAt)}`}<br /><b
        data-metric="incident-people"
        >${formatCount(incident.subjects.total)}</b
      >
      people, <b>${formatCount(incident.reachable)}</b> reachable by
      email${incident.records !== undefined && html` · ${formatCount(incident.records)} records`} ·
      ${incident.jurisdictions.join(', ')}
    </p>
    ${byCategory.length > 0 && html`<p>${byCategory.map(([c, n]) => html`${categoryChip(c)}<span class="num" data-metric="incident-category-people" data-category="${c}">${formatCount(n)}</span> `)}</p>`}
    <table class="deadlines">
      <thead>
        <tr>
          <th>who must be told</th>
          <th>law</th>
          <th>rule</th>
          <th>due</th>
          <th>state</th>
        </tr>
      </thead>
      <tbody>
        ${incident.deadlines.map(
          (d) =>
            html`<tr data-deadline="${d.id}">
              <td>
                ${d.audience}${d.condition !== undefined && html`<br /><span class="note">${d.condition}</span>`}
              </td>
              <td>${d.law}</td>
              <td>${d.rule}</td>
              <td class="mono">${d.dueAt === undefined ? '—' : formatUtc(d.dueAt)}</td>
              <td class="nowrap">${deadlineState(d, now)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${renderFieldTable(incident.store.name, incident.fields, { collapsed: true })}
    ${
      incident.timeline.length > 0 &&
      html`<details>
        <summary>${formatCount(incident.timeline.length)} timeline entries</summary>
        <ol class="events">
          ${incident.timeline.map((t) => html`<li><span class="mono">${formatUtc(t.at)}</span> <b>${t.kind}</b> ${t.detail}</li>`)}
        </ol>
      </details>`
    }
  </section>`;
}
