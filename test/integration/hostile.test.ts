import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectors } from '../../src/connectors/registry.js';
import type { Protocol } from '../../src/core/protocol.js';
import type { ScanReport, TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import {
  startEndlessBodyServer,
  startMalformedJsonServer,
  startRandomStreamServer,
  startSilentServer,
  startSmtpBannerServer,
  startSshBannerServer,
  type HostileServer,
} from '../servers/hostile-servers.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';

const timeoutMs = 2000;
// runScan promises every endpoint ends within its timeout plus a teardown grace; 1 s covers both.
const deadlineMs = timeoutMs + 1000;
const rssCapBytes = 300 * 1024 * 1024;
const allProtocols = Object.keys(connectors) as Protocol[];

interface HostileCase {
  start: () => Promise<HostileServer>;
  /** Speaks HTTP correctly: only the body is hostile. */
  http: boolean;
}

const cases: HostileCase[] = [
  { start: startSilentServer, http: false },
  { start: startRandomStreamServer, http: false },
  { start: startSshBannerServer, http: false },
  { start: startSmtpBannerServer, http: false },
  { start: startMalformedJsonServer, http: true },
  { start: startEndlessBodyServer, http: true },
];

const servers = new Map<HostileCase, HostileServer>();
let goodRedis: PrivateRedis | undefined;

// What a generic `http://` probe makes of a server that answers 200 is the HTTP connector's call
// (a web page that answers without credentials may well be "open"); the hostile part of these
// servers is the body, which every connector, including that one, must survive.
function explicitProtocols(hostile: HostileCase): Protocol[] {
  return hostile.http ? allProtocols.filter((p) => p !== 'http') : allProtocols;
}

/** Runs one scan while sampling RSS, since a runaway buffer shows up as memory before anything. */
async function scanMeasured(
  targets: string[],
): Promise<{ report: ScanReport; wallMs: number; peakRss: number }> {
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 10);
  const started = performance.now();
  try {
    const report = await runScan({ targets, timeoutMs });
    return {
      report,
      wallMs: performance.now() - started,
      peakRss: Math.max(peakRss, process.memoryUsage.rss()),
    };
  } finally {
    clearInterval(sampler);
  }
}

function entry(report: ScanReport, target: string): TargetReport {
  const found = report.targets.find((t) => t.target === target);
  if (found === undefined) throw new Error(`no report entry for ${target}`);
  return found;
}

function expectNotOpen(found: TargetReport, hostile: HostileCase): void {
  expect(found.durationMs ?? Infinity).toBeLessThanOrEqual(deadlineMs);
  // Auto-detect on an HTTP server may rightly end with the generic HTTP connector's verdict.
  if (hostile.http && found.protocol === 'http') return;
  expect(['error', 'other-protocol'], `${found.target} (${found.protocol}): ${found.detail}`).toContain(
    found.status,
  );
}

describe('scans survive hostile servers on 127.0.0.1', () => {
  beforeAll(async () => {
    for (const hostile of cases) servers.set(hostile, await hostile.start());
    goodRedis = await startRedis();
    await goodRedis.cli('MSET', 'a', '1', 'b', '2', 'c', '3');
  });

  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    await goodRedis?.stop();
  });

  describe.each(cases.map((hostile) => ({ name: hostile.start.name, hostile })))('$name', ({ hostile }) => {
    it('explicit protocols and auto-detect end in error or other-protocol, in time and memory', async () => {
      const server = servers.get(hostile)!;
      const bare = `127.0.0.1:${server.port}`;
      const explicit = explicitProtocols(hostile).map((p) => `${p}://${bare}`);
      const { report, wallMs, peakRss } = await scanMeasured([...explicit, bare]);

      expect(report.targets).toHaveLength(explicit.length + 1);
      for (const target of [...explicit, bare]) expectNotOpen(entry(report, target), hostile);
      expect(wallMs).toBeLessThanOrEqual(deadlineMs);
      expect(peakRss).toBeLessThan(rssCapBytes);
    });
  });

  it('the deadline still fires after a garbage collection during the wait', async () => {
    // Node 20 once dropped a timeout signal held only inside AbortSignal.any on GC
    // (nodejs/node#57736): probes then ran on to runScan's hard stop, 500 ms late.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const silent = servers.get(cases[0]!)!;
    const scan = runScan({ targets: [`redis://127.0.0.1:${silent.port}`], timeoutMs });
    await new Promise((resolve) => setTimeout(resolve, 300));
    gc();
    const [found] = (await scan).targets;
    expect(found?.status).toBe('error');
    expect(found?.durationMs).toBeLessThan(timeoutMs + 300);
  });

  it('a good redis among all hostile servers is still reported open', async () => {
    const hostileTargets = [...servers].flatMap(([hostile, s]) =>
      [`127.0.0.1:${s.port}`, `redis://127.0.0.1:${s.port}`].map((target) => ({ hostile, target })),
    );
    const good = `redis://127.0.0.1:${goodRedis!.port}`;
    const { report, wallMs, peakRss } = await scanMeasured([...hostileTargets.map((h) => h.target), good]);

    const found = entry(report, good);
    expect(found.status).toBe('open');
    expect(found.size?.records).toBe(3);
    expect(found.collections).toEqual([{ name: 'db0', records: 3 }]);
    for (const { hostile, target } of hostileTargets) expectNotOpen(entry(report, target), hostile);
    expect(wallMs).toBeLessThanOrEqual(deadlineMs);
    expect(peakRss).toBeLessThan(rssCapBytes);
  });
});
