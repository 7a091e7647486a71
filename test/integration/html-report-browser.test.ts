import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../corpus/generate-dataset.js';
import { renderHtmlReport } from '../../src/report/html-report.js';
import { chromiumPath, chromiumReady, launchChromium, type Browser } from '../chromium.js';
import { hostile, storyReportInput } from '../html-report-fixture.js';
import { runCli } from '../run-cli.js';

if (!chromiumReady) {
  process.stderr.write(
    `html-report-browser: skipped, ${chromiumPath} is absent (scripts/install-test-deps.sh installs it)\n`,
  );
}

interface Visit {
  page: Page;
  requests: string[];
  consoleErrors: string[];
  dialogs: string[];
}

describe.skipIf(!chromiumReady)('HTML report in Debian Chromium (offline, nothing fetched)', () => {
  let dir: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'leakwatch-html-'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function visit(file: string): Promise<Visit> {
    const page = await browser.context.newPage();
    const visit: Visit = { page, requests: [], consoleErrors: [], dialogs: [] };
    page.on('request', (r) => visit.requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') visit.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => visit.consoleErrors.push(e.message));
    page.on('dialog', (d) => {
      visit.dialogs.push(d.message());
      void d.dismiss();
    });
    const url = pathToFileURL(file).href;
    // Anything but the page itself would be a leak of the reader's address: refuse it, and count it.
    await page.route('**', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    await page.goto(url, { timeout: 20_000, waitUntil: 'load' });
    return visit;
  }

  const metric = (page: Page, name: string) =>
    page.locator(`[data-metric="${name}"]`).first().textContent({ timeout: 5000 });
  const count = (text: string | null) => Number((text ?? '').replace(/,/g, ''));

  it('classify --format html shows the ground truth of a generated dataset', async () => {
    const data = join(dir, 'data');
    const summary = generateDataset({ users: 300, out: data, files: ['accounts.ndjson'] });
    const truth = summary.labels.files['accounts.ndjson']?.subjects;
    expect(truth).toBeDefined();
    const out = join(dir, 'classify.html');
    const run = await runCli(['classify', join(data, 'accounts.ndjson'), '-f', 'html', '-o', out, '-q']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1); // critical: tokens in the file
    const v = await visit(out);
    try {
      expect(v.requests).toEqual([pathToFileURL(out).href]);
      expect(v.consoleErrors).toEqual([]);
      expect(count(await metric(v.page, 'people-total'))).toBe(truth!.total);
      expect(await metric(v.page, 'people-total')).toBe(truth!.total.toLocaleString('en-US'));
      const shown: [string | null, string | null][] = [];
      for (const row of await v.page.locator('tr[data-category]').all()) {
        shown.push([
          await row.getAttribute('data-category'),
          await row.locator('[data-metric="category-people"]').textContent(),
        ]);
      }
      expect(Object.fromEntries(shown.map(([c, n]) => [c, count(n)]))).toEqual(truth!.byCategory);
      expect(await metric(v.page, 'severity')).toBe('critical');
      // The inline style sheet applied (its CSP hash matches): cards are laid out, not bare text.
      const radius = await v.page.evaluate<string>(
        "getComputedStyle(document.querySelector('.card')).borderRadius",
      );
      expect(radius).toBe('10px');
      // A table with fields and counts for the one file.
      expect(await v.page.locator('table.fields tbody tr').count()).toBeGreaterThan(10);
    } finally {
      await v.page.close();
    }
  });

  it('a story report: timeline bars, deadlines, and hostile names rendered as text', async () => {
    const file = join(dir, 'story.html');
    writeFileSync(file, renderHtmlReport(storyReportInput({ hostile: true })));
    expect(readFileSync(file, 'utf8')).not.toContain('<script');
    const v = await visit(file);
    try {
      expect(v.requests).toEqual([pathToFileURL(file).href]);
      expect(v.consoleErrors).toEqual([]);
      const windows = await v.page.locator('svg.timeline rect.window').all();
      const bars: (string | null)[] = [];
      const widths: number[] = [];
      for (const rect of windows) {
        bars.push(await rect.getAttribute('data-store'));
        widths.push((await rect.boundingBox())?.width ?? 0);
      }
      expect(bars).toEqual(['analytics-es', 'analytics-es', 'billing-redis', hostile.store]);
      expect(await v.page.locator('svg.timeline rect.lead-in').count()).toBe(3);
      // The 22-day window is drawn far wider than the 6-hour slip before it.
      expect(widths[1]! / widths[0]!).toBeGreaterThan(50);
      expect(await metric(v.page, 'people-total')).toBe('3,599');
      expect(await v.page.locator('tr[data-deadline="gdpr-33"]').textContent()).toContain('due in 2d 1h');
      const text = (await v.page.textContent('body')) ?? '';
      for (const s of Object.values(hostile)) expect(text).toContain(s);
      expect(await v.page.locator('script, img, iframe').count()).toBe(0);
      expect(await v.page.locator('body svg[onload]').count()).toBe(0);
      expect(v.dialogs).toEqual([]);
    } finally {
      await v.page.close();
    }
  });
});
