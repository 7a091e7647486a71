/**
 * `npm run demo` end to end, as a user runs it, with a small customer base: the people per category
 * it prints for the incident must equal the dataset generator's ground truth for the accounts it
 * loaded, detection must be quick, and nothing it started may outlive it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../corpus/generate-dataset.js';
import { demoDatasetFiles, type DemoSummary } from '../../demo/run-demo.js';
import { isListening } from '../servers/free-port.js';

// DEMO_TEST_USERS=2400000 runs the same checks at full size by hand (about 12 minutes).
const users = Number(process.env['DEMO_TEST_USERS'] ?? 2000);
const runLimitMs = users > 2000 ? 40 * 60_000 : 85_000;
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function runDemo(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve, reject) => {
    // The same heap limit as `npm run demo`.
    const node = ['--max-old-space-size=8192', '--import', 'tsx'];
    const child = spawn(process.execPath, [...node, 'demo/run-demo.ts', ...args], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), runLimitMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, pid: child.pid ?? 0 });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run demo (real PGlite over the wire, aedes, HTTP, SMTP and webhooks on loopback)', () => {
  it(
    'prints the ground truth of the generated accounts, detects within 15 s, and leaves nothing running',
    async () => {
      const truthDir = mkdtempSync(join(tmpdir(), 'lw-demo-truth-'));
      const out = mkdtempSync(join(tmpdir(), 'lw-demo-out-'));
      dirs.push(truthDir, out);
      const truth = generateDataset({ users, out: truthDir, files: demoDatasetFiles }).labels.files[
        'accounts.ndjson'
      ]?.subjects;
      expect(truth).toBeDefined();

      const run = await runDemo(['--users', String(users), '--json', '--out', out, '--emails', '25']);
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as DemoSummary;

      expect(summary.incident.subjects.total).toBe(truth?.total);
      expect(summary.incident.subjects.byCategory).toEqual(truth?.byCategory);
      expect(summary.detection.latencyMs).toBeGreaterThan(0);
      expect(summary.detection.latencyMs).toBeLessThan(15_000);
      expect(summary.incident.deadlines.find((d) => d.id === 'gdpr-33')?.dueAt).toBeDefined();
      expect(summary.notifications?.sent).toBe(25);
      expect(summary.revocations?.every((r) => r.subjects === summary.incident.subjects.total)).toBe(true);

      // The story names the same numbers, and never a raw value of the data.
      expect(run.stderr).toMatch(/DETECTED after \d+\.\d s/);
      expect(run.stderr).toContain(`${truth?.total.toLocaleString('en-US')} people exposed`);
      expect(run.stderr).not.toMatch(/[\w.]+@(gmail|yahoo|hotmail|outlook|comcast|icloud)\.\w+/i);
      expect(run.stderr).not.toMatch(/Atz[ar]\|/);

      // The outputs exist; the report carries the incident's head count.
      expect(readFileSync(summary.report, 'utf8')).toContain(truth?.total.toLocaleString('en-US'));
      expect(summary.notices).toHaveLength(8);
      expect(summary.outDir).toBe(out);

      // Nothing it started is left: the process is gone and no port it served still answers.
      expect(alive(run.pid)).toBe(false);
      for (const port of Object.values(summary.ports)) expect(await isListening(port)).toBe(false);
    },
    runLimitMs + 5000,
  );

  it('refuses a bad option with a clear message and a non-zero exit', async () => {
    const run = await runDemo(['--users', 'many']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--users must be a whole number/);
  }, 30_000);

  it('teaches with --help and exits 0 without starting anything', async () => {
    const run = await runDemo(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run demo/);
    expect(run.stdout).toMatch(/--emails N\|all/);
    expect(run.stdout).not.toMatch(/Generating/);
  }, 30_000);
});
