import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ScopeError, UsageError } from '../core/errors.js';
import type { TargetSpec } from '../core/parse-target.js';

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** Parses `HOST`, `IP` or `CIDR` into a rule of `list`; names are kept to be resolved later. */
function addRule(list: BlockList, names: Set<string>, text: string, what: string): void {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  if (slash >= 0) {
    const network = trimmed.slice(0, slash);
    const prefix = Number(trimmed.slice(slash + 1));
    const kind = isIP(network);
    if (kind === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (kind === 4 ? 32 : 128)) {
      throw new UsageError(`invalid CIDR "${trimmed}" in ${what}: use e.g. 127.0.0.0/24`);
    }
    list.addSubnet(network, prefix, family(network));
  } else if (isIP(trimmed) !== 0) {
    list.addAddress(trimmed, family(trimmed));
  } else if (trimmed !== '') {
    names.add(trimmed.toLowerCase());
  }
}

async function resolveAll(host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.map((a) => a.address);
}

/**
 * The scan's scope: what the user named, less what they excluded. The ONLY place that decides
 * whether an address may be contacted (DESIGN.md invariant 2): targets before their first packet,
 * and redirects or addresses a server advertises before they are followed.
 */
export class Scope {
  private readonly included = new BlockList();
  private readonly includedNames = new Set<string>();
  private readonly excluded = new BlockList();
  private readonly excludedNames = new Set<string>();

  constructor(targets: readonly TargetSpec[], excludes: readonly string[]) {
    for (const spec of targets) {
      const rule = spec.prefixLength === undefined ? spec.host : `${spec.host}/${spec.prefixLength}`;
      addRule(this.included, this.includedNames, rule, 'targets');
    }
    for (const text of excludes) addRule(this.excluded, this.excludedNames, text, '--exclude');
  }

  /** True when a literal address or name was excluded (no DNS: used while expanding CIDRs). */
  isExcludedAddress(address: string): boolean {
    if (this.excludedNames.has(address.toLowerCase())) return true;
    return isIP(address) !== 0 && this.excluded.check(address, family(address));
  }

  /**
   * Resolves `host` and throws {@link ScopeError} unless every address it resolves to is inside the
   * named targets and outside `--exclude`.
   */
  async check(host: string, port: number): Promise<void> {
    const name = host.toLowerCase();
    if (this.excludedNames.has(name)) throw new ScopeError(`${host}:${port} is excluded by --exclude`);
    let addresses: string[];
    try {
      addresses = await resolveAll(host);
    } catch (error) {
      throw new ScopeError(`cannot resolve ${host}`, { cause: error });
    }
    const namedTarget = this.includedNames.has(name);
    for (const address of addresses) {
      if (this.excluded.check(address, family(address))) {
        throw new ScopeError(`${host}:${port} (${address}) is excluded by --exclude`);
      }
      if (!namedTarget && !this.included.check(address, family(address))) {
        throw new ScopeError(`${host}:${port} (${address}) is outside the scan's targets; not contacted`);
      }
    }
  }
}
