/**
 * Markup that is already safe to place in a page. Only `html` and `rawHtml` make one, so a string
 * from a target can reach the page only through `escapeHtml`.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

// Control characters and bidi overrides can make a hostile name read as something else on screen.
// eslint-disable-next-line no-control-regex
const invisible = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for element content and quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(invisible, '').replace(/[&<>"']/g, (c) => entities[c] ?? c);
}

/** For markup this code writes itself (the style sheet); never for text from a target. */
export function rawHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false || value === true) return '';
  if (value instanceof SafeHtml) return value.value;
  if (typeof value === 'number') return escapeHtml(String(value));
  if (typeof value === 'string') return escapeHtml(value);
  return value.map(render).join('');
}

/**
 * The one template function: every interpolated string is escaped, arrays are joined, `false` and
 * nullish render nothing (so `${cond && html`…`}` works), nested `html` results pass through.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}
