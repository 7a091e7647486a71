import type { HttpBindings } from '@hono/node-server';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { setCookie } from 'hono/cookie';
import type { Category } from '../core/category.js';
import { sanitizeText } from '../core/redact.js';
import { keyedHash, normalizeEmail, type PeopleKeys } from '../core/sealed-text.js';
import { categoryWords, orderCategories } from '../incident/category-words.js';
import { adviceFor } from '../incident/notice.js';
import { escapeHtml } from '../incident/notice-render.js';
import { RateLimiter } from './rate-limiter.js';

/** One open incident as the person it is about may see it: their categories, dates, what was done. */
export interface LookupFinding {
  categories: Category[];
  /** The exposure began after this (last protected probe), when known. */
  openedAfter?: string;
  /** First probe that found the data open. */
  openedAt: string;
  /** First probe that found it protected again; absent while still open. */
  closedAt?: string;
  containedAt?: string;
  measuresTaken?: string;
  adviceToIndividuals?: string;
  contactPoint?: string;
}

/** `gone`: the token existed but was used or expired; `unknown`: never issued. */
export type RedeemResult = { findings: LookupFinding[] } | 'gone' | 'unknown';

/** What the lookup endpoint hands on for an affected address; the link goes to `to` and nowhere else. */
export interface LinkRequest {
  to: string;
  link: string;
  tokenHash: string;
  contactHash: string;
}

export interface LookupLimits {
  /** Per client address, lookups (POST) per minute. Default 10. */
  lookupsPerMinute: number;
  /** Per email address (affected or not, so the limit itself tells nothing), lookups per hour. Default 3. */
  mailsPerHour: number;
}

export interface LookupAppDeps {
  keys: PeopleKeys;
  /** Where people reach the page, `https://…` in production: links, the expected Origin, Secure cookies, HSTS. */
  baseUrl: string;
  /** Contact hashes of people in open incidents (kept in memory, refreshed elsewhere). */
  contacts: { has(contactHash: string): boolean };
  /** Stores the token and mails the link, later: must not throw and is never awaited. */
  sendLink(request: LinkRequest): void;
  /** Marks the token used (one-time) and returns what the page shows. */
  redeem(tokenHash: string): Promise<RedeemResult>;
  limits?: Partial<LookupLimits>;
  /** stderr lines; never an address. */
  log?: (line: string) => void;
  now?: () => number;
}

export const linkTtlMs = 24 * 3_600_000;
/** A form with one address fits in far less; anything larger is not our form. */
export const maxLookupBodyBytes = 4096;
const tokenPattern = /^[A-Za-z0-9_-]{43}$/;
// The same shape check as the alert email channel: enough to catch a typo; the mailbox has the last word.
const plainAddress = /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/;

/** The token's stored form: only its hash is kept, so a copy of the database opens no result page. */
export function lookupTokenHash(keys: PeopleKeys, token: string): string {
  return keyedHash(keys.hmacKey, `lookup-token:${token}`);
}

/** 32-byte tokens cut from a pooled CSPRNG buffer: one system call per 256 tokens, never reused. */
function tokenSource(): () => string {
  const size = 32;
  let pool = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset + size > pool.length) {
      pool = randomBytes(size * 256);
      offset = 0;
    }
    const token = pool.toString('base64url', offset, offset + size);
    offset += size;
    return token;
  };
}

const css = [
  'body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}',
  'h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}',
  'label{display:block;font-weight:600;margin-bottom:.3rem}',
  'input[type=email]{width:100%;max-width:24rem;padding:.5rem;font-size:1rem}',
  'button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}',
  '.note{color:#555;font-size:.9rem}.error{color:#a00}',
].join('');
const styleHash = createHash('sha256').update(css).digest('base64');

