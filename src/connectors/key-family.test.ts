import { describe, expect, it } from 'vitest';
import { keyFamily, topicFamily } from './key-family.js';

describe('keyFamily', () => {
  it.each([
    ['user:1234:token', 'user:*:token'],
    ['user:1234', 'user:*'],
    ['session:9f8e7d6c5b4a3f21', 'session:*'],
    ['session:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b', 'session:*'],
    ['cache.user.42', 'cache.user.*'],
    ['login:john.doe@example.com:attempts', 'login:*:attempts'],
    ['device:AA:BB:CC:DD:EE:FF:state', 'device:*:state'],
    ['net:10.0.0.1', 'net:*'],
    ['order_20191204', 'order_*'],
    ['stats:2019-12-04', 'stats:*-*-*'],
    ['user1234:profile', 'user*:profile'],
    ['tok:V1StGXR8Z5jdHi6BmyT', 'tok:*'],
    ['queue:emails', 'queue:emails'],
    ['codec:h264', 'codec:h264'],
    ['counter', 'counter'],
    ['deadbeef:config', 'deadbeef:config'],
    ['{user1000}.following', '{user*}.following'],
  ])('%s → %s', (key, family) => {
    expect(keyFamily(key)).toBe(family);
  });

  it('caps very long keys and stays linear on adversarial input', () => {
    const long = `a:${'1@'.repeat(200_000)}`;
    const started = performance.now();
    const family = keyFamily(long);
    expect(performance.now() - started).toBeLessThan(200);
    expect(family.length).toBeLessThanOrEqual(520);
  });
});

describe('topicFamily', () => {
  it.each([
    ['home/1234/state', 'home/*/state'],
    ['devices/5c:cf:7f:01:02:03/wifi', 'devices/*/wifi'],
    ['scale/beta/weight', 'scale/beta/weight'],
    ['cams/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/motion', 'cams/*/motion'],
    ['a:b/12', 'a:b/*'],
  ])('%s → %s', (topic, family) => {
    expect(topicFamily(topic)).toBe(family);
  });
});
