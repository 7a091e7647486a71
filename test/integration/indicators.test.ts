import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAtLeast } from '../../src/core/severity.js';
import type { TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { startFakeHoneypot, type FakeHoneypot } from '../servers/fake-honeypot.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';

const timeoutMs = 5000;
// A documentation-style Bitcoin address (the "Boat" vanity address of Bitcoin examples).
const note = 'All your data is backed up. Send 0.05 BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT to recover';

async function scanOne(target: string, sample = false): Promise<TargetReport> {
  const report = await runScan({
    targets: [target],
    timeoutMs,
    ...(sample ? { sample: { limit: 100, timeoutMs: 10_000 } } : {}),
  });
  expect(report.targets).toHaveLength(1);
  return report.targets[0]!;
}

describe('indicators against a private redis-server wiped by a ransom bot, and a fresh one', () => {
  let wiped: PrivateRedis;
  let fresh: PrivateRedis;

  beforeAll(async () => {
    [wiped, fresh] = await Promise.all([startRedis(), startRedis()]);
    await wiped.cli('SET', 'READ_ME_TO_RECOVER_YOUR_DATA', note);
  });

  afterAll(async () => {
    await Promise.all([wiped.stop(), fresh.stop()]);
  });

  it('flags the ransom note by its key name and by its text, and raises severity to high', async () => {
    const entry = await scanOne(`redis://127.0.0.1:${wiped.port}`, true);
    expect(entry.status).toBe('open');
    expect(entry.size?.records).toBe(1);
    expect(entry.indicators).toEqual(['ransom-note']);
    expect(entry.detail).toContain(
      'ransom note: wiped store with a collection named db0/READ_ME_TO_RECOVER_YOUR_DATA',
    );
    expect(entry.detail).toContain('ransom note: a sampled record asks for bitcoin');
    expect(isAtLeast(entry.severity, 'high')).toBe(true);
    // The note itself (a value) is never in the report.
    expect(JSON.stringify(entry)).not.toContain('1BoatSLRHtKNngkdXEeobR76b53LETtpyT');
  });

  it('marks a fresh instance empty, with low severity', async () => {
    const entry = await scanOne(`redis://127.0.0.1:${fresh.port}`, true);
    expect(entry.status).toBe('open');
    expect(entry.size?.records).toBe(0);
    expect(entry.indicators).toEqual(['empty']);
    expect(entry.severity).toBe('low');
  });
});

describe('indicators against a multi-protocol fake honeypot (our own stand-in: HTTP and a MySQL greeting on one port)', () => {
  let honeypot: FakeHoneypot;

  beforeAll(async () => {
    honeypot = await startFakeHoneypot();
  });

  afterAll(async () => {
    await honeypot.stop();
  });

  it('reports honeypot-suspected for a bare host:port that answers as two protocols', async () => {
    const entry = await scanOne(`127.0.0.1:${honeypot.port}`);
    expect(entry.indicators).toContain('honeypot-suspected');
    expect(entry.detail).toMatch(/honeypot suspected: answers as (mysql and http|http and mysql)/);
  });

  it('says nothing of a honeypot when one protocol is named', async () => {
    const entry = await scanOne(`mysql://127.0.0.1:${honeypot.port}`);
    expect(entry.server?.product).toBe('mysql');
    expect(entry.indicators).toEqual([]);
  });
});
