import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsConnector } from '../../src/connectors/nats.js';
import type { TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';
import { startNats, type PrivateNats } from '../servers/nats-server.js';

const timeoutMs = 5000;

async function scanOne(target: string): Promise<{ json: string; entry: TargetReport }> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return { json: JSON.stringify(report), entry: report.targets[0]! };
}

function pub(subject: string, payload: string, reply = ''): string {
  return `PUB ${subject}${reply === '' ? '' : ` ${reply}`} ${Buffer.byteLength(payload)}\r\n${payload}\r\n`;
}

const count = (text: string, what: string): number => text.split(what).length - 1;

describe('nats connector against Debian nats-server 2.9', () => {
  let open: PrivateNats;
  let locked: PrivateNats;
  const user = 'scanner-user';
  const pass = 'nats-secret-pass-7781';

  beforeAll(async () => {
    [open, locked] = await Promise.all([
      startNats({ jetstream: true, monitor: true }),
      startNats({ user, pass }),
    ]);
    // JetStream API request from the test's own client: a memory stream for `orders.>`, then 25
    // messages published with a reply subject so every store is acknowledged before the tests run.
    const stream = JSON.stringify({ name: 'ORDERS', subjects: ['orders.>'], storage: 'memory' });
    const messages = Array.from({ length: 25 }, (_, i) =>
      pub(`orders.${1000 + i}`, JSON.stringify({ email: `buyer${i}@example.test` }), '_INBOX.seed'),
    ).join('');
    await open.client(
      `SUB _INBOX.seed 1\r\n${pub('$JS.API.STREAM.CREATE.ORDERS', stream, '_INBOX.seed')}`,
      (t) => t.includes('MSG _INBOX.seed'),
    );
    await open.client(`SUB _INBOX.seed 1\r\n${messages}`, (t) => count(t, 'MSG _INBOX.seed') >= 25);
  });

  afterAll(async () => {
    await Promise.all([open.stop(), locked.stop()]);
  });

  it('is open without auth, with version and JetStream sizes from the monitoring port', async () => {
    const target = `nats://127.0.0.1:${open.port}`;
    const { entry } = await scanOne(target);
    expect(entry).toMatchObject({ target, protocol: 'nats', status: 'open' });
    expect(entry.server).toMatchObject({ product: 'nats' });
    expect(entry.server?.version).toMatch(/^2\.9\.\d+$/);
    expect(entry.size?.records).toBe(25);
    expect(entry.size?.collections).toBe(1);
    expect(entry.size?.bytes).toBeGreaterThan(0);
    expect(entry.collections).toEqual([{ name: 'ORDERS', records: 25, bytes: entry.size?.bytes }]);
    expect(entry.detail).toContain('JetStream on');
  });

  it('is found by auto-detect on a bare host:port', async () => {
    const { entry } = await scanOne(`127.0.0.1:${open.port}`);
    expect(entry).toMatchObject({ protocol: 'nats', status: 'open' });
  });

  it('is auth-required with --user/--pass', async () => {
    const { entry } = await scanOne(`nats://127.0.0.1:${locked.port}`);
    expect(entry).toMatchObject({ protocol: 'nats', status: 'auth-required' });
    expect(entry.server?.version).toMatch(/^2\.9\.\d+$/);
    expect(entry.size).toBeUndefined();
  });

  it('is open with the credentials named in the target, and never prints the password', async () => {
    const { entry, json } = await scanOne(`nats://${user}:${pass}@127.0.0.1:${locked.port}`);
    expect(entry).toMatchObject({ protocol: 'nats', status: 'open' });
    expect(json).not.toContain(pass);
  });

  it('is auth-required when the named password is wrong', async () => {
    const { entry, json } = await scanOne(`nats://${user}:wrong-${pass}@127.0.0.1:${locked.port}`);
    expect(entry.status).toBe('auth-required');
    expect(json).not.toContain(pass);
  });

  it('samples live messages per subject family through a bounded subscription', async () => {
    const sink = new CollectingSink(3);
    const traffic = { running: true };
    const publisher = (async () => {
      let i = 0;
      while (traffic.running) {
        await open.client(
          `${pub(`sensors.${i}.temp`, JSON.stringify({ owner: `o${i}@example.test` }))}PING\r\n`,
          (t) => t.includes('PONG'),
        );
        i++;
      }
    })();
    const result = await natsConnector.probe(
      { protocol: 'nats', host: '127.0.0.1', port: open.port },
      probeContext(sink, { timeoutMs: 5000 }),
    );
    traffic.running = false;
    await publisher;
    expect(result.status).toBe('open');
    expect(sink.records.get('sensors.*.temp')).toHaveLength(3);
    const first = sink.records.get('sensors.*.temp')?.[0];
    expect(typeof first).toBe('string');
    expect(first as string).toContain('@example.test');
    expect(result.detail).toContain('sampled 3 messages');
  });
});
