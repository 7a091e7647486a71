import { afterEach, describe, expect, it } from 'vitest';
import { toolVersion } from '../core/version.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { WatchMetrics } from './watch-metrics.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Just enough of the text exposition format (version 0.0.4) to read values back: comments skipped,
 * label values unescaped (`\\`, `\"`, `\n`), special float values understood in any case.
 */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) throw new Error(`unparsable line: ${line}`);
    const name = nameMatch[0];
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      while (!rest.startsWith('}')) {
        const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/.exec(rest);
        if (!label) throw new Error(`unparsable labels: ${line}`);
        const [whole, key = '', raw = ''] = label;
        labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        rest = rest.slice(whole.length);
      }
      rest = rest.slice(1);
    }
    const valueText = rest.trim().split(' ')[0] ?? '';
    // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case; prom-client
    // writes an empty event-loop histogram's mean as "Nan".
    const special: Record<string, number> = { nan: NaN, '+inf': Infinity, inf: Infinity, '-inf': -Infinity };
    const value = special[valueText.toLowerCase()] ?? Number(valueText);
    if (valueText === '' || (Number.isNaN(value) && valueText.toLowerCase() !== 'nan')) {
      throw new Error(`bad value: ${line}`);
    }
    samples.push({ name, labels, value });
  }
  return samples;
}