function pageHtml(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${css}</style></head>
<body>
${body}
</body></html>
`;
}

function formHtml(csrfToken: string, error?: string): string {
  return pageHtml(
    'Am I affected?',
    `<h1>Am I affected?</h1>
<p>Enter your email address. If it is in the data of a security incident we are handling, we send a one-time
link to that address, and only there. The link shows which of your data was exposed and what you can do.</p>
<p class="note">This page gives everyone the same answer, so nobody can use it to find out about someone else.</p>
${error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`}
<form method="post" action="/lookup">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254">
<input type="hidden" name="csrf" value="${csrfToken}">
<button type="submit">Send me the link</button>
</form>`,
  );
}

const sentPage = pageHtml(
  'Check your email',
  `<h1>Check your email</h1>
<p>If this address is in our records, we have sent a one-time link to it. It expires in 24 hours.</p>
<p class="note">If nothing arrives within a few minutes, check your spam folder. The message comes only to the
address you entered. We never ask for your password by email.</p>
<p><a href="/">Back</a></p>`,
);
const tooManyPage = pageHtml(
  'Too many requests',
  `<h1>Too many requests</h1>
<p>Please wait a while and try again.</p>`,
);
const expiredFormPage = pageHtml(
  'Please try again',
  `<h1>Please try again</h1>
<p>The form has expired or was not sent from this site. <a href="/">Open it again</a> and resend it.</p>`,
);
const notFoundPage = pageHtml(
  'Not found',
  `<h1>This link does not work</h1>
<p>Links work once and for 24 hours. You can <a href="/">ask for a new one</a>.</p>`,
);
const errorPage = pageHtml(
  'Something went wrong',
  `<h1>Something went wrong</h1>
<p>Please try again later.</p>`,
);

