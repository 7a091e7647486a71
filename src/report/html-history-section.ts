import type { Category } from '../core/category.js';
import type { StoreHistory } from '../watch/status-view.js';
import { formatCount } from './format-size.js';
import { formatDuration } from '../core/duration.js';
import { formatUtc } from './format-time.js';
import { categoryChip, renderFieldTable } from './html-field-table.js';
import { html, type SafeHtml } from './html-escape.js';

const maxEventsShown = 200;

/**
 * One watched store (`leakwatch history`): state, exposure windows, events, exposed fields (folded
 * away when a scan section above already lists them).
 */
export function renderHistorySection(
  history: StoreHistory,
  options: { collapseFields?: boolean } = {},
): SafeHtml {
  const s = history.store;
  const server = s.server === undefined ? '' : `${s.server.product} ${s.server.version ?? ''}`.trim();
  const exposure = s.exposure;
  const byCategory = (Object.entries(exposure?.subjects.byCategory ?? {}) as [Category, number][]).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  );
  const events = history.events.slice(-maxEventsShown);
  return html`<section class="panel history" data-store="${s.name}">
    <div class="panel-head">
      <h3>${s.name}</h3>
      <span class="mono">${s.target}</span
      ><span class="${`state state-${s.state}`}">${s.state}</span
      >${s.since !== undefined && html`<span class="note">since ${formatUtc(s.since)}</span>`}
    </div>
    <p class="facts">
      ${s.protocol}${server !== '' && html` · <b>${server}</b>`}${s.owner !== undefined && html` · owner ${s.owner}`}${s.records !== undefined && html` · ${formatCount(s.records)} records`}${exposure !== undefined && html` · <b data-metric="store-people">${formatCount(exposure.subjects.total)}</b> people (classified ${formatUtc(exposure.classifiedAt)})`}<br />${s.detail}
    </p>
    ${byCategory.length > 0 && html`<p>${byCategory.map(([c, n]) => html`${categoryChip(c)}<span class="num" data-metric="store-category-people" data-category="${c}">${formatCount(n)}</span> `)}</p>`}
    <table class="windows">
      <thead>
        <tr>
          <th>protected until</th>
          <th>open from</th>
          <th>closed at</th>
          <th class="num">exposed for</th>
        </tr>
      </thead>
      <tbody>
        ${
          history.windows.length === 0
            ? html`<tr>
                <td colspan="4" class="note">No exposure window recorded.</td>
              </tr>`
            : history.windows.map(
                (w) =>
                  html`<tr data-store="${s.name}" data-window="${w.openedAt}">
                    <td>
                      ${w.openedAfter === undefined ? 'open when first watched' : formatUtc(w.openedAfter)}
                    </td>
                    <td>${formatUtc(w.openedAt)}</td>
                    <td>
                      ${w.closedAt === undefined ? html`<span class="state state-open">still open</span>` : formatUtc(w.closedAt)}
                    </td>
                    <td class="num">${formatDuration(w.durationMs)}</td>
                  </tr>`,
              )
        }
      </tbody>
    </table>
    ${renderFieldTable(s.name, history.fields, { collapsed: options.collapseFields === true })}
    ${
      events.length > 0 &&
      html`<details>
        <summary>${formatCount(history.events.length)} event(s)</summary>
        <ol class="events">
          ${events.map((e) => html`<li><span class="mono">${formatUtc(e.at)}</span> <b>${e.kind}</b> ${e.fromState} → ${e.toState}: ${e.detail}</li>`)}
        </ol>
      </details>`
    }
  </section>`;
}
