import { isIP } from 'node:net';
import { UsageError } from './errors.js';
import { isProtocol, plannedProtocols, protocolAliases, protocols, type Protocol } from './protocol.js';
import { redactTarget, userinfoEnd } from './redact.js';

/** A target string as the user wrote it, parsed (DESIGN.md "Target strings"). */
export interface TargetSpec {
  /** The input with credentials removed: the only form that may be printed. */
  display: string;
  /** Absent for a bare `host` or `host:port`: try every known protocol. */
  protocol?: Protocol;
  /** Without IPv6 brackets. */
  host: string;
  port?: number;
  /** Protocol-specific: a database name, a Redis db number, an index, an HTTP path. */
  path?: string;
  username?: string;
  password?: string;
  /** Set for a bare CIDR such as `127.0.0.0/30`: the host is the network address. */
  prefixLength?: number;
}

function parsePort(text: string, input: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) {
    throw new UsageError(`invalid port "${text}" in target "${redactTarget(input)}": use 1-65535`);
  }
  return port;
}

/** Splits `host[:port]` where host may be `[v6]`, a bare v6 address, a name or a v4 address. */
function splitHostPort(text: string, input: string): { host: string; port?: number } {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) throw new UsageError(`unclosed "[" in target "${redactTarget(input)}"`);
    const host = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest === '') return { host };
    if (!rest.startsWith(':'))
      throw new UsageError(`unexpected "${rest}" after "]" in "${redactTarget(input)}"`);
    return { host, port: parsePort(rest.slice(1), input) };
  }
  // More than one colon and no brackets: a bare IPv6 address without a port.
  if (text.indexOf(':') !== text.lastIndexOf(':')) return { host: text };
  const colon = text.indexOf(':');
  if (colon < 0) return { host: text };
  return { host: text.slice(0, colon), port: parsePort(text.slice(colon + 1), input) };
}

function checkHost(host: string, input: string): void {
  if (host === '') throw new UsageError(`target "${redactTarget(input)}" has no host`);
  if (
    isIP(host) === 0 &&
    !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(host)
  ) {
    throw new UsageError(
      `"${host}" in target "${redactTarget(input)}" is neither an IP address nor a host name`,
    );
  }
}

function resolveScheme(scheme: string, input: string): Protocol {
  const name = scheme.toLowerCase();
  const protocol = protocolAliases[name] ?? name;
  if (isProtocol(protocol)) return protocol;
  if (plannedProtocols.includes(name)) {
    throw new UsageError(`protocol "${name}" in "${redactTarget(input)}" is not supported yet`);
  }
  throw new UsageError(
    `unknown protocol "${name}" in "${redactTarget(input)}": use one of ${protocols.join(', ')}, or a bare host`,
  );
}

/**
 * Parses `PROTOCOL://[user[:password]@]host[:port][/path]`, a bare `host`, `host:port`, `[v6]:port`,
 * or a bare CIDR (`127.0.0.0/30`, `::1/128`). Throws {@link UsageError} with what to fix.
 */
export function parseTarget(input: string): TargetSpec {
  const text = input.trim();
  if (text === '') throw new UsageError('empty target');
  const display = redactTarget(text);
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(text);
  if (!schemeMatch) {
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(text);
    if (cidr?.[1] !== undefined && cidr[2] !== undefined) {
      const family = isIP(cidr[1]);
      const prefixLength = Number(cidr[2]);
      if (family === 0) throw new UsageError(`CIDR "${text}" needs an IP address before the "/"`);
      if (prefixLength > (family === 4 ? 32 : 128))
        throw new UsageError(`prefix length too long in "${text}"`);
      return { display, host: cidr[1], prefixLength };
    }
    if (text.includes('/') || text.includes('@')) {
      throw new UsageError(`target "${display}" needs a protocol, e.g. redis://${display}`);
    }
    const { host, port } = splitHostPort(text, text);
    checkHost(host, text);
    return port === undefined ? { display, host } : { display, host, port };
  }
  const [, scheme = '', rest = ''] = schemeMatch;
  const protocol = resolveScheme(scheme, text);
  const at = userinfoEnd(rest);
  const afterUserinfo = rest.slice(at + 1);
  const slash = afterUserinfo.indexOf('/');
  const hostPort = slash < 0 ? afterUserinfo : afterUserinfo.slice(0, slash);
  const path = slash < 0 ? '' : afterUserinfo.slice(slash + 1);
  const spec: TargetSpec = { display, protocol, host: '' };
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    const user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
    if (user !== '') spec.username = user;
    if (colon >= 0) spec.password = decodeURIComponent(userinfo.slice(colon + 1));
  }
  const { host, port } = splitHostPort(hostPort, text);
  checkHost(host, text);
  spec.host = host;
  if (port !== undefined) spec.port = port;
  if (path !== '') spec.path = path;
  return spec;
}

/** Formats host and port for a URL or a display string, bracketing IPv6. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
