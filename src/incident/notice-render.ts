import type { NoticeDraft, NoticeLink } from './notice.js';

export type NoticeFormat = 'markdown' | 'html';
export const noticeFormats = ['markdown', 'html'] as const satisfies readonly NoticeFormat[];

const banner = 'DRAFT — not yet sent';
const notesHeading = 'Drafting notes (not part of the notice)';

// Only what draftNotice builds from facts; anything else stays text, so no notice points at the web.
const safeHref = /^(?:mailto:[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+|tel:\+?\d{6,15})$/;

function safeLinks(links: readonly NoticeLink[] | undefined): NoticeLink[] {
  return (links ?? []).filter((link) => safeHref.test(link.href));
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

// Escaped first, so a store name can only ever add text inside the <mark>, never markup.
function htmlText(text: string): string {
  return escapeHtml(text)
    .replace(/\[to be completed: [^\]]*\]|\{\{[a-z]+\}\}/g, (gap) => `<mark>${gap}</mark>`)
    .replace(/\r?\n/g, '<br>');
}

// Body text at 12pt and nothing under 10pt: Cal. Civ. Code §1798.82(d)(1) sets 10-point as the floor.
const css = [
  'body{font-family:Georgia,"Times New Roman",serif;font-size:12pt;line-height:1.45;color:#111;background:#fff;max-width:42em;margin:2em auto;padding:0 1em}',
  'h1{font-size:18pt;font-weight:bold;margin:1em 0 .6em}',
  'h2{font-size:14pt;font-weight:bold;margin:1.4em 0 .4em;border-bottom:1px solid #999}',
  '.banner{font-family:Arial,sans-serif;font-size:14pt;font-weight:bold;color:#fff;background:#b00020;padding:.5em 1em;text-align:center}',
  '.box{font-family:Arial,sans-serif;font-size:11pt;border:2px solid #b00020;background:#fff4f4;padding:.2em 1em;margin:1em 0}',
  '.box.notes{border-color:#666;background:#f4f4f4}',
  '.box h2{font-size:12pt;border:0}',
  'mark{background:#ffe08a}',
].join('\n');

function htmlList(items: readonly string[]): string {
  return items.length === 0
    ? ''
    : `<ul>\n${items.map((item) => `<li>${htmlText(item)}</li>`).join('\n')}\n</ul>`;
}

function renderHtml(draft: NoticeDraft): string {
  const missing =
    draft.missing.length === 0
      ? ''
      : `<section class="box missing">\n<h2>Still missing</h2>\n<ul>\n${draft.missing
          .map((item) => `<li><strong>${htmlText(item.field)}</strong>: ${htmlText(item.why)}</li>`)
          .join('\n')}\n</ul>\n</section>`;
  const notes =
    draft.notes.length === 0
      ? ''
      : `<section class="box notes">\n<h2>${escapeHtml(notesHeading)}</h2>\n${htmlList(draft.notes)}\n</section>`;
  const sections = draft.sections.map((section) => {
    const links = safeLinks(section.links);
    return [
      '<section>',
      `<h2>${htmlText(section.heading)}</h2>`,
      ...section.paragraphs.map((p) => `<p>${htmlText(p)}</p>`),
      htmlList(section.bullets ?? []),
      links.length === 0
        ? ''
        : `<p>${links.map((link) => `<a href="${escapeHtml(link.href)}">${htmlText(link.text)}</a>`).join(' · ')}</p>`,
      '</section>',
    ]
      .filter((line) => line !== '')
      .join('\n');
  });
  return `${[
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // No request may leave the page: no scripts, images, fonts or styles from anywhere.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${htmlText(draft.title)}</title>`,
    `<style>\n${css}\n</style>`,
    '</head>',
    '<body>',
    `<p class="banner" role="note">${escapeHtml(banner)}</p>`,
    missing,
    notes,
    '<main>',
    `<h1>${htmlText(draft.title)}</h1>`,
    ...sections,
    '</main>',
    '</body>',
    '</html>',
  ]
    .filter((line) => line !== '')
    .join('\n')}\n`;
}

/**
 * Text as literal Markdown: the characters GitHub-flavoured Markdown and inline HTML act on are
 * escaped, and so is whatever would start a block (heading, list, quote) at the start of a line.
 */
export function escapeMarkdown(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) =>
      line
        .trim()
        .replace(/[\\`*_[\]<>|#&~!]/g, (c) => `\\${c}`)
        .replace(/^([-+=])/, '\\$1')
        .replace(/^(\d+)([.)])/, '$1\\$2'),
    )
    .join('  \n');
}

function markdownLink(link: NoticeLink): string {
  return `[${escapeMarkdown(link.text)}](<${link.href}>)`;
}

function renderMarkdown(draft: NoticeDraft): string {
  const lines: string[] = [`> **${banner}**`, ''];
  if (draft.missing.length > 0) {
    lines.push('> **Still missing**', '>');
    for (const item of draft.missing) {
      lines.push(`> - **${escapeMarkdown(item.field)}**: ${escapeMarkdown(item.why)}`);
    }
    lines.push('');
  }
  if (draft.notes.length > 0) {
    lines.push(`> **${notesHeading}**`, '>');
    for (const note of draft.notes) lines.push(`> - ${escapeMarkdown(note)}`);
    lines.push('');
  }
  lines.push(`# ${escapeMarkdown(draft.title)}`, '');
  for (const section of draft.sections) {
    lines.push(`## ${escapeMarkdown(section.heading)}`, '');
    for (const paragraph of section.paragraphs) lines.push(escapeMarkdown(paragraph), '');
    const bullets = section.bullets ?? [];
    if (bullets.length > 0) {
      for (const bullet of bullets) lines.push(`- ${escapeMarkdown(bullet)}`);
      lines.push('');
    }
    const links = safeLinks(section.links);
    if (links.length > 0) lines.push(links.map(markdownLink).join(' · '), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** One self-contained document: HTML with inline CSS and nothing fetched, or Markdown. */
export function renderNotice(draft: NoticeDraft, format: NoticeFormat): string {
  switch (format) {
    case 'html':
      return renderHtml(draft);
    case 'markdown':
      return renderMarkdown(draft);
  }
}
