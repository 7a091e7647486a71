import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memcachedConnector } from '../../src/connectors/memcached.js';
import type { TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';
import { startMemcached, type PrivateMemcached } from '../servers/memcached-server.js';

const timeoutMs = 5000;

async function scanOne(target: string): Promise<TargetReport> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return report.targets[0]!;
}

/** Text-protocol `set … noreply` lines (protocol.txt, "Storage commands"), then `version` as a fence. */
async function seed(server: PrivateMemcached, entries: [string, string][]): Promise<void> {
  const text = entries
    .map(([key, value]) => `set ${key} 0 0 ${Buffer.byteLength(value)} noreply\r\n${value}\r\n`)
    .join('');
  await server.send(`${text}version\r\n`, /VERSION [^\r]*\r\n/);
}

const users = Array.from({ length: 30 }, (_, i): [string, string] => [
  `user:${i}`,
  JSON.stringify({ email: `person${i}@example.test`, name: `Person ${i}` }),
]);
const sessions = Array.from({ length: 12 }, (_, i): [string, string] => [
  `session:${(0x9f8e7d6c5b4a0000 + i * 7919).toString(16)}`,
  `token-${i}`,
]);
// Over the connector's 1 MB value cap: counted, never read (the server allows it with `-I 2m`).
const big: [string, string] = ['blob:big', 'x'.repeat(1536 * 1024)];

describe('memcached connector against Debian memcached 1.6', () => {
  let server: PrivateMemcached;
  let empty: PrivateMemcached;
  let locked: PrivateMemcached;
  const dir = mkdtempSync(join(tmpdir(), 'lw-memcached-'));
  const authFile = join(dir, 'auth');

  beforeAll(async () => {
    // `-Y`: text-protocol authentication from a `user:password` file (memcached 1.5.15+).
    writeFileSync(authFile, 'cacheuser:cache-secret-991\n');
    [server, empty, locked] = await Promise.all([
      startMemcached(['-I', '2m']),
      startMemcached(),
      startMemcached(['-Y', authFile]),
    ]);
    await seed(server, [...users, ...sessions, big]);
  });

  afterAll(async () => {
    await Promise.all([server.stop(), empty.stop(), locked.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is open, with version, curr_items, bytes and key families counted exactly', async () => {
    const target = `memcached://127.0.0.1:${server.port}`;
    const entry = await scanOne(target);
    expect(entry).toMatchObject({ target, protocol: 'memcached', status: 'open' });
    expect(entry.server?.product).toBe('memcached');
    expect(entry.server?.version).toMatch(/^1\.6\.\d+$/);
    const stats = await server.send('stats\r\n', /END\r\n/);
    const bytes = Number(/STAT bytes (\d+)/.exec(stats)?.[1]);
    expect(entry.size).toEqual({ collections: 3, records: 43, bytes });
    expect(entry.collections).toHaveLength(3);
    expect(entry.collections).toEqual(
      expect.arrayContaining([
        { name: 'user:*', records: 30 },
        { name: 'session:*', records: 12 },
        { name: 'blob:big', records: 1 },
      ]),
    );
    expect(entry.indicators).not.toContain('empty');
  });

  it('is found by auto-detect on a bare host:port', async () => {
    const entry = await scanOne(`127.0.0.1:${server.port}`);
    expect(entry).toMatchObject({ protocol: 'memcached', status: 'open', size: { records: 43 } });
  });

  it('samples up to the limit per key family and skips values over 1 MB', async () => {
    const sink = new CollectingSink(5);
    const result = await memcachedConnector.probe(
      { protocol: 'memcached', host: '127.0.0.1', port: server.port },
      probeContext(sink),
    );
    expect(result.status).toBe('open');
    expect([...sink.records.keys()].sort()).toEqual(['session:*', 'user:*']);
    expect(sink.records.get('user:*')).toHaveLength(5);
    expect(sink.records.get('session:*')).toHaveLength(5);
    const seeded = new Set(users.map(([, value]) => value));
    for (const value of sink.values('user:*', 'user:*')) expect(seeded.has(value as string)).toBe(true);
    expect(result.detail).toContain('sampled 10 keys');
  });

  it('reads every key with an unlimited sample', async () => {
    const sink = new CollectingSink(Infinity);
    await memcachedConnector.probe(
      { protocol: 'memcached', host: '127.0.0.1', port: server.port },
      probeContext(sink),
    );
    expect(sink.records.get('user:*')).toHaveLength(30);
    expect(sink.records.get('session:*')).toHaveLength(12);
  });

  it('reports a fresh instance as open and empty', async () => {
    const entry = await scanOne(`memcached://127.0.0.1:${empty.port}`);
    expect(entry).toMatchObject({ status: 'open', size: { records: 0, collections: 0 } });
    expect(entry.indicators).toContain('empty');
  });

  it('is auth-required when the server takes text-protocol authentication (-Y)', async () => {
    const entry = await scanOne(`memcached://127.0.0.1:${locked.port}`);
    expect(entry).toMatchObject({ protocol: 'memcached', status: 'auth-required' });
    expect(entry.size).toBeUndefined();
  });
});
