import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import { ScopeError } from '../core/errors.js';
import { fingerprint } from '../core/fingerprint.js';
import { formatHostPort, parseTarget, type TargetSpec } from '../core/parse-target.js';
import type { Protocol } from '../core/protocol.js';
import { sanitizeText } from '../core/redact.js';
import type { ScanReport, ServerInfo, TargetReport } from '../core/scan-report.js';
import { storeSeverity } from '../core/severity.js';
import { toolVersion } from '../core/version.js';
import { Classifier, type Classification } from '../classify/classifier.js';
import type { AffectedPerson } from '../classify/people-ledger.js';
import type { PeopleKeys } from '../core/sealed-text.js';
import { watchForRansomNotes, type RansomNoteWatch } from '../classify/ransom-note-text.js';
import type { ProbeContext, ProbeResult, ProbeTarget, RecordSink } from '../connectors/connector.js';
import { connectors, detectionOrder } from '../connectors/registry.js';
import { assessIndicators, type CandidateResult } from './assess-indicators.js';
import { expandTargets } from './expand-targets.js';
import { Scope } from './scope.js';

export interface ScanProgress {
  done: number;
  total: number;
  /** The endpoint just finished, as it will be reported. */
  target: string;
}

export interface ScanOptions {
  /** Target strings (DESIGN.md grammar). */
  targets: readonly string[];
  /** HOST, IP or CIDR never to contact. */
  excludes?: readonly string[];
  /** Endpoints probed at once. */
  concurrency?: number;
  /** Per endpoint: every probe of it ends within this (plus a small grace for teardown). */
  timeoutMs?: number;
  /** Cap on addresses a CIDR or the whole target list may expand to. */
  maxHosts?: number;
  /** Cap on bytes read in one response from a target. */
  maxBytes?: number;
  /** Classify open stores from up to `limit` records per collection; absent: size only. */
  sample?: SampleOptions;
  /** Try products' documented default accounts (RabbitMQ guest/guest) where no credentials are named. */
  tryDefaultCredentials?: boolean;
  /**
   * An incident's affected-people run: classify with the people ledger and hand each open
   * target's people (keyed hashes, sealed contacts; never raw values) to `onPeople`.
   */
  people?: {
    keys: PeopleKeys;
    onPeople: (target: string, people: AffectedPerson[]) => void;
    /** Records read so far, at most once a second: a full re-read of millions takes minutes. */
    onRecords?: (records: number) => void;
  };
  onProgress?: (progress: ScanProgress) => void;
  /** One-line notes for stderr (excluded targets, skipped addresses). */
  onNote?: (message: string) => void;
}

export interface SampleOptions {
  /** Records per collection (`--sample N`), or Infinity (`--full`). */
  limit: number;
  /** Deadline of one store's sampling (`--sample-timeout`). */
  timeoutMs: number;
}

export const scanDefaults = {
  /** Records per collection classified by `scan` unless `--sample`/`--full` say otherwise. */
  sampleLimit: 1000,
  sampleTimeoutMs: 60_000,
  concurrency: 16,
  timeoutMs: 10_000,
  maxHosts: 4096,
  maxBytes: 8 * 1024 * 1024,
} as const;

// A connector that ignores its AbortSignal still cannot hold a target past its timeout.
const teardownGraceMs = 500;
// After one candidate of a bare host:port answered conclusively, how long the others may finish.
const conclusiveGraceMs = 300;

/** Passes records on to `sink` and reports how many went by, at most once a second. */
function countRecords(sink: RecordSink, report: (records: number) => void): RecordSink {
  let records = 0;
  let reportedAt = Date.now();
  const tick = (): void => {
    records++;
    // A clock read per record would cost more than the count; every 1,024th is often enough.
    if ((records & 1023) !== 0) return;
    const now = Date.now();
    if (now - reportedAt < 1000) return;
    reportedAt = now;
    report(records);
  };
  return {
    get limit() {
      return sink.limit;
    },
    get signal() {
      return sink.signal;
    },
    add(collection, record) {
      tick();
      sink.add(collection, record);
    },
    addText(collection, text, format) {
      tick();
      sink.addText(collection, text, format);
    },
  };
}

/** One port of one host, probed with one or several candidate protocols. */
interface Endpoint {
  display: string;
  spec: TargetSpec;
  host: string;
  port: number;
  candidates: readonly Protocol[];
  /** Reported even when unreachable: the user named this endpoint. */
  named: boolean;
}

