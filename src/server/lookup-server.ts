import { getRequestListener } from '@hono/node-server';
import { createServer } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { createTransport, type Transporter } from 'nodemailer';
import type { Category } from '../core/category.js';
import { UsageError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { IncidentFacts } from '../incident/incident.js';
import type { IncidentMeasurement } from '../incident/incident-store.js';
import type { SqlClient } from '../store/sql-client.js';
import type { Store } from '../store/store.js';
import { parseListenAddress } from '../watch/metrics-server.js';
import {
  createLookupApp,
  linkTtlMs,
  type LinkRequest,
  type LookupFinding,
  type LookupLimits,
  type RedeemResult,
} from './lookup-app.js';

export interface LookupServerOptions {
  store: Store;
  /** `HOST:PORT`, `:PORT`, `[IPv6]:PORT` or `PORT`; loopback unless `public`. Port 0: any free port. */
  listen: string;
  /** DESIGN.md invariant 7: a non-loopback bind is refused unless the operator says so. */
  public?: boolean;
  /** Where people reach the page; default `http://LISTEN`. Required with `public`. */
  baseUrl?: string;
  smtp: string;
  from: string;
  limits?: Partial<LookupLimits>;
  /** How often the in-memory index of affected addresses is refreshed. Default 10 s. */
  refreshMs?: number;
  /** SMTP step timeout. Default 10 s. */
  smtpTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface LookupServer {
  url: string;
  port: number;
  /** Addresses (contact hashes) of people in open incidents currently known to the page. */
  readonly indexed: number;
  close(): Promise<void>;
}

// A slow client holds a socket; the page's requests are tiny, so these bounds cost nobody anything.
const requestTimeoutMs = 10_000;
const headersTimeoutMs = 5_000;
const keepAliveTimeoutMs = 5_000;
/** Token rows per INSERT, and how long a token waits for others to join its batch. */
const tokenBatch = 500;
const tokenFlushMs = 250;
/** Pending links beyond this (database or mail relay down) are dropped: the person can ask again. */
const maxPending = 10_000;
const mailConnections = 4;
const hourMs = 3_600_000;

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * The contact hashes of everyone in an open incident, in memory, so a lookup costs one Set probe
 * and no query. People are written with their incident in one transaction, so a newly seen open
 * incident is loaded whole; when one closes, the set is rebuilt from those still open.
 */
export class ContactIndex {
  private hashes = new Set<string>();
  private incidents = new Set<number>();

  has(contactHash: string): boolean {
    return this.hashes.has(contactHash);
  }

  get size(): number {
    return this.hashes.size;
  }

  get openIncidents(): number {
    return this.incidents.size;
  }

  /** Returns whether anything changed. */
  async refresh(db: SqlClient): Promise<boolean> {
    const rows = await db.query<{ id: number }>(`select id from incident where status = 'open'`);
    const open = new Set(rows.map((row) => row.id));
    const closed = [...this.incidents].some((id) => !open.has(id));
    const fresh = [...open].filter((id) => closed || !this.incidents.has(id));
    if (!closed && fresh.length === 0) return false;
    // Lookups keep using the old set until the new one is complete.
    const target = closed ? new Set<string>() : this.hashes;
    for (const id of fresh) await this.load(db, id, target);
    this.hashes = target;
    this.incidents = open;
    return true;
  }

  private async load(db: SqlClient, incidentId: number, into: Set<string>): Promise<void> {
    let after = 0;
    for (;;) {
      const page = await db.query<{ id: number; hash: string }>(
        `select id, contact_hash as hash from affected_person
         where incident_id = $1 and contact_hash is not null and id > $2 order by id limit 20000`,
        [incidentId, after],
      );
      for (const row of page) into.add(row.hash);
      const last = page[page.length - 1];
      if (last === undefined || page.length < 20000) return;
      after = last.id;
    }
  }
}

/** Marks a token used and collects what its person may see, from open incidents only. */
export async function redeemLookupToken(db: SqlClient, tokenHash: string): Promise<RedeemResult> {
  const [claimed] = await db.query<{ contactHash: string }>(
    `update lookup_token set used_at = now()
     where token_hash = $1 and used_at is null and expires_at > now() returning contact_hash as "contactHash"`,
    [tokenHash],
  );
  if (claimed === undefined) {
    const [known] = await db.query<{ id: number }>('select id from lookup_token where token_hash = $1', [
      tokenHash,
    ]);
    return known === undefined ? 'unknown' : 'gone';
  }
  const rows = await db.query<{
    incidentId: number;
    categories: Category[];
    measured: IncidentMeasurement;
    containedAt: Date | null;
    facts: IncidentFacts;
  }>(
    `select i.id as "incidentId", p.categories, i.measured, i.contained_at as "containedAt", i.facts
     from affected_person p join incident i on i.id = p.incident_id
     where p.contact_hash = $1 and i.status = 'open' order by i.id, p.id`,
    [claimed.contactHash],
  );
  const byIncident = new Map<number, LookupFinding>();
  for (const row of rows) {
    const known = byIncident.get(row.incidentId);
    if (known !== undefined) {
      known.categories = [...new Set([...known.categories, ...row.categories])];
      continue;
    }
    const window = row.measured.window;
    byIncident.set(row.incidentId, {
      categories: [...row.categories],
      openedAt: window.openedAt,
      ...(window.openedAfter === undefined ? {} : { openedAfter: window.openedAfter }),
      ...(window.closedAt === undefined ? {} : { closedAt: window.closedAt }),
      ...(row.containedAt === null ? {} : { containedAt: row.containedAt.toISOString() }),
      ...(row.facts.measuresTaken === undefined ? {} : { measuresTaken: row.facts.measuresTaken }),
      ...(row.facts.adviceToIndividuals === undefined
        ? {}
        : { adviceToIndividuals: row.facts.adviceToIndividuals }),
      ...(row.facts.contactPoint === undefined ? {} : { contactPoint: row.facts.contactPoint }),
    });
  }
  return { findings: [...byIncident.values()] };
}

/** The reason a mail failed, in words that cannot hold the address (relays quote it in their replies). */
function mailFailure(error: unknown): string {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as {
    responseCode?: number;
    code?: string;
  };
  if (failure.responseCode !== undefined) return `SMTP ${failure.responseCode}`;
  return sanitizeText(failure.code ?? 'no answer', 40);
}

/**
 * Token rows are written in batches after the response, and each link is mailed only once its row
 * is committed, so a link never points at a token the database does not know.
 */
class LinkSender {
  private pending: LinkRequest[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly sending = new Set<Promise<unknown>>();
  dropped = 0;

  constructor(
    private readonly db: SqlClient,
    private readonly transport: Transporter,
    private readonly from: string,
    private readonly origin: string,
    private readonly log: (line: string) => void,
  ) {}

  enqueue(request: LinkRequest): void {
    if (this.pending.length >= maxPending) {
      this.dropped++;
      return;
    }
    this.pending.push(request);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flushing = this.flushing.then(() => this.flush());
      }, tokenFlushMs);
    }
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, tokenBatch);
      const expiresAt = new Date(Date.now() + linkTtlMs);
      const params: unknown[] = [expiresAt];
      const tuples = batch.map((request) => {
        params.push(request.tokenHash, request.contactHash);
        return `($${params.length - 1}, $${params.length}, $1)`;
      });
      try {
        await this.db.query(
          `insert into lookup_token (token_hash, contact_hash, expires_at) values ${tuples.join(', ')}`,
          params,
        );
      } catch (error) {
        this.log(
          `lookup: could not store ${batch.length} link tokens (${sanitizeText(error instanceof Error ? error.message : String(error), 200)}); no links mailed for them`,
        );
        continue;
      }
      for (const request of batch) this.mail(request);
    }
  }

  private mail(request: LinkRequest): void {
    const sending = this.transport
      .sendMail({
        from: this.from,
        to: request.to,
        subject: 'Your one-time link: was your data exposed?',
        text: [
          'Someone, hopefully you, asked whether this email address is among the people affected by a',
          'security incident we are handling. It is. This link shows which of your data was exposed and',
          'what you can do:',
          '',
          request.link,
          '',
          `The link leads to ${this.origin}, works once and expires in 24 hours.`,
          'We never ask for your password or payment details by email.',
          'If you did not ask, you can ignore this message.',
          '',
        ].join('\n'),
        headers: { 'Auto-Submitted': 'auto-generated' },
      })
      .then(
        () => undefined,
        (error: unknown) => {
          this.log(`lookup: a link mail failed (${mailFailure(error)}); the person can ask again`);
        },
      )
      .finally(() => this.sending.delete(sending));
    this.sending.add(sending);
  }

  /** Stores and mails what is queued; waits for mails in flight up to `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }
    await this.flushing;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.sending]),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}

function defaultBaseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Validates `--base-url`: absolute http(s), no query, fragment or credentials. */
export function parseBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `--base-url "${sanitizeText(text, 100)}" is not a URL (e.g. https://lookup.example.com)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UsageError('--base-url must be http(s)');
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new UsageError('--base-url must not hold credentials, a query or a fragment');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Starts the "Am I affected?" page on its own HTTP server: loads the index of affected addresses,
 * refreshes it every `refreshMs`, and mails links through a pooled SMTP transport.
 */
export async function startLookupServer(options: LookupServerOptions): Promise<LookupServer> {
  const listen = parseListenAddress(options.listen);
  if (!isLoopbackHost(listen.host) && options.public !== true) {
    throw new UsageError(
      `refusing to listen on ${listen.host}: the page would be reachable from other machines; add --public if that is what you want`,
    );
  }
  if (options.public === true && options.baseUrl === undefined) {
    throw new UsageError(
      '--public needs --base-url: the address people use, which the mailed links point to',
    );
  }
  const log =
    options.log ??
    ((line: string): void => {
      process.stderr.write(`${line}\n`);
    });
  const db = options.store.db;
  const keys = options.store.peopleKeys();
  const contacts = new ContactIndex();
  await contacts.refresh(db);
  await db.query(`delete from lookup_token where expires_at < now() - interval '1 day'`);

  const smtpTimeoutMs = options.smtpTimeoutMs ?? 10_000;
  const transport = createTransport({
    url: options.smtp,
    pool: true,
    maxConnections: mailConnections,
    connectionTimeout: smtpTimeoutMs,
    greetingTimeout: smtpTimeoutMs,
    socketTimeout: 2 * smtpTimeoutMs,
    dnsTimeout: smtpTimeoutMs,
    maxRequeues: 1,
  });

  const server = createServer();
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = headersTimeoutMs;
  server.keepAliveTimeout = keepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    transport.close();
    throw new UsageError(
      `cannot listen on ${options.listen}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  const { port } = server.address() as AddressInfo;
  const url = defaultBaseUrl(listen.host, port);
  const baseUrl = options.baseUrl === undefined ? url : parseBaseUrl(options.baseUrl);
  const links = new LinkSender(db, transport, options.from, new URL(baseUrl).origin, log);

  const app = createLookupApp({
    keys,
    baseUrl,
    contacts,
    sendLink: (request) => {
      links.enqueue(request);
    },
    redeem: (tokenHash) => redeemLookupToken(db, tokenHash),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    log,
  });
  const listener = getRequestListener(app.fetch);
  // The listener answers every error itself (app.onError); its promise carries nothing more.
  server.on('request', (incoming, outgoing) => {
    void listener(incoming, outgoing);
  });

  let refreshing = false;
  let lastCleanup = Date.now();
  const refresh = async (): Promise<void> => {
    if (await contacts.refresh(db)) {
      log(`lookup: ${contacts.size} addresses of ${contacts.openIncidents} open incidents`);
    }
    if (Date.now() - lastCleanup > hourMs) {
      lastCleanup = Date.now();
      await db.query(`delete from lookup_token where expires_at < now() - interval '1 day'`);
    }
    if (links.dropped > 0) {
      log(`lookup: ${links.dropped} links dropped while the store or mail relay lagged`);
      links.dropped = 0;
    }
  };
  const timer = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    refresh()
      .catch((error: unknown) => {
        log(
          `lookup: index refresh failed: ${sanitizeText(error instanceof Error ? error.message : String(error))}`,
        );
      })
      .finally(() => {
        refreshing = false;
      });
  }, options.refreshMs ?? 10_000);

  log(
    `lookup: "Am I affected?" page on ${url}${baseUrl === url ? '' : ` (links point to ${baseUrl})`}; ` +
      `${contacts.size} addresses of ${contacts.openIncidents} open incidents`,
  );

  return {
    url,
    port,
    get indexed() {
      return contacts.size;
    },
    async close() {
      clearInterval(timer);
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeIdleConnections();
        setTimeout(() => {
          server.closeAllConnections();
        }, 2000).unref();
      });
      await links.drain(3 * smtpTimeoutMs);
      transport.close();
    },
  };
}
