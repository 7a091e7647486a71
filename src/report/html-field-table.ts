import { categorySensitivity, type Category } from '../core/category.js';
import { formatCount } from './format-size.js';
import { html, type SafeHtml } from './html-escape.js';

/** A field as every source has it: scan findings, watched-store classifications, incidents. */
export interface HtmlField {
  collection: string;
  path: string;
  categories: readonly Category[];
  records: number;
  subjects: number;
  confidence?: number;
  example?: string;
}

// Enough for any report a person reads; the JSON format has the rest.
const maxFieldsShown = 500;

/** `<span class="chip secret">api_token</span>`: the category coloured by its sensitivity. */
export function categoryChip(category: Category): SafeHtml {
  return html`<span class="${`chip ${categorySensitivity[category]}`}">${category}</span>`;
}

/**
 * Fields of one store with their categories and counts. Each row carries `data-store` and
 * `data-field` (`collection/path`) and each count a `data-metric`, so tests read the numbers back.
 */
export function renderFieldTable(
  store: string,
  fields: readonly HtmlField[],
  options: { collapsed?: boolean } = {},
): SafeHtml {
  if (fields.length === 0) return html`<p class="note">No field with personal or secret data found.</p>`;
  const withDetail = fields.some((f) => f.confidence !== undefined || f.example !== undefined);
  const sorted = [...fields].sort(
    (a, b) =>
      b.subjects - a.subjects || a.collection.localeCompare(b.collection) || a.path.localeCompare(b.path),
  );
  const rows = sorted.slice(0, maxFieldsShown).map(
    (f) =>
      html`<tr data-store="${store}" data-field="${`${f.collection}/${f.path}`}">
        <td class="mono">${f.collection}</td>
        <td class="mono">${f.path}</td>
        <td>${f.categories.map(categoryChip)}</td>
        <td class="num" data-metric="field-records">${formatCount(f.records)}</td>
        <td class="num" data-metric="field-people">${formatCount(f.subjects)}</td>
        ${
          withDetail
            ? html`<td class="num">${f.confidence === undefined ? '' : f.confidence.toFixed(2)}</td>
                <td class="mono">${f.example ?? ''}</td>`
            : ''
        }
      </tr>`,
  );
  const more = fields.length - maxFieldsShown;
  const table = html`<table class="fields">
      <thead>
        <tr>
          <th>collection</th>
          <th>field</th>
          <th>categories</th>
          <th class="num">records</th>
          <th class="num">people</th>
          ${
            withDetail
              ? html`<th class="num">confidence</th>
                  <th>example (masked)</th>`
              : ''
          }
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    ${more > 0 && html`<p class="note">…and ${formatCount(more)} more fields (see --format json).</p>`}`;
  return options.collapsed === true
    ? html`<details>
        <summary>${formatCount(fields.length)} field(s) with personal or secret data</summary>
        ${table}
      </details>`
    : table;
}
