import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeStatus } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { startMosquitto, type PrivateMosquitto } from '../servers/mosquitto-server.js';
import { startPostgres, type PrivatePostgres } from '../servers/postgres-server.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';

// The watch tests depend on these helpers: an operator's mistake (protection removed) and its undo
// must be visible to the project's own scanner, and quickly.
const timeoutMs = 3_000;

async function scanStatus(target: string): Promise<ProbeStatus> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  const status = report.targets[0]?.status;
  if (status === undefined) throw new Error(`no report for ${target}`);
  return status;
}

/**
 * Runs the toggle and returns how long it took to become visible: the helpers resolve only once a
 * fresh connection meets the new mode, so the very next scan must already report `expected`.
 */
async function timeToggle(
  target: string,
  toggle: () => Promise<void>,
  expected: ProbeStatus,
): Promise<string> {
  const started = performance.now();
  await toggle();
  const visible = performance.now();
  expect(await scanStatus(target)).toBe(expected);
  const scanned = performance.now();
  return `${Math.round(visible - started)} ms (then a ${Math.round(scanned - visible)} ms scan says ${expected})`;
}

async function expectToggles(
  name: string,
  target: string,
  mistake: () => Promise<void>,
  undo: () => Promise<void>,
): Promise<void> {
  expect(await scanStatus(target)).toBe('auth-required');
  const opened = await timeToggle(target, mistake, 'open');
  const closed = await timeToggle(target, undo, 'auth-required');
  console.log(`${name}: protection removed visible after ${opened}; restored after ${closed}`);
}

describe('an operator removes and restores protection on a private server', () => {
  let redis: PrivateRedis | undefined;
  let postgres: PrivatePostgres | undefined;
  let mosquitto: PrivateMosquitto | undefined;

  beforeAll(async () => {
    [redis, postgres, mosquitto] = await Promise.all([
      startRedis(['--requirepass', 'redis-Pa55-word!']),
      startPostgres({ auth: 'scram-sha-256', password: 'pg-Pa55-word!' }),
      startMosquitto({ anonymous: false, users: { reader: 'mqtt-Pa55-word!' } }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([redis?.stop(), postgres?.stop(), mosquitto?.stop()]);
  });

  it('redis: CONFIG SET requirepass "" opens it, a password closes it again', async () => {
    const server = redis as PrivateRedis;
    await expectToggles(
      'redis',
      `redis://127.0.0.1:${server.port}`,
      () => server.setPassword(''),
      () => server.setPassword('new-Pa55-word!'),
    );
    // The seeding cli follows the password it was last given.
    expect((await server.cli('PING')).trim()).toBe('PONG');
  });

  it('postgres: pg_hba.conf trust opens it, scram-sha-256 closes it again', async () => {
    const server = postgres as PrivatePostgres;
    await expectToggles(
      'postgres',
      `postgres://127.0.0.1:${server.port}/postgres`,
      () => server.setAuth('trust'),
      () => server.setAuth('scram-sha-256'),
    );
  });

  it('mosquitto: allow_anonymous true opens it, false closes it again', async () => {
    const server = mosquitto as PrivateMosquitto;
    await expectToggles(
      'mosquitto',
      `mqtt://127.0.0.1:${server.port}`,
      () => server.setAnonymous(true),
      () => server.setAnonymous(false),
    );
    // The seeding account still works once the broker is locked again.
    await server.publish('lw/after-toggle', 'x');
  });

  it('mosquitto started open gets an operator account when locked, and seeding keeps working', async () => {
    const open = await startMosquitto({ anonymous: true });
    try {
      const target = `mqtt://127.0.0.1:${open.port}`;
      expect(await scanStatus(target)).toBe('open');
      await open.setAnonymous(false);
      expect(await scanStatus(target)).toBe('auth-required');
      await open.publish('lw/locked', 'x');
    } finally {
      await open.stop();
    }
  });
});
