import { describe, expect, it } from 'vitest';
import { decodeJwtHeader } from './decode-jwt-header.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('decodeJwtHeader', () => {
  it('returns the header of a JWS with alg', () => {
    expect(decodeJwtHeader(`${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: '1' })}.sig`)).toEqual({
      alg: 'HS256',
      typ: 'JWT',
    });
  });
  it('rejects headers without a string alg, non-objects, bad base64url and oversized headers', () => {
    expect(decodeJwtHeader(`${b64({ typ: 'JWT' })}.x.y`)).toBeUndefined();
    expect(decodeJwtHeader(`${b64({ alg: 1 })}.x.y`)).toBeUndefined();
    expect(decodeJwtHeader(`${b64(['alg'])}.x.y`)).toBeUndefined();
    expect(decodeJwtHeader(`${b64('alg')}.x.y`)).toBeUndefined();
    expect(decodeJwtHeader('eyJ+/=.x.y')).toBeUndefined();
    expect(decodeJwtHeader('nodots')).toBeUndefined();
    expect(decodeJwtHeader(`${b64({ alg: 'HS256', pad: 'a'.repeat(3000) })}.x.y`)).toBeUndefined();
  });
});