function formatMoment(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function findingHtml(finding: LookupFinding, index: number, count: number): string {
  const categories = orderCategories(finding.categories);
  const from = formatMoment(finding.openedAfter ?? finding.openedAt);
  const until = finding.closedAt === undefined ? undefined : formatMoment(finding.closedAt);
  const done: string[] = [];
  if (finding.closedAt !== undefined || finding.containedAt !== undefined) {
    done.push(
      `We protected the database again on ${formatMoment(finding.containedAt ?? finding.closedAt ?? '')}.`,
    );
  } else {
    done.push('We are protecting the database now.');
  }
  if (finding.measuresTaken !== undefined) done.push(finding.measuresTaken);
  const advice = [
    ...adviceFor(categories),
    ...(finding.adviceToIndividuals === undefined ? [] : [finding.adviceToIndividuals]),
  ];
  const list = (items: readonly string[]): string =>
    `<ul>${items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`;
  return `${count > 1 ? `<h2>Incident ${index + 1} of ${count}</h2>` : ''}
<h2>What happened</h2>
<p>${
    until === undefined
      ? `Since ${from}${finding.openedAfter === undefined ? ' or earlier' : ''}, a database holding data about you could be read without a password.`
      : `Between ${from}${finding.openedAfter === undefined ? ' (or earlier)' : ''} and ${until}, a database holding data about you could be read without a password.`
  }</p>
<h2>Your data that was exposed</h2>
${list(categories.map((category) => categoryWords[category]))}
<h2>What we did</h2>
${list(done)}
<h2>What you should do</h2>
${list(advice)}
${finding.contactPoint === undefined ? '' : `<p>Questions: ${escapeHtml(finding.contactPoint)}</p>`}`;
}

function resultPage(findings: readonly LookupFinding[]): string {
  if (findings.length === 0) {
    return pageHtml(
      'Your result',
      `<h1>Your result</h1>
<p>We found no open incident involving this address any more. If you received a message about an incident,
it has been closed.</p>`,
    );
  }
  return pageHtml(
    'Your result',
    `<h1>Your data was involved in a security incident</h1>
${findings.map((finding, i) => findingHtml(finding, i, findings.length)).join('\n')}
<p class="note">This page was shown once and cannot be opened again. Save or print it if you want to keep it.</p>`,
  );
}

function sameBytes(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

type LookupEnv = { Bindings: Partial<HttpBindings> };

/**
 * The request body as text, or undefined past `maxLookupBodyBytes`. On node it reads the socket's
 * stream directly: going through `Request.text()` builds a web stream per request, a large share
 * of a lookup's cost.
 */
/**
 * A request header; on node read from the parsed message, since building the web `Headers` object
 * for every request costs more than the rest of a lookup. Duplicate cookie headers are joined.
 */
function header(
  c: Context<LookupEnv>,
  name: 'content-length' | 'host' | 'origin' | 'referer' | 'cookie',
): string | undefined {
  const incoming = (c.env as LookupEnv['Bindings'] | undefined)?.incoming;
  if (!(incoming instanceof Readable)) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join('; ') : value;
}

/** One cookie's value, without parsing the others. */
function cookie(c: Context<LookupEnv>, name: string): string | undefined {
  const text = header(c, 'cookie');
  if (text === undefined) return undefined;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

async function readBody(c: Context<LookupEnv>): Promise<string | undefined> {
  const declared = Number(header(c, 'content-length') ?? '0');
  if (declared > maxLookupBodyBytes) return undefined;
  const incoming = (c.env as LookupEnv['Bindings'] | undefined)?.incoming;
  if (!(incoming instanceof Readable)) {
    const text = await c.req.text();
    return Buffer.byteLength(text) > maxLookupBodyBytes ? undefined : text;
  }
  const stream = incoming;
  return new Promise<string | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      stream.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxLookupBodyBytes) {
        // Not destroyed: that would cut the socket before the 413 goes out. Node discards the
        // rest, and the answer closes the connection.
        done();
        stream.pause();
        resolve(undefined);
      } else chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(
        chunks.length === 1 ? (chunks[0]?.toString('utf8') ?? '') : Buffer.concat(chunks).toString('utf8'),
      );
    };
    const onError = (error: Error): void => {
      done();
      reject(error);
    };
    stream.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/**
 * The "Am I affected?" page (issue 5): a form, one POST that answers everyone alike, and one-time
 * result links. Privacy is the point: the response to a lookup never depends on whether the address
 * is affected (same page, status and work; the link leaves by mail, later), rate limits apply to
 * every address alike, and a result page shows only the categories of its own person.
 */
export function createLookupApp(deps: LookupAppDeps): Hono<LookupEnv> {
  const base = new URL(deps.baseUrl);
  const https = base.protocol === 'https:';
  const linkPrefix = `${deps.baseUrl.replace(/\/+$/, '')}/r/`;
  const now = deps.now ?? Date.now;
  const log =
    deps.log ??
    ((line: string): void => {
      process.stderr.write(`${line}\n`);
    });
  const perClient = new RateLimiter(deps.limits?.lookupsPerMinute ?? 10, 60_000);
  const perAddress = new RateLimiter(deps.limits?.mailsPerHour ?? 3, 3_600_000);
  // The __Host- prefix pins the cookie to this host and path, but browsers accept it only over https.
  const cookieName = https ? '__Host-lookup_csrf' : 'lookup_csrf';
  const hmacKey = deps.keys.hmacKey;
  const hash = (text: string): string => keyedHash(hmacKey, text);
  const nextToken = tokenSource();
  const csrfFor = (nonce: string): string => hash(`csrf:${nonce}`);

  const headers: [string, string][] = [
    [
      'Content-Security-Policy',
      `default-src 'none'; style-src 'sha256-${styleHash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    ],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Cache-Control', 'no-store'],
    [
      'Permissions-Policy',
      'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()',
    ],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
    ...(https ? [['Strict-Transport-Security', 'max-age=31536000'] as [string, string]] : []),
  ];

  const app = new Hono<LookupEnv>();

  app.use(async (c, next) => {
    for (const [name, value] of headers) c.header(name, value);
    // Result links carry their token in the path: no page may pass its URL on. The form page is the
    // exception (below) because under `no-referrer` browsers send `Origin: null` with its POST.
    c.header('Referrer-Policy', 'no-referrer');
    await next();
  });

  // Without a node socket (app.request in tests, other runtimes) all clients share one bucket.
  const clientAddress = (c: Context<LookupEnv>): string =>
    (c.env as LookupEnv['Bindings'] | undefined)?.incoming?.socket.remoteAddress ?? 'unknown';

  const tooMany = (c: Context<LookupEnv>, waitMs: number): Response => {
    c.header('Retry-After', String(Math.max(1, Math.ceil(waitMs / 1000))));
    return c.html(tooManyPage, 429);
  };

  const issueForm = (c: Context<LookupEnv>, status: 200 | 400, error?: string): Response => {
    let nonce = cookie(c, cookieName);
    if (nonce === undefined || !tokenPattern.test(nonce)) {
      nonce = randomBytes(32).toString('base64url');
      setCookie(c, cookieName, nonce, {
        path: '/',
        httpOnly: true,
        sameSite: 'Strict',
        secure: https,
        maxAge: 2 * 3600,
      });
    }
    c.header('Referrer-Policy', 'same-origin');
    return c.html(formHtml(csrfFor(nonce), error), status);
  };

  /** A cross-site POST shows its own origin (or `null`); without Origin, Referer must name us. */
  const fromThisSite = (c: Context<LookupEnv>): boolean => {
    const host = header(c, 'host');
    const allowed = new Set<string>([base.origin]);
    if (host !== undefined) allowed.add(`${https ? 'https' : 'http'}://${host}`);
    const origin = header(c, 'origin');
    if (origin !== undefined) return allowed.has(origin);
    const referer = header(c, 'referer');
    if (referer === undefined) return false;
    try {
      return allowed.has(new URL(referer).origin);
    } catch {
      return false;
    }
  };

  app.get('/', (c) => issueForm(c, 200));

  const tooLarge = (c: Context<LookupEnv>): Response => {
    c.header('Connection', 'close');
    return c.html(pageHtml('Too large', '<h1>Request too large</h1>'), 413);
  };

  app.post('/lookup', async (c) => {
    const t = now();
    const clientWait = perClient.take(clientAddress(c), t);
    if (clientWait > 0) return tooMany(c, clientWait);
    const body = await readBody(c);
    if (body === undefined) return tooLarge(c);
    if (!fromThisSite(c)) return c.html(expiredFormPage, 403);
    const form = new URLSearchParams(body);
    const nonce = cookie(c, cookieName);
    const token = form.get('csrf');
    if (nonce === undefined || token === null || !sameBytes(csrfFor(nonce), token)) {
      return c.html(expiredFormPage, 403);
    }
    const address = (form.get('email') ?? '').trim();
    if (address.length > 254 || !plainAddress.test(address)) {
      return issueForm(c, 400, 'Please enter an email address, like name@example.com.');
    }
    const contactHash = hash(`email:${normalizeEmail(address)}`);
    const addressWait = perAddress.take(contactHash, t);
    if (addressWait > 0) return tooMany(c, addressWait);
    // The token is made for every lookup, affected or not, so both take the same work.
    const linkToken = nextToken();
    const tokenHash = hash(`lookup-token:${linkToken}`);
    if (deps.contacts.has(contactHash)) {
      deps.sendLink({ to: address, link: `${linkPrefix}${linkToken}`, tokenHash, contactHash });
    }
    return c.html(sentPage, 200);
  });

  app.get('/r/:token', async (c) => {
    const token = c.req.param('token');
    if (!tokenPattern.test(token)) return c.html(notFoundPage, 404);
    const result = await deps.redeem(lookupTokenHash(deps.keys, token));
    if (result === 'unknown') return c.html(notFoundPage, 404);
    if (result === 'gone') return c.html(notFoundPage, 410);
    return c.html(resultPage(result.findings), 200);
  });

  app.notFound((c) => c.html(notFoundPage, 404));
  app.onError((error, c) => {
    log(`lookup: internal error: ${error.name}: ${sanitizeText(error.message, 200)}`);
    return c.html(errorPage, 500);
  });

  return app;
}
