import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeContext, ProbeTarget, RecordSink } from '../../src/connectors/connector.js';
import { mqttConnector } from '../../src/connectors/mqtt.js';
import { runScan } from '../../src/scan/run-scan.js';
import { startMosquitto, type PrivateMosquitto } from '../servers/mosquitto-server.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';

// The listening window is 30 % of this: under a second, enough for retained messages on loopback.
const timeoutMs = 3_000;

function context(sampler: RecordSink): ProbeContext {
  return probeContext(sampler, { timeoutMs });
}

// Five retained topics in two families: home/*/state and cams/*/config.
const retained: Record<string, string> = {
  'home/1001/state': JSON.stringify({ owner: 'ann@example.test', temp: 21.5 }),
  'home/1002/state': JSON.stringify({ owner: 'bob@example.test', temp: 19 }),
  'home/1003/state': JSON.stringify({ owner: 'cy@example.test', temp: 20 }),
  'cams/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/config': JSON.stringify({
    ssid: 'AnnHome',
    mac: '5c:cf:7f:01:02:03',
  }),
  'cams/1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d/config': JSON.stringify({
    ssid: 'BobNet',
    mac: '5c:cf:7f:0a:0b:0c',
  }),
};
const payloadsOf = (prefix: string): string[] =>
  Object.entries(retained)
    .filter(([topic]) => topic.startsWith(prefix))
    .map(([, payload]) => payload)
    .sort();

describe('mqtt sampling against Debian mosquitto', () => {
  let broker: PrivateMosquitto;

  beforeAll(async () => {
    broker = await startMosquitto({ anonymous: true });
    for (const [topic, payload] of Object.entries(retained))
      await broker.publish(topic, payload, { retain: true });
  });

  afterAll(async () => {
    await broker.stop();
  });

  const target = (): ProbeTarget => ({ protocol: 'mqtt', host: '127.0.0.1', port: broker.port });

  it('hands every payload of the window to the sampler, per topic family', async () => {
    const sink = new CollectingSink(Infinity);
    const result = await mqttConnector.probe(target(), context(sink));
    expect(result.status).toBe('open');
    expect([...sink.records.keys()].sort()).toEqual(['cams/*/config', 'home/*/state']);
    expect((sink.records.get('home/*/state') as string[]).sort()).toEqual(payloadsOf('home/'));
    expect((sink.records.get('cams/*/config') as string[]).sort()).toEqual(payloadsOf('cams/'));
    expect(result.detail).toContain('sampled 5 messages in 2 topic families');
    expect(result.detail).not.toContain('example.test');
  });

  it('keeps at most `limit` payloads per family', async () => {
    const sink = new CollectingSink(2);
    const result = await mqttConnector.probe(target(), context(sink));
    expect(result.status).toBe('open');
    expect(sink.records.get('home/*/state')).toHaveLength(2);
    expect(sink.records.get('cams/*/config')).toHaveLength(2);
    for (const payload of sink.records.get('home/*/state') ?? [])
      expect(payloadsOf('home/')).toContain(payload);
    // The window still counts every message; only the records handed over are capped.
    expect(result.size?.records).toBe(5);
    expect(result.detail).toContain('sampled 4 messages in 2 topic families');
  });

  it('feeds a scan with --sample: fields is an array and no payload value is in the report', async () => {
    const report = await runScan({
      targets: [`mqtt://127.0.0.1:${broker.port}`],
      timeoutMs,
      sample: { limit: 100, timeoutMs: 10_000 },
    });
    const [entry] = report.targets;
    expect(entry?.status).toBe('open');
    expect(Array.isArray(entry?.fields)).toBe(true);
    expect(entry?.detail).toContain('sampled 5 messages in 2 topic families');
    const text = JSON.stringify(report);
    for (const value of ['example.test', 'AnnHome', 'BobNet', '5c:cf:7f']) expect(text).not.toContain(value);
  });
});
