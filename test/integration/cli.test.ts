import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportFormats } from '../../src/report/report-writer.js';
import { expectValidReport } from '../report-schema.js';
import { runCli } from '../run-cli.js';
import { expectValidSarif } from '../sarif-schema.js';
import { freePort } from '../servers/free-port.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';

const secret = 'Zq8-unguessable-pass';
let open: PrivateRedis;
let locked: PrivateRedis;
let dir: string;

beforeAll(async () => {
  [open, locked] = await Promise.all([startRedis(), startRedis(['--requirepass', secret])]);
  await open.cli('MSET', 'user:1', 'a', 'user:2', 'b', 'user:3', 'c');
  dir = mkdtempSync(join(tmpdir(), 'lw-cli-'));
});

afterAll(async () => {
  await Promise.all([open.stop(), locked.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('leakwatch scan (CLI)', () => {
  it('prints the JSON contract on stdout only, a summary on stderr, and exits 0 below --fail-on', async () => {
    const run = await runCli([
      'scan',
      `redis://127.0.0.1:${open.port}`,
      `redis://127.0.0.1:${locked.port}`,
      '-f',
      'json',
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { targets: { status: string; size?: { records: number } }[] };
    expectValidReport(report);
    expect(report.targets.map((t) => t.status)).toEqual(['open', 'auth-required']);
    expect(report.targets[0]?.size?.records).toBe(3);
    expect(run.stderr).toContain('2 targets: 1 open, 1 auth-required');
  });

  it('exits 1 when a store is at or above --fail-on', async () => {
    // Without classification, an open store with data it could not classify is medium (TAXONOMY.md).
    const run = await runCli([
      'scan',
      `redis://127.0.0.1:${open.port}`,
      '--sample',
      '0',
      '--fail-on',
      'medium',
      '-q',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('open');
    // Classified, its values (`a`, `b`, `c`) hold no personal category: low, below --fail-on medium.
    const classified = await runCli(['scan', `redis://127.0.0.1:${open.port}`, '--fail-on', 'medium', '-q']);
    expect(classified.code).toBe(0);
    expect(classified.stdout).toContain('low');
  });

  it('reads --targets from a file and from stdin, skipping comments and blank lines', async () => {
    const list = join(dir, 'targets.txt');
    writeFileSync(list, `# fleet\n\nredis://127.0.0.1:${open.port}   # cache\n127.0.0.1:${locked.port}\n`);
    const fromFile = await runCli(['scan', '--targets', list, '-f', 'jsonl', '-q']);
    const lines = fromFile.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { protocol: string; status: string });
    expect(lines.map((l) => [l.protocol, l.status])).toEqual([
      ['redis', 'open'],
      ['redis', 'auth-required'],
    ]);
    const fromStdin = await runCli(['scan', '--targets', '-', '-f', 'json', '-q'], {
      stdin: `redis://127.0.0.1:${open.port}\n`,
    });
    expect((JSON.parse(fromStdin.stdout) as { targets: unknown[] }).targets).toHaveLength(1);
  });

  it('writes --output to a file and nothing to stdout', async () => {
    const out = join(dir, 'report.sarif');
    const run = await runCli(['scan', `redis://127.0.0.1:${open.port}`, '-f', 'sarif', '-o', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`report written to ${out}`);
    const log = JSON.parse(readFileSync(out, 'utf8')) as { runs: { results: unknown[] }[] };
    expectValidSarif(log);
    expect(log.runs[0]?.results).toHaveLength(1);
  });

  it('never prints credentials named in a target, in any format', async () => {
    for (const format of reportFormats) {
      const run = await runCli(['scan', `redis://:${secret}@127.0.0.1:${locked.port}`, '-f', format]);
      expect(run.code, format).toBe(0);
      expect(run.stdout, format).toContain(`redis://127.0.0.1:${locked.port}`);
      expect(run.stdout + run.stderr, format).not.toContain(secret);
      if (format === 'json') {
        expect((JSON.parse(run.stdout) as { targets: { status: string }[] }).targets[0]?.status).toBe('open');
      }
    }
  }, 180_000);

  it('honours --exclude for addresses of a network', async () => {
    const run = await runCli(['scan', '127.0.0.1/32', '--exclude', '127.0.0.1', '-f', 'json']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { targets: unknown[] }).targets).toEqual([]);
    expect(run.stderr).toContain('1 address(es) left out by --exclude');
  });

  it('reports a refused port as unreachable', async () => {
    const port = await freePort();
    const run = await runCli(['scan', `redis://127.0.0.1:${port}`, '-f', 'json', '-q']);
    const report = JSON.parse(run.stdout) as { targets: { status: string; detail: string }[] };
    expect(report.targets[0]).toMatchObject({ status: 'unreachable', detail: 'connection refused' });
  });

  it.each([
    [['scan'], 'no targets'],
    [['scan', 'foo://127.0.0.1'], 'unknown protocol "foo"'],
    [['scan', '127.0.0.1', '--format', 'xml'], 'use one of table, json'],
    [['scan', '127.0.0.1', '--timeout', 'soon'], 'use e.g. 5s'],
    [['scan', '127.0.0.1', '--fail-on', 'bad'], 'use one of critical'],
    [['scan', '--targets', '/nonexistent/list.txt'], 'cannot read --targets'],
    [['scan', '10.0.0.0/8'], 'more than --max-hosts'],
    [['scan', '127.0.0.1', '--exclude', '1.2.3.4/40'], 'invalid CIDR'],
    [['frobnicate'], 'unknown command'],
  ])('exits 2 with a message that says what to fix: %j', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
  });

  it('teaches with --help and prints its version', async () => {
    const help = await runCli(['scan', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('--fail-on');
    const version = await runCli(['--version']);
    expect(version.stdout.trim()).toBe(
      (
        JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
          version: string;
        }
      ).version,
    );
  });
});
