import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { startMosquitto, type PrivateMosquitto } from '../servers/mosquitto-server.js';

// The window is 30 % of this (1.5 s): long enough for loopback, short enough for the suite.
const timeoutMs = 5_000;

async function scanOne(target: string): Promise<TargetReport> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return report.targets[0] as TargetReport;
}

// The version Debian's broker prints is the one its $SYS/broker/version must carry.
function installedMosquittoVersion(): string {
  const out = spawnSync('/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8' }).stdout;
  const version = /mosquitto version (\S+)/.exec(out)?.[1];
  if (version === undefined) throw new Error('cannot read the installed mosquitto version');
  return version;
}

const retainedTopics = {
  'home/kitchen/camera/status': '{"online":true}',
  'home/hall/thermostat': '21.5',
  'scale/beta/weight': '{"kg":81.2}',
  'devices/abc123/wifi': '{"ssid":"HomeNet"}',
};

describe('mqtt connector against Debian mosquitto', () => {
  let open: PrivateMosquitto;
  let locked: PrivateMosquitto;
  let restricted: PrivateMosquitto;
  // Filled as servers come up, so afterAll stops whatever started even if beforeAll failed midway.
  const started: PrivateMosquitto[] = [];
  const password = 'mqtt-Pa55-word!';

  beforeAll(async () => {
    const start = async (options: Parameters<typeof startMosquitto>[0]): Promise<PrivateMosquitto> => {
      const broker = await startMosquitto(options);
      started.push(broker);
      return broker;
    };
    [open, locked, restricted] = await Promise.all([
      start({ anonymous: true }),
      start({ anonymous: false, users: { reader: password } }),
      // Anonymous clients may connect, but every subscription is refused.
      start({ anonymous: true, denySubscriptions: true }),
    ]);
    for (const [topic, payload] of Object.entries(retainedTopics)) {
      await open.publish(topic, payload, { retain: true });
    }
    await locked.publish('vault/secrets', 'x', { retain: true });
    await locked.publish('vault/tokens', 'y', { retain: true });
  });

  afterAll(async () => {
    await Promise.all(started.map((broker) => broker.stop()));
  });

  it('reports an anonymous broker as open, with its retained topics and $SYS version', async () => {
    const result = await scanOne(`mqtt://127.0.0.1:${open.port}`);
    expect(result.status).toBe('open');
    expect(result.protocol).toBe('mqtt');
    expect(result.server).toEqual({ product: 'mosquitto', version: installedMosquittoVersion() });
    expect(result.collections).toEqual(
      Object.keys(retainedTopics)
        .sort((a, b) => a.localeCompare(b))
        .map((name) => ({ name, records: 1 })),
    );
    expect(result.size).toEqual({ collections: 4, records: 4, approximate: true });
    expect(result.detail).toContain('anonymous CONNECT and SUBSCRIBE # accepted');
    expect(result.detail).toContain('4 messages (4 retained) on 4 topics');
    // $SYS is read for the banner but never listed as a collection.
    expect(result.collections.some((c) => c.name.startsWith('$'))).toBe(false);
  });

  it('reports a password-protected broker as auth-required', async () => {
    const result = await scanOne(`mqtt://127.0.0.1:${locked.port}`);
    expect(result.status).toBe('auth-required');
    expect(result.detail).toMatch(/not authorized/);
    expect(result.collections).toEqual([]);
  });

  it('uses credentials named in the target, and never prints the password', async () => {
    const report = await runScan({
      targets: [`mqtt://reader:${encodeURIComponent(password)}@127.0.0.1:${locked.port}`],
      timeoutMs,
    });
    const result = report.targets[0] as TargetReport;
    expect(result.status).toBe('open');
    expect(result.target).toBe(`mqtt://127.0.0.1:${locked.port}`);
    expect(result.detail).toContain('CONNECT with the given credentials');
    expect(result.collections).toEqual([
      { name: 'vault/secrets', records: 1 },
      { name: 'vault/tokens', records: 1 },
    ]);
    expect(JSON.stringify(report)).not.toContain(password);
    expect(JSON.stringify(report)).not.toContain(encodeURIComponent(password));
  });

  it('reports wrong credentials as auth-required', async () => {
    const result = await scanOne(`mqtt://reader:wrong@127.0.0.1:${locked.port}`);
    expect(result.status).toBe('auth-required');
    expect(JSON.stringify(result)).not.toContain('wrong');
  });

  it('reports a granted CONNECT with a refused # subscription as auth-required', async () => {
    const result = await scanOne(`mqtt://127.0.0.1:${restricted.port}`);
    expect(result.status).toBe('auth-required');
    expect(result.detail).toContain('SUBSCRIBE # was refused');
  });

  it('detects mqtt on a bare host:port', async () => {
    const result = await scanOne(`127.0.0.1:${open.port}`);
    expect(result.protocol).toBe('mqtt');
    expect(result.status).toBe('open');
    expect(result.size?.collections).toBe(4);
  });
});
