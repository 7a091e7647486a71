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
