import type { TargetReport } from '../core/scan-report.js';
import { exposedCategories } from './describe-exposure.js';
import { categoryChip, renderFieldTable } from './html-field-table.js';
import { html, type SafeHtml } from './html-escape.js';
import { formatBytes, formatCount } from './format-size.js';

const maxCollectionsShown = 200;

/** One scanned store or classified file: what it is, how much it holds, and its fields. */
export function renderTargetSection(target: TargetReport): SafeHtml {
  const size = target.size;
  const server =
    target.server === undefined ? '' : `${target.server.product} ${target.server.version ?? ''}`.trim();
  const collections = target.collections.slice(0, maxCollectionsShown);
  const categories = exposedCategories(target);
  return html`<section class="panel store" data-store="${target.target}">
    <div class="panel-head">
      <span class="${`badge sev-${target.severity}`}">${target.severity}</span>
      <h3>${target.target}</h3>
      <span class="${`state state-${target.status}`}">${target.status}</span
      >${target.indicators.length > 0 && html`<span class="note">[${target.indicators.join(', ')}]</span>`}
    </div>
    <p class="facts">
      ${target.protocol}${server !== '' && html` · <b>${server}</b>`}${size?.collections !== undefined && html` · ${formatCount(size.collections)} collections`}${size?.records !== undefined && html` · <b data-metric="store-records">${formatCount(size.records, size.approximate === true)}</b> records`}${size?.bytes !== undefined && html` · ${formatBytes(size.bytes)}`}
      · <b data-metric="store-people">${formatCount(target.subjects.total)}</b> people<br />${target.detail}
    </p>
    ${categories.length > 0 && html`<p>${categories.map(([c, n]) => html`${categoryChip(c)}<span class="num" data-metric="store-category-people" data-category="${c}">${formatCount(n)}</span> `)}</p>`}
    ${target.status === 'open' || target.fields.length > 0 ? renderFieldTable(target.target, target.fields) : ''}
    ${
      collections.length > 0 &&
      html`<details>
        <summary>${formatCount(target.collections.length)} collection(s)</summary>
        <table>
          <thead>
            <tr>
              <th>collection</th>
              <th class="num">records</th>
              <th class="num">size</th>
            </tr>
          </thead>
          <tbody>
            ${collections.map(
              (c) =>
                html`<tr>
                  <td class="mono">${c.name}</td>
                  <td class="num">${formatCount(c.records)}</td>
                  <td class="num">${formatBytes(c.bytes)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </details>`
    }
  </section>`;
}
