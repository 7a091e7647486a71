import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { formatHostPort, parseTarget } from './parse-target.js';

describe('parseTarget', () => {
  it('parses a full protocol URL and keeps credentials out of the display form', () => {
    expect(parseTarget('postgres://alice:s3cr%40t@db.internal:5433/app')).toEqual({
      display: 'postgres://db.internal:5433/app',
      protocol: 'postgres',
      host: 'db.internal',
      port: 5433,
      path: 'app',
      username: 'alice',
      password: 's3cr@t',
    });
  });

  it('shows redis://:pw@host as redis://host', () => {
    const spec = parseTarget('redis://:pw@127.0.0.1');
    expect(spec.display).toBe('redis://127.0.0.1');
    expect(spec.password).toBe('pw');
    expect(spec.username).toBeUndefined();
  });

  it('maps aliases onto their connector', () => {
    expect(parseTarget('opensearch://127.0.0.1').protocol).toBe('elasticsearch');
    expect(parseTarget('postgresql://127.0.0.1').protocol).toBe('postgres');
    expect(parseTarget('MariaDB://127.0.0.1').protocol).toBe('mysql');
  });

  it('parses bare hosts, host:port and IPv6 forms without a protocol', () => {
    expect(parseTarget('127.0.0.1')).toEqual({ display: '127.0.0.1', host: '127.0.0.1' });
    expect(parseTarget('localhost:6380')).toEqual({
      display: 'localhost:6380',
      host: 'localhost',
      port: 6380,
    });
    expect(parseTarget('[::1]:9200')).toEqual({ display: '[::1]:9200', host: '::1', port: 9200 });
    expect(parseTarget('::1')).toEqual({ display: '::1', host: '::1' });
    expect(parseTarget('redis://[::1]:6379').host).toBe('::1');
  });

  it('parses bare CIDRs', () => {
    expect(parseTarget('127.0.0.0/30')).toEqual({
      display: '127.0.0.0/30',
      host: '127.0.0.0',
      prefixLength: 30,
    });
    expect(parseTarget('::1/128').prefixLength).toBe(128);
  });

  it.each([
    ['', 'empty target'],
    ['foo://127.0.0.1', 'unknown protocol "foo"'],
    ['redis://127.0.0.1:70000', 'invalid port'],
    ['127.0.0.1:0', 'invalid port'],
    ['127.0.0.1/33', 'prefix length'],
    ['db.example/44', 'needs an IP address'],
    ['host/path', 'needs a protocol'],
    ['redis://', 'has no host'],
    ['redis://bad_host!', 'neither an IP address nor a host name'],
    ['[::1', 'unclosed'],
  ])('rejects %j with a message that says what to fix', (input, message) => {
    expect(() => parseTarget(input)).toThrow(UsageError);
    expect(() => parseTarget(input)).toThrow(message);
  });

  it('takes a password with an unencoded / as a password, and never shows it', () => {
    const spec = parseTarget('s3://AKIAEXAMPLE:abc/def+ghi@127.0.0.1:9000/exports');
    expect(spec).toMatchObject({
      display: 's3://127.0.0.1:9000/exports',
      host: '127.0.0.1',
      port: 9000,
      path: 'exports',
      username: 'AKIAEXAMPLE',
      password: 'abc/def+ghi',
    });
    // A path holding @ is still a path.
    expect(parseTarget('http://127.0.0.1:8080/files/a@b').path).toBe('files/a@b');
    expect(parseTarget('http://127.0.0.1/a@b').display).toBe('http://127.0.0.1/a@b');
  });

  it('never echoes a password in an error message', () => {
    expect(() => parseTarget('s3://KEY:abc/def@bad_host!:9000')).toThrow(/^(?!.*abc\/def)/);
    expect(() => parseTarget('redis://:hunter2@127.0.0.1:99999')).toThrow(/^(?!.*hunter2)/);
  });
});

describe('formatHostPort', () => {
  it('brackets IPv6 only', () => {
    expect(formatHostPort('::1', 80)).toBe('[::1]:80');
    expect(formatHostPort('127.0.0.1', 80)).toBe('127.0.0.1:80');
  });
});
