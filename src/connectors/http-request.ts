import { request as httpRequestRaw, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequestRaw } from 'node:https';
import { LimitError } from '../core/errors.js';

export interface HttpRequestOptions {
  /**
   * GET or HEAD: Leakwatch never changes a target (DESIGN.md invariant 1). POST, always with an
   * empty body, exists for one read-only RPC: Kibana's console proxy, which accepts only POST and
   * is asked to forward a GET (`/api/console/proxy?method=GET&path=…`). Nothing else may use it.
   */
  method?: 'GET' | 'HEAD' | 'POST';
  signal: AbortSignal;
  /** Body bytes kept; past this the body is cut and `truncated` is set (or `LimitError` thrown). */
  maxBytes: number;
  /** Throw `LimitError` instead of truncating when the body is larger than `maxBytes`. */
  rejectLarger?: boolean;
  headers?: Record<string, string>;
  /**
   * Chooses the body cap once the status and headers are in (never above `maxBytes`), so a caller
   * can read a whole listing but only the first bytes of what may be a multi-gigabyte dump.
   */
  maxBytesFor?: (status: number, headers: IncomingHttpHeaders) => number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  truncated: boolean;
}

// Headers past this are a hostile or broken server, not a data store.
const maxHeaderBytes = 16 * 1024;

/**
 * One HTTP(S) request with a byte cap on the body, a cap on headers, the target's deadline, and no
 * redirect following (the caller checks scope before following one). TLS certificates are not
 * verified: the question is whether the store answers, not whether its certificate is valid.
 */
export function httpRequest(url: URL, options: HttpRequestOptions): Promise<HttpResponse> {
  const send = url.protocol === 'https:' ? httpsRequestRaw : httpRequestRaw;
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = send(url, {
      method: options.method ?? 'GET',
      signal: options.signal,
      maxHeaderSize: maxHeaderBytes,
      rejectUnauthorized: false,
      agent: false,
      headers: { 'user-agent': 'leakwatch', accept: '*/*', ...options.headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const cap = Math.min(
        options.maxBytes,
        options.maxBytesFor?.(res.statusCode ?? 0, res.headers) ?? options.maxBytes,
      );
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const finish = (): void => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          truncated,
        });
      };
      res.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = cap - size;
        if (chunk.length > room) {
          if (options.rejectLarger === true) {
            req.destroy();
            reject(new LimitError(`response body larger than ${cap} bytes`));
            return;
          }
          chunks.push(chunk.subarray(0, room));
          size += room;
          truncated = true;
          req.destroy();
          finish();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', finish);
      res.on('error', (error) => {
        if (!truncated) reject(error);
      });
    });
    req.end();
  });
}

/** Parses a JSON body, or returns `undefined` when it is not JSON. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