/** Samples of `name` whose labels include all of `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The one sample of `name` with these labels; fails when there is none or more than one. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = find(samples, name, labels);
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]?.value ?? NaN;
}

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function scrape(metrics: WatchMetrics): Promise<Sample[]> {
  server ??= await startMetricsServer({ listen: '127.0.0.1:0', metrics });
  const response = await fetch(server.url, { signal: AbortSignal.timeout(5_000) });
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

describe('parseExposition (the test parser itself)', () => {
  it('reads names, escaped label values and special floats', () => {
    const samples = parseExposition(
      '# HELP x y\n# TYPE x gauge\nx{a="q\\"uo\\\\te",b="line\\nbreak"} 1.5\ny_bucket{le="+Inf"} +Inf\nz 3 1700000000000\n',
    );
    expect(samples).toEqual([
      { name: 'x', labels: { a: 'q"uo\\te', b: 'line\nbreak' }, value: 1.5 },
      { name: 'y_bucket', labels: { le: '+Inf' }, value: Infinity },
      { name: 'z', labels: {}, value: 3 },
    ]);
  });
});

describe('WatchMetrics scraped over loopback', () => {
  it('exports every store state, 0 when none, and replaces counts on each call', async () => {
    const metrics = new WatchMetrics({ defaultMetrics: false });
    let samples = await scrape(metrics);
    expect(
      find(samples, 'leakwatch_stores')
        .map((s) => s.labels.state)
        .sort(),
    ).toEqual(['error', 'open', 'protected', 'unknown', 'unreachable']);
    for (const s of find(samples, 'leakwatch_stores')) expect(s.value).toBe(0);

    metrics.setStoreStates({ open: 2, protected: 5, unreachable: 1, error: 0, unknown: 3 });
    samples = await scrape(metrics);
    expect(valueOf(samples, 'leakwatch_stores', { state: 'open' })).toBe(2);
    expect(valueOf(samples, 'leakwatch_stores', { state: 'protected' })).toBe(5);
    expect(valueOf(samples, 'leakwatch_stores', { state: 'unreachable' })).toBe(1);
    expect(valueOf(samples, 'leakwatch_stores', { state: 'unknown' })).toBe(3);

    // The watcher recounts from scratch: a state gone from the map falls to 0, not its old value.
    metrics.setStoreStates({ open: 0, protected: 8, unreachable: 0, error: 1, unknown: 0 });
    samples = await scrape(metrics);
    expect(valueOf(samples, 'leakwatch_stores', { state: 'open' })).toBe(0);
    expect(valueOf(samples, 'leakwatch_stores', { state: 'protected' })).toBe(8);
    expect(valueOf(samples, 'leakwatch_stores', { state: 'error' })).toBe(1);
  });

  it('counts probes per protocol and result in the histogram and the counter', async () => {
    const metrics = new WatchMetrics({ defaultMetrics: false });
    metrics.observeProbe('cache', 'redis', 0.002, true);
    metrics.observeProbe('cache', 'redis', 0.5, true);
    metrics.observeProbe('cache', 'redis', 30, false);
    metrics.observeProbe('users', 'postgres', 0.04, true);
    const samples = await scrape(metrics);

    expect(valueOf(samples, 'leakwatch_probe_duration_seconds_count', { protocol: 'redis' })).toBe(3);
    expect(valueOf(samples, 'leakwatch_probe_duration_seconds_sum', { protocol: 'redis' })).toBeCloseTo(
      30.502,
      9,
    );
    expect(valueOf(samples, 'leakwatch_probe_duration_seconds_count', { protocol: 'postgres' })).toBe(1);
    expect(valueOf(samples, 'leakwatch_probe_duration_seconds_sum', { protocol: 'postgres' })).toBeCloseTo(
      0.04,
      9,
    );

    // Buckets are cumulative and span 1 ms .. 30 s: the 2 ms probe is above the first bucket, the 30 s one in the last finite one.
    const bucket = (le: string): number =>
      valueOf(samples, 'leakwatch_probe_duration_seconds_bucket', { protocol: 'redis', le });
    expect(bucket('0.001')).toBe(0);
    expect(bucket('0.0025')).toBe(1);
    expect(bucket('0.5')).toBe(2);
    expect(bucket('10')).toBe(2);
    expect(bucket('30')).toBe(3);
    expect(bucket('+Inf')).toBe(3);

    expect(valueOf(samples, 'leakwatch_probes_total', { protocol: 'redis', result: 'ok' })).toBe(2);
    expect(valueOf(samples, 'leakwatch_probes_total', { protocol: 'redis', result: 'failed' })).toBe(1);
    expect(valueOf(samples, 'leakwatch_probes_total', { protocol: 'postgres', result: 'ok' })).toBe(1);
    expect(find(samples, 'leakwatch_probes_total', { protocol: 'postgres', result: 'failed' })).toEqual([]);
  });

  it('stamps the last successful probe per store only when the probe succeeded', async () => {
    const metrics = new WatchMetrics({ defaultMetrics: false });
    const odd = 'prod "users" \\ ☃\nsecond line';
    metrics.observeProbe('cache', 'redis', 0.01, true);
    metrics.observeProbe(odd, 'postgres', 0.01, true);
    metrics.observeProbe('down', 'mysql', 5, false);
    const samples = await scrape(metrics);

    const now = Date.now() / 1000;
    for (const store of ['cache', odd]) {
      const stamp = valueOf(samples, 'leakwatch_last_successful_probe_timestamp_seconds', { store });
      expect(Math.abs(now - stamp)).toBeLessThan(5);
    }
    expect(find(samples, 'leakwatch_last_successful_probe_timestamp_seconds', { store: 'down' })).toEqual([]);
  });

  it('forgetStore removes that store series and keeps the others', async () => {
    const metrics = new WatchMetrics({ defaultMetrics: false });
    metrics.observeProbe('cache', 'redis', 0.01, true);
    metrics.observeProbe('users', 'postgres', 0.01, true);
    metrics.forgetStore('cache');
    metrics.forgetStore('never-watched');
    const samples = await scrape(metrics);
    expect(
      find(samples, 'leakwatch_last_successful_probe_timestamp_seconds').map((s) => s.labels.store),
    ).toEqual(['users']);
    // Per-protocol aggregates are not per store and stay.
    expect(valueOf(samples, 'leakwatch_probes_total', { protocol: 'redis', result: 'ok' })).toBe(1);
  });

  it('counts alerts sent and failed per channel, starting every channel at 0', async () => {
    const metrics = new WatchMetrics({ defaultMetrics: false });
    let samples = await scrape(metrics);
    for (const channel of ['webhook', 'slack', 'email']) {
      expect(valueOf(samples, 'leakwatch_alerts_sent_total', { channel })).toBe(0);
      expect(valueOf(samples, 'leakwatch_alerts_failed_total', { channel, permanent: 'true' })).toBe(0);
      expect(valueOf(samples, 'leakwatch_alerts_failed_total', { channel, permanent: 'false' })).toBe(0);
    }

    metrics.alertSent('webhook');
    metrics.alertSent('webhook');
    metrics.alertSent('email');
    metrics.alertFailed('slack', false);
    metrics.alertFailed('slack', false);
    metrics.alertFailed('slack', true);
    metrics.alertFailed('email', true);
    samples = await scrape(metrics);
    expect(valueOf(samples, 'leakwatch_alerts_sent_total', { channel: 'webhook' })).toBe(2);
    expect(valueOf(samples, 'leakwatch_alerts_sent_total', { channel: 'email' })).toBe(1);
    expect(valueOf(samples, 'leakwatch_alerts_sent_total', { channel: 'slack' })).toBe(0);
    expect(valueOf(samples, 'leakwatch_alerts_failed_total', { channel: 'slack', permanent: 'false' })).toBe(
      2,
    );
    expect(valueOf(samples, 'leakwatch_alerts_failed_total', { channel: 'slack', permanent: 'true' })).toBe(
      1,
    );
    expect(valueOf(samples, 'leakwatch_alerts_failed_total', { channel: 'email', permanent: 'true' })).toBe(
      1,
    );
    expect(valueOf(samples, 'leakwatch_alerts_failed_total', { channel: 'webhook', permanent: 'true' })).toBe(
      0,
    );
  });

  it('exports open exposure windows and build info', async () => {
    const metrics = new WatchMetrics({ defaultMetrics: false });
    let samples = await scrape(metrics);
    expect(valueOf(samples, 'leakwatch_open_exposure_windows')).toBe(0);
    expect(valueOf(samples, 'leakwatch_build_info', { version: toolVersion })).toBe(1);

    metrics.setOpenExposureWindows(3);
    samples = await scrape(metrics);
    expect(valueOf(samples, 'leakwatch_open_exposure_windows')).toBe(3);
  });

  it('adds prefixed Node process metrics by default, into its own registry only', async () => {
    const first = new WatchMetrics();
    // A second instance in the same process must not collide with the first (the global registry would throw).
    const second = new WatchMetrics();
    const bare = new WatchMetrics({ defaultMetrics: false });

    const samples = await scrape(first);
    expect(find(samples, 'leakwatch_process_cpu_user_seconds_total')).toHaveLength(1);
    expect(find(samples, 'leakwatch_nodejs_heap_size_used_bytes')).toHaveLength(1);
    expect(samples.some((s) => s.name.startsWith('process_') || s.name.startsWith('nodejs_'))).toBe(false);

    expect(
      parseExposition(await second.render()).some(
        (s) => s.name === 'leakwatch_process_cpu_user_seconds_total',
      ),
    ).toBe(true);
    expect(parseExposition(await bare.render()).some((s) => s.name.startsWith('leakwatch_process_'))).toBe(
      false,
    );
  });

  it('tells the exposition content type', () => {
    expect(new WatchMetrics({ defaultMetrics: false }).contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
