import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportFormats } from '../../src/report/report-writer.js';
import { runCli } from '../run-cli.js';
import { startPostgres, type PrivatePostgres } from '../servers/postgres-server.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';

// DESIGN.md invariant 3: raw sampled values never leave classify/. Seed real stores with known
// secrets and personal data, scan them with classification in every format, and look for the
// values, and for any 8-character window of each secret, in everything the CLI printed.
const people = Array.from({ length: 12 }, (_, i) => ({
  id: 5000 + i,
  email: `carol.hidden${i}@example-leak.org`,
  phone: `+1415555${String(2600 + i).padStart(4, '0')}`,
  ssid: `CarolsHomeNet-${i}-5G`,
  token: `Atza|IwEBIHx9Qm3vT8rLkP2sWq7ZyNd4FjG6hC1aB5eR0tUoVi${i}XnMbKcQwErTyUiOpAsDfGhJkLzXcVbNm`,
}));
const awsKey = 'AKIAQ7LEAKWATCH2XJ5T';
const card = '4539578763621486';
const secrets = [awsKey, card, ...people.flatMap((p) => [p.email, p.phone, p.ssid, p.token])];

function windows(secret: string, size = 8): string[] {
  const out: string[] = [];
  for (let i = 0; i + size <= secret.length; i++) out.push(secret.slice(i, i + size));
  return out;
}

let redis: PrivateRedis;
let pg: PrivatePostgres;
let dir: string;

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres({ auth: 'trust' })]);
  for (const p of people) {
    await redis.cli(
      'SET',
      `user:${p.id}:profile`,
      JSON.stringify({
        user_id: p.id,
        email: p.email,
        home: { wifi_ssid: p.ssid },
        alexa: { access_token: p.token },
      }),
    );
  }
  await redis.cli('SET', 'config:aws', JSON.stringify({ aws_access_key_id: awsKey }));
  await pg.psql('CREATE TABLE customers (user_id int, email text, phone text, card_number text)');
  for (const p of people) {
    await pg.psql(`INSERT INTO customers VALUES (${p.id}, '${p.email}', '${p.phone}', '${card}')`);
  }
  dir = mkdtempSync(join(tmpdir(), 'lw-noleak-'));
}, 120_000);

afterAll(async () => {
  await Promise.all([redis.stop(), pg.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('no raw sensitive value leaves classify/ (scan)', () => {
  it.each(reportFormats)('%s output and the logs hold no seeded value', async (format) => {
    const out = join(dir, `report.${format}`);
    const targets = [`redis://127.0.0.1:${redis.port}`, `postgres://127.0.0.1:${pg.port}`];
    const toStdout = await runCli(['scan', ...targets, '-f', format, '--sample', '100', '--fail-on', 'none']);
    const toFile = await runCli(['scan', ...targets, '-f', format, '-o', out, '--fail-on', 'none']);
    expect(toStdout.code).toBe(0);
    expect(toFile.code).toBe(0);
    const everything = [
      toStdout.stdout,
      toStdout.stderr,
      toFile.stdout,
      toFile.stderr,
      readFileSync(out, 'utf8'),
    ].join('\n');
    for (const secret of secrets) {
      expect(everything, `raw value of ${secret.slice(0, 3)}…`).not.toContain(secret);
      for (const window of windows(secret)) {
        // Long windows of shared prefixes (the vendor's `Atza|IwE…`) are the token format, not data.
        if (/^Atza\|IwE/.test(window) || window.startsWith('carol.hi')) continue;
        expect(everything.includes(window), `8-char window of a seeded secret (${format})`).toBe(false);
      }
    }
  });

  it('still says what the stores expose', async () => {
    const run = await runCli([
      'scan',
      `redis://127.0.0.1:${redis.port}`,
      `postgres://127.0.0.1:${pg.port}`,
      '-f',
      'json',
      '--fail-on',
      'none',
    ]);
    const report = JSON.parse(run.stdout) as {
      targets: { protocol: string; subjects: { total: number; byCategory: Record<string, number> } }[];
    };
    const byProtocol = Object.fromEntries(report.targets.map((t) => [t.protocol, t.subjects]));
    expect(byProtocol.redis?.byCategory.email).toBe(people.length);
    expect(byProtocol.redis?.byCategory.oauth_token).toBe(people.length);
    expect(byProtocol.redis?.byCategory.cloud_credential).toBeGreaterThanOrEqual(1);
    expect(byProtocol.postgres?.byCategory.email).toBe(people.length);
    expect(byProtocol.postgres?.byCategory.payment_card).toBe(people.length);
  });
});
