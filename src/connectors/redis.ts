import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget } from './connector.js';
import { probeFailure } from './network-failure.js';
import { decodeResp, encodeCommand, parseInfo, readRespFrame, RespError, type RespValue } from './resp.js';
import { TcpSession } from './tcp-session.js';

async function command(session: TcpSession, ...args: string[]): Promise<RespValue> {
  const frame = await session.request(encodeCommand(...args), readRespFrame);
  const decoded = decodeResp(frame);
  return decoded === undefined ? null : decoded[0];
}

function authVerdict(error: RespError): ProbeResult | undefined {
  const text = error.message;
  if (text.startsWith('NOAUTH') || text.startsWith('WRONGPASS') || text.includes('Authentication required')) {
    return { status: 'auth-required', detail: sanitizeText(`redis requires a password (${text})`) };
  }
  if (text.startsWith('DENIED')) {
    // Protected mode: no password, but the server refuses non-local clients. Not open to us.
    return { status: 'auth-required', detail: 'redis protected mode refuses remote clients' };
  }
  if (text.startsWith('NOPERM'))
    return { status: 'auth-required', detail: sanitizeText(`redis ACL: ${text}`) };
  return undefined;
}

// `db0:keys=10,expires=0,avg_ttl=0` (INFO keyspace, https://redis.io/docs/latest/commands/info/).
function keyspaceCollections(info: Map<string, string>): CollectionInfo[] {
  const collections: CollectionInfo[] = [];
  for (const [name, value] of info) {
    if (!/^db\d+$/.test(name)) continue;
    const keys = /(?:^|,)keys=(\d+)/.exec(value)?.[1];
    if (keys !== undefined) collections.push({ name, records: Number(keys) });
  }
  return collections;
}

/**
 * Redis over raw RESP (DESIGN.md: no driver, so no `CLIENT SETINFO`, no reconnects). Open when
 * PING and INFO answer without NOAUTH; protected mode and ACL denials are not open.
 */
export const redisConnector = {
  defaultPorts: [6379],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    let session: TcpSession | undefined;
    try {
      session = await TcpSession.open({
        host: target.host,
        port: target.port,
        signal: ctx.signal,
        maxBytes: ctx.maxBytes,
      });
      let passwordNeeded = false;
      if (target.password !== undefined) {
        const auth =
          target.username === undefined
            ? await command(session, 'AUTH', target.password)
            : await command(session, 'AUTH', target.username, target.password);
        // A server with no password answers AUTH with "ERR AUTH <password> called without any
        // password configured": it is open, and the named password was simply not needed.
        passwordNeeded = !(
          auth instanceof RespError && auth.message.includes('without any password configured')
        );
        if (auth instanceof RespError && passwordNeeded) {
          return (
            authVerdict(auth) ?? { status: 'auth-required', detail: 'redis rejected the given credentials' }
          );
        }
      }
      const pong = await command(session, 'PING');
      if (pong instanceof RespError) {
        return (
          authVerdict(pong) ?? { status: 'error', detail: sanitizeText(`redis PING failed: ${pong.message}`) }
        );
      }
      if (pong !== 'PONG') return { status: 'other-protocol', detail: 'answered PING without PONG' };
      const info = await command(session, 'INFO');
      if (info instanceof RespError) {
        return (
          authVerdict(info) ?? { status: 'error', detail: sanitizeText(`redis INFO failed: ${info.message}`) }
        );
      }
      const fields = parseInfo(typeof info === 'string' ? info : '');
      const collections = keyspaceCollections(fields);
      const records = collections.reduce((sum, c) => sum + (c.records ?? 0), 0);
      const usedMemory = Number(fields.get('used_memory'));
      const version = fields.get('redis_version');
      const product = fields.has('valkey_version') ? 'valkey' : 'redis';
      const result: ProbeResult = {
        status: 'open',
        detail: `PING and INFO answered ${passwordNeeded ? 'with the credentials named in the target' : 'without authentication'}; ${records} keys in ${collections.length} databases`,
        server: version === undefined ? { product } : { product, version: sanitizeText(version, 40) },
        size: {
          collections: collections.length,
          records,
          ...(Number.isFinite(usedMemory) ? { bytes: usedMemory } : {}),
        },
        collections,
      };
      if (records === 0) result.indicators = ['empty'];
      return result;
    } catch (error) {
      return probeFailure(error, ctx);
    } finally {
      session?.close();
    }
  },
} satisfies Connector;
