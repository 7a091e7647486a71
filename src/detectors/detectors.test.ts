import { describe, expect, it } from 'vitest';
import { categorySensitivity } from '../core/category.js';
import type { Category } from '../core/category.js';
import type { Scalar } from './detector.js';
import { detectors } from './registry.js';
import { fieldContext } from './split-field-words.js';
import { mayMatchField } from './may-match-field.js';

const kebab = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

describe('detector registry', () => {
  it('has unique kebab-case ids', () => {
    const ids = detectors.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(kebab);
  });

  it('covers every category of TAXONOMY.md', () => {
    const covered = new Set<Category>(detectors.map((d) => d.category));
    const missing = (Object.keys(categorySensitivity) as Category[]).filter((c) => !covered.has(c));
    expect(missing).toEqual([]);
  });

  it('gives every detector at least three match and three no-match examples', () => {
    for (const d of detectors) {
      expect(d.examples.match.length, d.id).toBeGreaterThanOrEqual(3);
      expect(d.examples.noMatch.length, d.id).toBeGreaterThanOrEqual(3);
    }
  });
});

describe.each(detectors.map((d) => [d.id, d] as const))('%s', (_id, detector) => {
  it.each(detector.examples.match.map((e) => [e.path, e.value] as const))(
    'matches %s = %j',
    (path, value) => {
      const field = fieldContext(path);
      expect(mayMatchField(detector, field)).toBe(true);
      const c = detector.match(value, field);
      expect(c).toBeGreaterThanOrEqual(0.5);
      expect(c).toBeLessThanOrEqual(1);
    },
  );

  it.each(detector.examples.noMatch.map((e) => [e.path, e.value] as const))(
    'does not match %s = %j',
    (path, value) => {
      expect(detector.match(value, fieldContext(path))).toBeLessThan(0.5);
    },
  );
});

describe('hard cases across detectors', () => {
  /** Categories (confidence >= 0.5) that the registry assigns to one value. */
  const categoriesOf = (path: string, value: Scalar): Category[] => {
    const field = fieldContext(path);
    return [
      ...new Set(
        detectors
          .filter((d) => mayMatchField(d, field) && d.match(value, field) >= 0.5)
          .map((d) => d.category),
      ),
    ];
  };

  it.each([
    ['wifi_ssid', 'NETGEAR42', ['wifi_ssid']],
    ['ssn', '123-45-6789', ['national_id']],
    ['cams[].fw_ver', '4.9.6.156', ['firmware_version']],
    ['cams[].ip', '192.168.1.23', ['ip_address']],
    ['notes', 'contact me at a@b.co or +1 415 555 2671', ['email', 'phone']],
    ['alexa.access_token', 'Atza|IwEBIJx8yQ7oQ0k1n2b3c4d5e6f7g8h9i0jKlMnOpQrStUvWxYz', ['oauth_token']],
    ['user_id', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', ['user_id']],
    ['created_at', 1575417600, []],
    ['order_id', '4111111111111111', []],
    ['cams[].nickname', 'Baby Room', ['device_name']],
    ['cams[].mac', '2C:AA:8E:12:34:56', ['mac_address']],
    ['home.subnet', '192.168.1.0/24', ['network_layout']],
    ['email', 'jane@example.com', ['email']],
    ['username', 'jdoe42', ['username']],
    ['price', 19.99, []],
    ['description', 'A lovely camera for the nursery', []],
    // Hard negatives and hard positives of the labelled corpus (corpus/hard-negatives, free-text).
    ['upstream', '52.94.236.248:443', ['ip_address']],
    ['sku', 'WYZE-CP1-WHT', []],
    ['ap_name', 'AP-3F-EAST', []],
    ['asset_tag', '078-05-1120', []],
    ['dims.height_mm', 110, []],
    ['api.ios_token', 'qTzRkWbNfGxLpAyHvJcMdSeUoKiBtXnZ', ['api_token']],
    ['updated_at', '2019-11-28T09:12:44Z', []],
    ['@timestamp', '2019-11-17T17:52:08.000Z', ['activity_time']],
  ] as const)('%s = %j → %j', (path, value, expected) => {
    expect(categoriesOf(path, value).sort()).toEqual([...expected].sort());
  });
});

describe('adversarial input stays linear', () => {
  const inputs: readonly string[] = [
    'a'.repeat(100_000),
    '@'.repeat(50_000),
    '1'.repeat(100_000),
    'a.'.repeat(50_000),
    '-----BEGIN ' + 'A'.repeat(100_000),
    'a@'.repeat(50_000),
    'a'.repeat(60) + '@' + 'b.'.repeat(50_000),
    ' 1'.repeat(50_000),
    '$2b$'.repeat(25_000),
    'eyJ' + 'a.'.repeat(50_000),
    '1.'.repeat(50_000),
    ':'.repeat(100_000),
    'x@y.' + 'ab-'.repeat(33_000),
    '+1 ' + '5'.repeat(100_000),
    'Atza|' + '='.repeat(100_000),
    '{"type":"service_account","private_key":' + '"'.repeat(60_000),
    '[' + ':'.repeat(100_000) + ']:443',
    '1.1.1.1:' + '4'.repeat(100_000),
    'aB'.repeat(50_000),
  ];
  const paths = [
    'value',
    'password',
    'token',
    'email',
    'address',
    'name',
    'lat',
    'cams[].nickname',
    'ssid',
    'phone',
    'serial',
    'firmware_version',
    'dob',
    'last_login',
    'gateway',
    'upstream',
    '@timestamp',
    'api_token',
    'asset_tag',
  ];

  it('every detector finishes each adversarial value in < 50 ms', () => {
    const slow: string[] = [];
    for (const path of paths) {
      const field = fieldContext(path);
      for (const d of detectors) {
        for (const input of inputs) {
          // Best of three: a garbage-collection pause is not the detector's doing.
          let ms = Infinity;
          for (let run = 0; run < 3 && ms >= 50; run++) {
            const t = performance.now();
            d.match(input, field);
            ms = Math.min(ms, performance.now() - t);
          }
          if (ms >= 50) slow.push(`${d.id} ${path} ${input.slice(0, 12)}… ${ms.toFixed(1)} ms`);
        }
      }
    }
    expect(slow).toEqual([]);
  });
});
