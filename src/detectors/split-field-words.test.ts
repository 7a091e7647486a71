import { describe, expect, it } from 'vitest';
import { fieldContext, splitFieldWords } from './split-field-words.js';

describe('splitFieldWords', () => {
  it.each([
    ['lastLoginAt', ['last', 'login', 'at']],
    ['wifi_ssid', ['wifi', 'ssid']],
    ['userIPAddress', ['user', 'ip', 'address']],
    ['UserID', ['user', 'id']],
    ['getHTTPResponseCode', ['get', 'http', 'response', 'code']],
    ['IPs', ['ips']],
    ['ipv4', ['ipv4']],
    ['IPv4Addr', ['ipv4', 'addr']],
    ['sha256_hash', ['sha256', 'hash']],
    ['address2', ['address', '2']],
    ['addressLine1', ['address', 'line', '1']],
    ['2fa_secret', ['2', 'fa', 'secret']],
    ['body-fat.pct', ['body', 'fat', 'pct']],
    ['E-mail Address', ['e', 'mail', 'address']],
    ['  __x__  ', ['x']],
    ['SSN', ['ssn']],
    ['ssid', ['ssid']],
    ['fw_ver', ['fw', 'ver']],
    ['Straße', ['straße']],
    ['', []],
    ['[]', []],
  ])('%s', (key, words) => {
    expect(splitFieldWords(key)).toEqual(words);
  });

  it('never yields a word that is a substring match of another key (ssid vs ssn)', () => {
    expect(splitFieldWords('wifiSsid')).not.toContain('ssn');
    expect(splitFieldWords('ssn_last4')).toEqual(['ssn', 'last', '4']);
  });

  it('is linear on long keys', () => {
    const key = 'aB1_'.repeat(50_000);
    const t = performance.now();
    expect(splitFieldWords(key).length).toBeGreaterThan(0);
    expect(performance.now() - t).toBeLessThan(200);
  });
});

describe('fieldContext', () => {
  it('drops array steps and uses the last key for keyWords', () => {
    expect(fieldContext('cams[].mac')).toEqual({
      path: 'cams[].mac',
      keyWords: ['mac'],
      pathWords: ['cams', 'cam', 'mac'],
    });
    expect(fieldContext('home.net.ssid').pathWords).toEqual(['home', 'net', 'ssid']);
    expect(fieldContext('emails[]').keyWords).toEqual(['emails', 'email']);
  });

  it('splits Redis key families on : and #', () => {
    const f = fieldContext('user:*:token#accessToken');
    expect(f.keyWords).toEqual(['access', 'token']);
    expect(f.pathWords).toEqual(['user', 'token', 'access', 'token']);
    expect(fieldContext('session:*').keyWords).toEqual(['session']);
  });

  it('keeps CSV column names whole', () => {
    expect(fieldContext('Last Login At').keyWords).toEqual(['last', 'login', 'at']);
  });

  it('does not singularise -ss, -us, -is words', () => {
    expect(fieldContext('address').keyWords).toEqual(['address']);
    expect(fieldContext('status').keyWords).toEqual(['status']);
  });
});