function planEndpoints(spec: TargetSpec, host: string, protocol: Protocol | undefined): Endpoint[] {
  const base = { spec, host };
  if (protocol !== undefined) {
    const port = spec.port ?? connectors[protocol].defaultPorts[0] ?? 0;
    return [{ ...base, display: spec.display, port, candidates: [protocol], named: true }];
  }
  if (spec.port !== undefined) {
    const display = spec.prefixLength === undefined ? spec.display : formatHostPort(host, spec.port);
    return [
      {
        ...base,
        display,
        port: spec.port,
        candidates: detectionOrder,
        named: spec.prefixLength === undefined,
      },
    ];
  }
  const byPort = new Map<number, Protocol[]>();
  for (const candidate of detectionOrder) {
    for (const port of connectors[candidate].defaultPorts)
      byPort.set(port, [...(byPort.get(port) ?? []), candidate]);
  }
  return [...byPort].map(([port, candidates]) => ({
    ...base,
    display: formatHostPort(host, port),
    port,
    candidates,
    named: false,
  }));
}

// Open and auth-required are conclusive; so is an answer that identified the server (an HTTP
// server without data, a PostgreSQL that failed mid-way): the port speaks that protocol. Then "speaks
// something else" (more telling than a timeout); then errors; unreachable last.
function resultRank(result: ProbeResult): number {
  switch (result.status) {
    case 'open':
      return 0;
    case 'auth-required':
      return 1;
    case 'error':
    case 'other-protocol':
      if (result.server !== undefined) return 2;
      return result.status === 'other-protocol' ? 3 : 4;
    case 'unreachable':
      return 5;
  }
}

/** Ranks at or below this name the protocol on the port: the other candidates may stop. */
const identifiedRank = 2;

