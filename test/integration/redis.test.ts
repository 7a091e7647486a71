import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport, TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';
import { commandsSeenDuring } from '../servers/redis-monitor.js';

const timeoutMs = 5000;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

async function scanOne(target: string): Promise<{ report: ScanReport; entry: TargetReport }> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return { report, entry: report.targets[0]! };
}

/** `MSET prefix:0 v prefix:1 v …` arguments for `count` string keys. */
function msetArgs(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => [`${prefix}:${i}`, `value-${i}`]).flat();
}

// Read-only commands a Redis probe or sampler may send (DESIGN.md invariant 1: SCAN, never KEYS;
// no CLIENT SETNAME/SETINFO).
const allowedCommands = new Set([
  'auth',
  'ping',
  'info',
  'select',
  'dbsize',
  'scan',
  'type',
  'ttl',
  'pttl',
  'strlen',
  'get',
  'mget',
  'getrange',
  'hlen',
  'hscan',
  'hgetall',
  'hrandfield',
  'llen',
  'lrange',
  'scard',
  'sscan',
  'srandmember',
  'zcard',
  'zscan',
  'zrange',
  'xlen',
  'xrange',
  'memory',
  'quit',
]);

describe('redis connector against Debian redis-server 7.0', () => {
  describe('open instance with keys in db0 and db3', () => {
    let redis: PrivateRedis;

    beforeAll(async () => {
      redis = await startRedis();
      await redis.cli('MSET', ...msetArgs('user', 240));
      for (let i = 0; i < 10; i++) await redis.cli('HSET', `profile:${i}`, 'email', `p${i}@example.test`);
      await redis.cli('-n', '3', 'MSET', ...msetArgs('session', 7));
    });

    afterAll(async () => {
      await redis.stop();
    });

    it('is open, with version, exact key counts per database and memory size', async () => {
      const target = `redis://127.0.0.1:${redis.port}`;
      const { entry } = await scanOne(target);
      expect(entry).toMatchObject({ target, protocol: 'redis', status: 'open' });
      expect(entry.server?.product).toBe('redis');
      expect(entry.server?.version).toMatch(/^7\.0\.\d+$/);
      expect(entry.size?.records).toBe(257);
      expect(entry.size?.collections).toBe(2);
      expect(entry.size?.bytes).toBeGreaterThan(0);
      expect(entry.collections).toEqual([
        { name: 'db0', records: 250 },
        { name: 'db3', records: 7 },
      ]);
      expect(entry.indicators).not.toContain('empty');
      expect(entry.detail).toContain('257 keys');
    });

    it('is found by auto-detect on a bare host:port', async () => {
      const { entry } = await scanOne(`127.0.0.1:${redis.port}`);
      expect(entry).toMatchObject({ protocol: 'redis', status: 'open', size: { records: 257 } });
    });

    it('is open when the target names a password the server does not need', async () => {
      const unneeded = 'unneeded-pass-4242';
      const { report, entry } = await scanOne(`redis://:${unneeded}@127.0.0.1:${redis.port}`);
      expect(entry).toMatchObject({ status: 'open', size: { records: 257 } });
      expect(JSON.stringify(report)).not.toContain(unneeded);
    });

    it('sends only read-only commands: never KEYS, CLIENT SETNAME or CLIENT SETINFO', async () => {
      const commands = await commandsSeenDuring(redis, () => scanOne(`redis://127.0.0.1:${redis.port}`));
      expect(commands).toContain('ping');
      expect(commands).toContain('info');
      expect(commands).not.toContain('keys');
      expect(commands).not.toContain('client');
      expect(commands.filter((c) => !allowedCommands.has(c))).toEqual([]);
    });
  });

  describe('instance with --requirepass', () => {
    const password = 'secret';
    let redis: PrivateRedis;

    beforeAll(async () => {
      redis = await startRedis(['--requirepass', password]);
      await redis.cli('MSET', ...msetArgs('k', 4));
    });

    afterAll(async () => {
      await redis.stop();
    });

    it('is auth-required without a password, and says why', async () => {
      const { report, entry } = await scanOne(`redis://127.0.0.1:${redis.port}`);
      expect(entry.status).toBe('auth-required');
      expect(entry.detail).toMatch(/password/i);
      expect(entry.size).toBeUndefined();
      expect(JSON.stringify(report)).not.toContain(password);
    });

    it('is open with the password named in the target, which never reaches the report', async () => {
      const { report, entry } = await scanOne(`redis://:${password}@127.0.0.1:${redis.port}`);
      expect(entry).toMatchObject({
        target: `redis://127.0.0.1:${redis.port}`,
        status: 'open',
        size: { records: 4, collections: 1 },
      });
      expect(JSON.stringify(report)).not.toContain(password);
    });

    it('is auth-required with a wrong password, which never reaches the report', async () => {
      const wrong = 'wrong-pass-31337';
      const { report, entry } = await scanOne(`redis://:${wrong}@127.0.0.1:${redis.port}`);
      expect(entry.status).toBe('auth-required');
      expect(entry.target).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(JSON.stringify(report)).not.toContain(wrong);
    });

    it('sends AUTH and read-only commands only', async () => {
      const commands = await commandsSeenDuring(
        redis,
        () => scanOne(`redis://:${password}@127.0.0.1:${redis.port}`),
        password,
      );
      expect(commands).toContain('info');
      expect(commands.filter((c) => !allowedCommands.has(c))).toEqual([]);
    });
  });

  /*
   * Redis 7.0 protected mode (no password, protected-mode yes) only lets in clients whose address
   * is exactly 127.0.0.1 or ::1, and on the host's loopback a connection to any 127.x address
   * leaves from 127.0.0.1. So the probe runs in a private network namespace (unshare: nothing in it
   * but its own loopback, no route out) where a route makes connections to 127.0.0.2 leave from
   * 127.0.0.2. A PID namespace with --kill-child takes redis-server down with the test's child.
   */
  const netnsProbe = ['--net', '--pid', '--fork', '--kill-child'];
  const netnsReady =
    process.getuid?.() === 0 &&
    spawnSync('unshare', [...netnsProbe, 'ip', 'link', 'set', 'lo', 'up'], { timeout: 5000 }).status === 0;

  it.skipIf(!netnsReady)(
    'protected mode is auth-required for a non-loopback client (needs root and unshare for a private netns)',
    async () => {
      const script = `
        const { startRedis } = await import(${JSON.stringify(pathToFileURL(`${repoRoot}test/servers/redis-server.ts`).href)});
        const { runScan } = await import(${JSON.stringify(pathToFileURL(`${repoRoot}src/scan/run-scan.ts`).href)});
        const redis = await startRedis(['--bind', '127.0.0.1', '127.0.0.2', '--protected-mode', 'yes']);
        try {
          await redis.cli('MSET', 'a', '1', 'b', '2');
          const targets = ['redis://127.0.0.1:' + redis.port, 'redis://127.0.0.2:' + redis.port];
          process.stdout.write(JSON.stringify(await runScan({ targets, timeoutMs: ${timeoutMs} })));
        } finally {
          await redis.stop();
        }`;
      const setup = [
        'set -e',
        'ip link set lo up',
        'ip route add local 127.0.0.2 dev lo src 127.0.0.2 table local',
        'exec node --import tsx --input-type=module -e "$LW_SCRIPT"',
      ].join('\n');
      const child = spawn('unshare', [...netnsProbe, 'sh', '-c', setup], {
        cwd: repoRoot,
        env: { ...process.env, LW_SCRIPT: script },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 30_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code, stderr).toBe(0);
      const report = JSON.parse(stdout) as ScanReport;
      const [fromLoopback, fromOther] = report.targets;
      // The same server is open to 127.0.0.1: protected mode, not something else, refuses 127.0.0.2.
      expect(fromLoopback).toMatchObject({ status: 'open', size: { records: 2 } });
      expect(fromOther?.status).toBe('auth-required');
      expect(fromOther?.detail).toContain('protected mode');
      expect(fromOther?.size).toBeUndefined();
    },
  );
});
