import { describe, expect, it } from 'vitest';
import { categorySensitivity, type Category } from '../core/category.js';
import type { Scalar } from '../detectors/detector.js';
import { maskValue } from './mask-value.js';

const samples: Record<Category, Scalar[]> = {
  email: ['john.doe@example.com', 'a@b.co', 'weird@@x'],
  username: ['johnny_b_goode', 'ab'],
  person_name: ['Johanna Smith', 'Li'],
  phone: ['+1 415 555 2671', '(030) 1234 5678', 4155552671],
  postal_address: ['221B Baker Street, London NW1 6XE'],
  date_of_birth: ['1984-07-14', 458611200],
  national_id: ['078-05-1120', '123456789'],
  user_id: ['7f0c1e3a-55aa-4c1e-9e2d-2a7a3e4d9b10', 100234],
  password: ['hunter2hunter2', 'x'],
  password_hash: [
    '$2b$12$KIXQJ1y5sP0l7m3V6Wf3.eG0u1Qk1W2o7nRrI5fQ1rZ6o2y8hH0eK',
    '5f4dcc3b5aa765d61d8327deb882cf99',
  ],
  api_token: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
  oauth_token: [`Atza|${'IwEBIA'.repeat(60)}`, `ya29.${'a0AfH6SM'.repeat(20)}`, `gho_${'x'.repeat(36)}`],
  jwt: ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
  private_key: [
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\n-----END RSA PRIVATE KEY-----',
  ],
  cloud_credential: [
    'AKIAIOSFODNN7EXAMPLE',
    'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    'xoxb-123456789012-abcdefghijkl',
  ],
  payment_card: ['4111 1111 1111 1111', '5500005555555559'],
  bank_account: ['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432'],
  wifi_ssid: ['Smith Family WiFi', 'NETGEAR42'],
  ip_address: ['203.0.113.195', '2001:db8:85a3::8a2e:370:7334'],
  network_layout: ['192.168.178.0/24', '10.20.30.1'],
  mac_address: ['2c:aa:8e:12:34:56', '2CAA8E123456'],
  device_id: ['352099001761481', 'SN-8812-XK-0043'],
  device_model: ['WYZEC1-JZ', 'iPhone12,1'],
  firmware_version: ['4.9.6.156', 'v2.10.3-beta'],
  device_name: ["Baby's Room", 'Garage Cam'],
  activity_time: ['2019-12-04T10:31:00Z', 1575455460, 1575455460123],
  geolocation: ['52.520008, 13.404954', 52.520008],
  health_metric: [72.5, 181, '23.4'],
  gender: ['female', 'M'],
};

/** Categories whose mask keeps a coarse prefix: two IP octets, the OUI half, a year, degrees. */
const coarsePrefix = new Set<Category>([
  'ip_address',
  'network_layout',
  'mac_address',
  'activity_time',
  'geolocation',
  'firmware_version',
]);

describe('maskValue', () => {
  const cases = Object.entries(samples).flatMap(([category, values]) =>
    values.map((value) => [category as Category, value] as const),
  );

  it('covers every category', () => {
    expect(Object.keys(samples).sort()).toEqual(Object.keys(categorySensitivity).sort());
  });

  it.each(cases)(
    '%s: never contains the raw value, nor more than a few raw characters',
    (category, value) => {
      const raw = String(value);
      const masked = maskValue(category, value);
      expect(masked).not.toContain(raw);
      // No run of 5+ characters of the value survives unless it is a public vendor prefix or armour.
      const plain = masked.replace(
        /^(-----BEGIN [A-Z ]+-----|Atza\||ya29\.|gho_|AKIA|sk_live_|xoxb-|\$2b\$)/,
        '',
      );
      // Every mask shows at most 6 letters or digits of the value (`[length]` and `/prefix` aside).
      expect(plain.replace(/\[\d+\]|\/\d+$/g, '').replace(/[^0-9a-z]/gi, '').length).toBeLessThanOrEqual(6);
      // Network addresses, times and coordinates keep a coarse prefix by design; the rest no run.
      if (coarsePrefix.has(category)) return;
      for (let i = 0; i + 5 <= raw.length; i++) {
        const piece = raw.slice(i, i + 5);
        if (/^[*.\s:-]+$/.test(piece)) continue;
        expect(plain.includes(piece), `"${masked}" holds "${piece}"`).toBe(false);
      }
      expect(masked.length).toBeLessThanOrEqual(64);
    },
  );

  it('has the shapes the report promises', () => {
    expect(maskValue('email', 'john.doe@example.com')).toBe('j***@e***.com');
    expect(maskValue('oauth_token', `Atza|${'a'.repeat(407)}`)).toBe('Atza|…[412]');
    expect(maskValue('oauth_token', `ya29.${'b'.repeat(175)}`)).toBe('ya29.…[180]');
    expect(maskValue('phone', '+1 415 555 2671')).toBe('+1 *** *** **71');
    expect(maskValue('payment_card', '4111 1111 1111 1234')).toBe('**** **** **** **34');
    expect(maskValue('ip_address', '192.168.1.20')).toBe('192.168.*.*');
    expect(maskValue('network_layout', '192.168.1.0/24')).toBe('192.168.*.*/24');
    expect(maskValue('mac_address', 'AA:BB:CC:DD:EE:FF')).toBe('aa:bb:**:**:**:**');
    expect(maskValue('person_name', 'Johanna')).toBe('J***');
    expect(maskValue('health_metric', 72.5)).toBe('**.*');
    expect(maskValue('firmware_version', '4.9.6.156')).toBe('4.*.*.*');
    expect(maskValue('api_token', 'abcdef0123456789abcdef')).toBe('…[22]');
    expect(maskValue('activity_time', 1575455460)).toBe('2019-**-**');
  });

  it('shows no control or markup characters from the value', () => {
    expect(maskValue('username', '\u001b[31mroot')).toBe('****');
    expect(maskValue('device_name', '<script>')).toBe('****');
  });
});
