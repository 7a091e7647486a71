/**
 * Renders the story's HTML report (test/html-report-fixture.ts) and photographs it in Debian's
 * Chromium for the README: `npx tsx scripts/screenshot-report.ts [OUT.png]` (default
 * docs/report-screenshot.png). The browser fetches nothing: every request but the file is aborted.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderHtmlReport } from '../src/report/html-report.js';
import { launchChromium } from '../test/chromium.js';
import { storyReportInput } from '../test/html-report-fixture.js';

const out = resolve(process.argv[2] ?? 'docs/report-screenshot.png');
const dir = mkdtempSync(join(tmpdir(), 'leakwatch-shot-'));
try {
  const file = join(dir, 'report.html');
  const url = pathToFileURL(file).href;
  writeFileSync(file, renderHtmlReport(storyReportInput()));
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.route('**', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    await page.goto(url, { timeout: 20_000 });
    // The summary, people per category, the timeline and the first deadlines: what a reader sees first.
    const box = await page.locator('section.incident table.deadlines').boundingBox();
    const bottom = Math.ceil((box?.y ?? 0) + (box?.height ?? 1200) + 16);
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({
      path: out,
      type: 'png',
      fullPage: true,
      clip: { x: 0, y: 0, width: 1100, height: bottom },
    });
  } finally {
    await browser.close();
  }
  process.stderr.write(`screenshot written to ${out} (${Math.round(statSync(out).size / 1024)} KB)\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
