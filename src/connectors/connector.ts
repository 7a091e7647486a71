import type { Protocol } from '../core/protocol.js';
import type { CollectionInfo, Indicator, ProbeStatus, ServerInfo, StoreSize } from '../core/scan-report.js';

/** One concrete endpoint to probe: a protocol on a host and port. */
export interface ProbeTarget {
  protocol: Protocol;
  host: string;
  port: number;
  /** Database, Redis db number, index or HTTP path, as the target string gave it. */
  path?: string;
  /** Only when the user named credentials in the target; never guessed. */
  username?: string;
  password?: string;
}

/** Text formats a connector may hand over whole (an HTTP data file), parsed by the classifier. */
export type RecordTextFormat = 'json' | 'ndjson' | 'csv' | 'tsv';

/**
 * Where a connector puts the records it reads from an OPEN store for classification. Values pass
 * through memory to `classify/` only; connectors never log, keep or return them (DESIGN.md
 * invariant 3).
 */
export interface RecordSink {
  /** Records to read per collection: a number (`--sample N`, default 1000) or `Infinity` (`--full`). */
  readonly limit: number;
  /**
   * Sampling's own deadline (`--sample-timeout`): use it, not `ctx.signal`, for the reads that
   * fetch records, so a `--full` read is not cut by the probe timeout. Byte caps still apply.
   */
  readonly signal: AbortSignal;
  /**
   * One record (row, document, key's value, message) of `collection`: a JSON-like value. Strings
   * holding JSON are parsed by the classifier, so pass a Redis value or an MQTT payload as a string.
   */
  add(collection: string, record: unknown): void;
  /** A whole document of records (an HTTP data file): the classifier parses it. */
  addText(collection: string, text: string, format: RecordTextFormat): void;
}

/** What a connector gets from `scan/` for one probe. */
export interface ProbeContext {
  /** Aborts when the target's time is up; pass it to every I/O. */
  signal: AbortSignal;
  /** The per-target timeout, for messages ("no answer within 5 s"). */
  timeoutMs: number;
  /** Cap on bytes read from the peer in one response. */
  maxBytes: number;
  /**
   * Throws `ScopeError` when an address lies outside the scan's scope. Call it before following a
   * redirect or connecting to any address the server advertised (DESIGN.md invariant 2).
   */
  checkScope(host: string, port: number): Promise<void>;
  /**
   * Present when the scan classifies: after deciding `open`, read up to `sampler.limit` records per
   * collection (read-only, bounded, within the same deadline) and hand them over. Absent: size only.
   */
  sampler?: RecordSink;
  /**
   * `--try-default-credentials`: the user opted in to trying a product's documented default account
   * (RabbitMQ's guest/guest) when the target names none. Never set by default; no other guessing.
   */
  tryDefaultCredentials?: boolean;
}

/** A connector's verdict. Expected outcomes (auth-required, refused, timeout) are values. */
export interface ProbeResult {
  status: ProbeStatus;
  /** Why, in one line. */
  detail: string;
  server?: ServerInfo;
  size?: StoreSize;
  collections?: CollectionInfo[];
  indicators?: Indicator[];
}

/** One per protocol, registered in `registry.ts`. Read-only and bounded (DESIGN.md invariant 1). */
export interface Connector {
  /** Ports tried for a bare `host` target. */
  readonly defaultPorts: readonly number[];
  probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult>;
}
