import { isIP } from 'node:net';
import { UsageError } from '../core/errors.js';
import type { TargetSpec } from '../core/parse-target.js';
import type { Protocol } from '../core/protocol.js';

/** One host to probe and how: an explicit protocol, or every protocol (on a port or their defaults). */
export interface HostPlan {
  spec: TargetSpec;
  host: string;
  /** True when the host came from a bare target (name, address or CIDR), so every protocol is tried. */
  discover: boolean;
  protocol?: Protocol;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function ipv6ToBigInt(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const parse = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, group) => (n << 16n) + BigInt(parseInt(group, 16)), 0n);
}

function bigIntToIpv6(value: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':');
}

/**
 * Lists the addresses of a CIDR without sending anything. IPv4 networks larger than /31 leave out
 * the network and broadcast addresses, as nmap does. Throws when the network has more than
 * `maxHosts` addresses, so a typo such as /8 cannot start a scan of 16 million hosts.
 */
export function expandCidr(network: string, prefixLength: number, maxHosts: number): string[] {
  const kind = isIP(network);
  const bits = kind === 4 ? 32 : 128;
  const count = 2n ** BigInt(bits - prefixLength);
  if (count > BigInt(maxHosts)) {
    throw new UsageError(
      `${network}/${prefixLength} has ${count} addresses, more than --max-hosts ${maxHosts}; narrow it or raise --max-hosts`,
    );
  }
  const size = Number(count);
  if (kind === 4) {
    const base = ipv4ToNumber(network) - (ipv4ToNumber(network) % size);
    const skipEnds = prefixLength < 31;
    const out: string[] = [];
    for (let i = skipEnds ? 1 : 0; i < (skipEnds ? size - 1 : size); i++) out.push(numberToIpv4(base + i));
    return out;
  }
  const base = (ipv6ToBigInt(network) / count) * count;
  return Array.from({ length: size }, (_, i) => bigIntToIpv6(base + BigInt(i)));
}

/** Turns parsed targets into host plans, expanding CIDRs and leaving out excluded addresses. */
export function expandTargets(
  specs: readonly TargetSpec[],
  options: { maxHosts: number; isExcluded: (address: string) => boolean },
): { plans: HostPlan[]; excluded: number } {
  const plans: HostPlan[] = [];
  let excluded = 0;
  for (const spec of specs) {
    const hosts =
      spec.prefixLength === undefined
        ? [spec.host]
        : expandCidr(spec.host, spec.prefixLength, options.maxHosts);
    for (const host of hosts) {
      if (options.isExcluded(host)) {
        excluded++;
        continue;
      }
      const plan: HostPlan = { spec, host, discover: spec.protocol === undefined };
      if (spec.protocol !== undefined) plan.protocol = spec.protocol;
      plans.push(plan);
      if (plans.length > options.maxHosts) {
        throw new UsageError(
          `more than --max-hosts ${options.maxHosts} hosts in the targets; raise --max-hosts`,
        );
      }
    }
  }
  return { plans, excluded };
}
