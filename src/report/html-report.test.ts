import { describe, expect, it } from 'vitest';
import { hostile, storyReportInput } from '../../test/html-report-fixture.js';
import { escapeHtml, html } from './html-escape.js';
import { renderHtmlReport } from './html-report.js';
import { writers } from './writers.js';

// Whitespace between tags is the formatter's, not the page's meaning.
const squeeze = (text: string): string => text.replace(/\s+/g, ' ').replace(/> </g, '><');
const page = squeeze(renderHtmlReport(storyReportInput({ hostile: true })));

describe('renderHtmlReport', () => {
  it('escapes every hostile string from a target', () => {
    for (const text of Object.values(hostile)) expect(page).toContain(escapeHtml(text));
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<img/i);
    expect(page).not.toMatch(/<iframe/i);
    expect(page).not.toMatch(/<svg onload/i);
    // Only our own style element closes.
    expect(page.match(/<\/style>/g)).toHaveLength(1);
    expect(escapeHtml('a\u202eb\u0007"\'')).toBe('ab&quot;&#39;');
    expect(html`<p title="${'"><x'}">${['<a>', 1]}</p>`.value).toBe(
      '<p title="&quot;&gt;&lt;x">&lt;a&gt;1</p>',
    );
  });

  it('references no resource at all', () => {
    // Every attribute value is double-quoted; what is left outside quotes is the markup itself.
    const markup = page.replace(/"[^"]*"/g, '""');
    expect(markup).not.toMatch(/<[a-z][^>]*\s(?:src|href|srcset|action|poster|data|xlink:href)\s*=/i);
    expect(page).not.toMatch(/<(?:link|script|img|iframe|object|embed|base)\b/i);
    const css = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
    expect(css).not.toMatch(/@import|url\(/i);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)?.[1];
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toMatch(/unsafe-inline|https?:/);
  });

  it("shows the report's numbers with thousands separators", () => {
    const story = squeeze(renderHtmlReport(storyReportInput()));
    // analytics-es (the incident's 2,412) + billing-redis (1,180).
    expect(story).toContain('data-metric="people-total">3,592<');
    expect(story).toContain('data-metric="stores">2<');
    expect(story).toContain('data-metric="open">1<');
    expect(story).toContain('data-metric="severity">critical<');
    expect(story).toMatch(/<tr data-category="email">.*?data-metric="category-people">3,592</);
    expect(story).toMatch(/<tr data-category="oauth_token">.*?data-metric="category-people">24</);
    expect(story).toMatch(
      /<tr data-store="elasticsearch:\/\/127\.0\.0\.1:9200" data-field="users\/api\.ios_token">.*?data-metric="field-people">1,447</,
    );
    expect(story).toContain('2,463,912');
    expect(story).toMatch(/<tr data-deadline="gdpr-33">.*?due in 2d 1h/);
  });

  it('draws a bar per exposure window, with a lead-in where the start is a lower bound', () => {
    const svg = /<svg class="timeline"[\s\S]*?<\/svg>/.exec(page)?.[0] ?? '';
    const bars = [...svg.matchAll(/<rect class="window[^"]*" data-store="([^"]*)"/g)].map((m) => m[1]);
    // analytics-es: 2 windows (the incident's is one of them); billing-redis: 1; hostile: 1.
    expect(bars).toEqual(['analytics-es', 'analytics-es', 'billing-redis', escapeHtml(hostile.store)]);
    expect(svg.match(/<rect class="lead-in"/g)).toHaveLength(3);
    expect(svg.match(/class="window ongoing"/g)).toHaveLength(2);
    expect(svg).toContain('data-kind="revocation"');
  });

  it('is the html format of scan and classify, dated by the report', () => {
    const input = storyReportInput();
    const report = input.report!;
    const text = squeeze(writers.html.write(report, { color: false }));
    expect(text).toMatch(/^<!doctype html>/);
    expect(text).toContain('Generated 2019-12-04 10:01:30 UTC');
    expect(text).toContain('data-metric="people-total">2,412<');
    expect(text).not.toContain('class="timeline"');
  });

  it('renders an empty report', () => {
    const empty = squeeze(renderHtmlReport({ generatedAt: '2026-01-01T00:00:00.000Z' }));
    expect(empty).toContain('data-metric="stores">0<');
    expect(empty).toContain('data-metric="severity">info<');
  });
});