async function probeWithDeadline(
  protocol: Protocol,
  target: ProbeTarget,
  ctx: ProbeContext,
  hardStopMs: number,
): Promise<ProbeResult> {
  let timer: NodeJS.Timeout | undefined;
  const hardStop = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => {
      resolve({ status: 'error', detail: `no complete answer within ${ctx.timeoutMs / 1000} s` });
    }, hardStopMs);
  });
  try {
    return await Promise.race([
      connectors[protocol].probe(target, ctx).catch((error: unknown) => ({
        status: 'error' as const,
        detail: sanitizeText(`internal error in ${protocol} connector: ${String(error)}`),
      })),
      hardStop,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function sanitizeServer(server: ServerInfo): ServerInfo {
  const product = sanitizeText(server.product, 40);
  return server.version === undefined ? { product } : { product, version: sanitizeText(server.version, 60) };
}

function toReport(
  endpoint: Endpoint,
  protocol: Protocol | 'unknown',
  result: ProbeResult,
  durationMs: number,
  classification?: Classification,
  evidence?: { others: readonly CandidateResult[]; ransomNoteSeen: boolean },
): TargetReport {
  const records = result.size?.records;
  const subjects = classification?.subjects ?? { total: 0, byCategory: {} };
  const { indicators, reasons } = assessIndicators({
    chosen: { protocol, result },
    others: evidence?.others ?? [],
    ...(classification ? { recordsSeen: classification.recordsSeen } : {}),
    ransomNoteSeen: evidence?.ransomNoteSeen ?? false,
  });
  // Reasons quote collection names from the target: cleaned here like every other target text, and
  // appended after the cut of the connector's detail so they are never lost.
  const detail = [sanitizeText(result.detail, 300), ...reasons.map((r) => sanitizeText(r, 200))]
    .filter((d) => d !== '')
    .join('; ');
  return {
    target: endpoint.display,
    protocol,
    status: result.status,
    detail,
    ...(result.server ? { server: sanitizeServer(result.server) } : {}),
    ...(result.size ? { size: result.size } : {}),
    indicators,
    // Names come from the target: hostile until cleaned, here, once for every connector and format.
    collections: (result.collections ?? []).map((c) => ({ ...c, name: sanitizeText(c.name, 200) })),
    fields: (classification?.fields ?? []).map((f) => ({
      ...f,
      collection: sanitizeText(f.collection, 200),
      path: sanitizeText(f.path, 200),
    })),
    subjects,
    severity: storeSeverity({
      status: result.status,
      subjects,
      ...(records === undefined ? {} : { records }),
      classified: classification !== undefined && Object.keys(classification.recordsSeen).length > 0,
      indicators,
    }),
    fingerprint: fingerprint(protocol, endpoint.host.toLowerCase(), endpoint.port, endpoint.spec.path),
    durationMs,
  };
}

interface EndpointOptions {
  tryDefaultCredentials?: boolean;
  timeoutMs: number;
  maxBytes: number;
  sample: SampleOptions | undefined;
  hashKey: Uint8Array;
  people?: ScanOptions['people'];
}

async function probeEndpoint(
  endpoint: Endpoint,
  scope: Scope,
  options: EndpointOptions,
): Promise<TargetReport | undefined> {
  const started = performance.now();
  const single = endpoint.candidates.length === 1 ? endpoint.candidates[0] : undefined;
  try {
    await scope.check(endpoint.host, endpoint.port);
  } catch (error) {
    if (!(error instanceof ScopeError)) throw error;
    const result: ProbeResult = { status: 'unreachable', detail: error.message };
    return endpoint.named
      ? toReport(endpoint, single ?? 'unknown', result, performance.now() - started)
      : undefined;
  }
  // Each candidate has its own controller: it stops at the deadline, or soon after ANOTHER candidate
  // answered conclusively (never the one that answered: it may still be sampling).
  // Not AbortSignal.any([AbortSignal.timeout(…), …]): Node 20 holds a timeout signal inside `any`
  // weakly, so a GC before the deadline drops it and probes run on to the hard stop
  // (nodejs/node#57736). A listener keeps a timeout signal alive until it fires.
  const controllers = endpoint.candidates.map(() => new AbortController());
  const deadline = AbortSignal.timeout(options.timeoutMs);
  deadline.addEventListener(
    'abort',
    () => {
      for (const c of controllers) c.abort(deadline.reason);
    },
    { once: true },
  );
  // Sampling gets its own deadline (a --full read outlasts a probe timeout), kept alive the same way.
  const sampleDeadline = options.sample ? AbortSignal.timeout(options.sample.timeoutMs) : undefined;
  sampleDeadline?.addEventListener('abort', () => undefined, { once: true });
  let settled = false;
  const { spec } = endpoint;
  const results = await Promise.all(
    endpoint.candidates.map(async (protocol, index) => {
      const signal = (controllers[index] as AbortController).signal;
      // Sockets and requests of one candidate hang on this signal; more than Node's default 10
      // listeners is expected here, not a leak.
      setMaxListeners(100, signal);
      const classifier =
        options.sample && sampleDeadline
          ? new Classifier({
              hashKey: options.hashKey,
              limit: options.sample.limit,
              signal: sampleDeadline,
              ...(options.people === undefined ? {} : { people: true }),
            })
          : undefined;
      // Records pass through the ransom-note watch on their way to the classifier.
      const sampler: RansomNoteWatch | undefined = classifier
        ? watchForRansomNotes(
            options.people?.onRecords === undefined
              ? classifier
              : countRecords(classifier, options.people.onRecords),
          )
        : undefined;
      const ctx: ProbeContext = {
        signal,
        timeoutMs: options.timeoutMs,
        maxBytes: options.maxBytes,
        checkScope: (host, port) => scope.check(host, port),
        ...(sampler ? { sampler } : {}),
        ...(options.tryDefaultCredentials === true ? { tryDefaultCredentials: true } : {}),
      };
      const target: ProbeTarget = { protocol, host: endpoint.host, port: endpoint.port };
      if (spec.path !== undefined) target.path = spec.path;
      if (spec.username !== undefined) target.username = spec.username;
      if (spec.password !== undefined) target.password = spec.password;
      const hardStopMs = Math.max(options.timeoutMs, options.sample?.timeoutMs ?? 0) + teardownGraceMs;
      const result = await probeWithDeadline(protocol, target, ctx, hardStopMs);
      if (resultRank(result) <= identifiedRank && !settled) {
        settled = true;
        // A protocol that waits for the server to speak first (MySQL) would otherwise sit out the
        // whole timeout on a Redis port. The grace lets a more specific protocol on the same port
        // (Elasticsearch over HTTP) finish too.
        setTimeout(() => {
          controllers.forEach((c, other) => {
            if (other !== index) c.abort();
          });
        }, conclusiveGraceMs).unref();
      }
      return { protocol, result, classifier, sampler };
    }),
  );
  // detectionOrder breaks ties because candidates are listed in it.
  const best = results.reduce((a, b) => (resultRank(b.result) < resultRank(a.result) ? b : a));
  const durationMs = Math.round(performance.now() - started);
  if (best.result.status === 'unreachable' && !endpoint.named) return undefined;
  const classification = best.result.status === 'open' ? best.classifier?.result() : undefined;
  if (classification !== undefined && options.people !== undefined && best.classifier !== undefined) {
    options.people.onPeople(endpoint.display, best.classifier.people(options.people.keys));
  }
  const evidence = {
    others: results.filter((r) => r !== best).map((r) => ({ protocol: r.protocol, result: r.result })),
    ransomNoteSeen: best.result.status === 'open' && best.sampler?.ransomNoteSeen() === true,
  };
  if (single !== undefined)
    return toReport(endpoint, single, best.result, durationMs, classification, evidence);
  if (resultRank(best.result) > identifiedRank) {
    const detail =
      best.result.status === 'other-protocol'
        ? `answers, but speaks none of ${endpoint.candidates.join(', ')}`
        : best.result.detail;
    return toReport(endpoint, 'unknown', { status: best.result.status, detail }, durationMs);
  }
  return toReport(endpoint, best.protocol, best.result, durationMs, classification, evidence);
}

/** Runs `worker` over `items` with at most `limit` at once, keeping input order in the output. */
async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  worker: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await worker(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return out;
}

/**
 * One scan: parse and scope the targets, probe every endpoint with bounded concurrency, and build
 * the report of DESIGN.md's JSON contract. Throws `UsageError` for bad targets before any packet.
 */
export async function runScan(options: ScanOptions): Promise<ScanReport> {
  const startedAt = new Date().toISOString();
  const timeoutMs = options.timeoutMs ?? scanDefaults.timeoutMs;
  const maxBytes = options.maxBytes ?? scanDefaults.maxBytes;
  const specs = options.targets.map((t) => parseTarget(t));
  const scope = new Scope(specs, options.excludes ?? []);
  const { plans, excluded } = expandTargets(specs, {
    maxHosts: options.maxHosts ?? scanDefaults.maxHosts,
    isExcluded: (address) => scope.isExcludedAddress(address),
  });
  if (excluded > 0) options.onNote?.(`${excluded} address(es) left out by --exclude`);
  // Counts people by keyed hashes; the key lives only as long as this run.
  const hashKey = randomBytes(32);
  const endpoints = plans.flatMap((plan) => planEndpoints(plan.spec, plan.host, plan.protocol));
  let done = 0;
  const reports = await mapPool(
    endpoints,
    options.concurrency ?? scanDefaults.concurrency,
    async (endpoint) => {
      const report = await probeEndpoint(endpoint, scope, {
        timeoutMs,
        maxBytes,
        sample: options.sample,
        hashKey,
        ...(options.tryDefaultCredentials === true ? { tryDefaultCredentials: true } : {}),
        ...(options.people === undefined ? {} : { people: options.people }),
      });
      done++;
      options.onProgress?.({ done, total: endpoints.length, target: endpoint.display });
      return report;
    },
  );
  const targets = reports.filter((r): r is TargetReport => r !== undefined);
  // A bare host (not a CIDR) on which nothing answered is still reported, once.
  for (const plan of plans) {
    if (!plan.discover || plan.spec.prefixLength !== undefined || plan.spec.port !== undefined) continue;
    const prefix = isIP(plan.host) === 6 ? `[${plan.host}]:` : `${plan.host}:`;
    if (targets.some((t) => t.target.startsWith(prefix))) continue;
    const ports = [...new Set(detectionOrder.flatMap((p) => connectors[p].defaultPorts))].join(', ');
    targets.push(
      toReport(
        {
          display: plan.spec.display,
          spec: plan.spec,
          host: plan.host,
          port: 0,
          candidates: [],
          named: true,
        },
        'unknown',
        { status: 'unreachable', detail: `no known service answered on ports ${ports}` },
        0,
      ),
    );
  }
  return {
    schemaVersion: 1,
    tool: { name: 'leakwatch', version: toolVersion },
    startedAt,
    finishedAt: new Date().toISOString(),
    targets,
  };
}
