import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.js';
import { parseTarget } from '../core/parse-target.js';
import { expandCidr, expandTargets } from './expand-targets.js';
import { Scope } from './scope.js';

// CIDR expansion and scope are pure: these tests send no packets (the networks named below are
// only ever expanded into strings, never contacted).

describe('expandCidr', () => {
  it('leaves out network and broadcast addresses of IPv4 networks larger than /31', () => {
    expect(expandCidr('10.1.2.0', 30, 4096)).toEqual(['10.1.2.1', '10.1.2.2']);
    expect(expandCidr('10.1.2.7', 29, 4096)).toEqual([
      '10.1.2.1',
      '10.1.2.2',
      '10.1.2.3',
      '10.1.2.4',
      '10.1.2.5',
      '10.1.2.6',
    ]);
  });

  it('keeps both addresses of a /31 and the one of a /32', () => {
    expect(expandCidr('192.168.7.4', 31, 4096)).toEqual(['192.168.7.4', '192.168.7.5']);
    expect(expandCidr('172.16.0.9', 32, 4096)).toEqual(['172.16.0.9']);
  });

  it('expands IPv6 networks', () => {
    expect(expandCidr('fd00::10', 126, 4096)).toEqual([
      'fd00:0:0:0:0:0:0:10',
      'fd00:0:0:0:0:0:0:11',
      'fd00:0:0:0:0:0:0:12',
      'fd00:0:0:0:0:0:0:13',
    ]);
  });

  it('refuses networks larger than the cap, saying how to proceed', () => {
    expect(() => expandCidr('10.0.0.0', 8, 4096)).toThrow(UsageError);
    expect(() => expandCidr('10.0.0.0', 8, 4096)).toThrow(/16777216 addresses, more than --max-hosts 4096/);
    expect(expandCidr('10.0.0.0', 20, 4096)).toHaveLength(4094);
  });
});

describe('expandTargets with --exclude', () => {
  it('leaves out excluded addresses and networks without resolving anything', () => {
    const specs = ['10.9.9.0/29', 'redis://10.9.9.100:6379', '10.9.8.1'].map((t) => parseTarget(t));
    const scope = new Scope(specs, ['10.9.9.2', '10.9.9.4/31', '10.9.8.1']);
    const { plans, excluded } = expandTargets(specs, {
      maxHosts: 4096,
      isExcluded: (a) => scope.isExcludedAddress(a),
    });
    expect(plans.map((p) => p.host)).toEqual(['10.9.9.1', '10.9.9.3', '10.9.9.6', '10.9.9.100']);
    expect(excluded).toBe(4);
    expect(plans.map((p) => p.discover)).toEqual([true, true, true, false]);
    expect(plans[3]?.protocol).toBe('redis');
  });

  it('caps the total across targets', () => {
    const specs = ['10.0.0.0/24', '10.0.1.0/24'].map((t) => parseTarget(t));
    expect(() => expandTargets(specs, { maxHosts: 300, isExcluded: () => false })).toThrow(/--max-hosts 300/);
  });
});

describe('Scope.check', () => {
  const specs = ['127.0.0.0/29', 'redis://127.0.1.1', 'localhost'].map((t) => parseTarget(t));
  const scope = new Scope(specs, ['127.0.0.3', '127.0.0.6/31']);

  it('allows addresses inside the targets', async () => {
    await expect(scope.check('127.0.0.1', 80)).resolves.toBeUndefined();
    await expect(scope.check('127.0.1.1', 6379)).resolves.toBeUndefined();
    await expect(scope.check('localhost', 80)).resolves.toBeUndefined();
  });

  it('refuses excluded addresses and addresses outside the targets (e.g. a redirect)', async () => {
    await expect(scope.check('127.0.0.3', 80)).rejects.toThrow(/excluded/);
    await expect(scope.check('127.0.0.7', 80)).rejects.toThrow(/excluded/);
    await expect(scope.check('127.0.0.9', 80)).rejects.toThrow(/outside the scan's targets/);
    await expect(scope.check('10.0.0.1', 9092)).rejects.toThrow(/outside/);
  });

  it('rejects malformed --exclude entries', () => {
    expect(() => new Scope([], ['10.0.0.0/99'])).toThrow(/invalid CIDR/);
  });
});
