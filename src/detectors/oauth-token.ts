import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';
import { shannonEntropy } from './shannon-entropy.js';

// Login with Amazon access tokens start `Atza|`, refresh tokens `Atzr|` (Login with Amazon
// developer guide, "Access Token" and "Refresh Token" responses); the rest is base64-ish, several
// hundred characters. Bounded quantifier over one class: linear.
const amazonToken = /^Atz[ar]\|[A-Za-z0-9+/=_-]{20,2048}$/;
// Google OAuth 2.0 access tokens start `ya29.`; refresh tokens `1//` (Google Identity docs, "Using
// OAuth 2.0 to Access Google APIs", token sizes). Base64url after the prefix.
const googleAccess = /^ya29\.[A-Za-z0-9_-]{20,2048}$/;
const googleRefresh = /^1\/\/0[A-Za-z0-9_-]{30,512}$/;
// GitHub OAuth (`gho_`), user-to-server (`ghu_`) and refresh (`ghr_`) tokens: prefix + 36 base62
// (GitHub docs "About authentication to GitHub", "GitHub's token formats").
const githubOauth = /^gh[our]_[A-Za-z0-9]{36,251}$/;

/** Prefix checks before any regex: most values fail on the first character. */
export function vendorOAuthConfidence(value: string): number {
  const c = value.charCodeAt(0);
  if (c === 65 /* A */) return amazonToken.test(value) ? 0.99 : 0;
  if (c === 121 /* y */) return googleAccess.test(value) ? 0.98 : 0;
  if (c === 49 /* 1 */) return googleRefresh.test(value) ? 0.9 : 0;
  if (c === 103 /* g */) return githubOauth.test(value) ? 0.98 : 0;
  return 0;
}

const oauthWords = new FieldWordSet([
  'oauth',
  'alexa',
  'lwa',
  'refresh',
  'amazon',
  'google',
  'github',
  'facebook',
]);
const tokenWords = new FieldWordSet(['token', 'tokens', 'accesstoken', 'refreshtoken']);
const tokenShape = /^[A-Za-z0-9+/=_.|~-]{20,4096}$/;

function matchOAuthToken(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string' || value.length < 20 || value.length > 4096) return 0;
  const vendor = vendorOAuthConfidence(value);
  if (vendor > 0) return vendor;
  // An opaque token of a third party: stored under an integration's name (`alexa.refresh_token`).
  if (!oauthWords.inPath(field) || !tokenWords.inPath(field)) return 0;
  if (!tokenShape.test(value) || shannonEntropy(value) < 3.5) return 0;
  return 0.75;
}

export const oauthTokenDetector = {
  id: 'oauth-token',
  category: 'oauth_token',
  fieldWords: ['token', 'oauth', 'alexa', 'refresh', 'access', 'integration'],
  match: matchOAuthToken,
  examples: {
    match: [
      { path: 'alexa.access_token', value: 'Atza|IwEBIJx8yQ7oQ0k1n2b3c4d5e6f7g8h9i0jKlMnOpQrStUvWxYz' },
      { path: 'integrations[].refresh', value: 'Atzr|IwEBIHk2kq8J7QwZ0c_m-AbCdEfGhIjKlMnOpQrSt' },
      { path: 'google', value: 'ya29.a0AfH6SMBx3Qk9xVn2_pLm4RtYu8IoPaSdFgHjKlZxCvBnM' },
      { path: 'gh', value: 'gho_16C7e42F292c6912E7710c838347Ae178B4a' },
      { path: 'alexa.refreshToken', value: 'q8Zt3LkP0vX9mN2bR7cY4wJ6hG1fD5sA' },
    ],
    noMatch: [
      { path: 'alexa.enabled', value: 'true' },
      { path: 'note', value: 'Atza is a prefix of Amazon tokens' },
      { path: 'token', value: 'ghp_16C7e42F292c6912E7710c838347Ae178B4a' },
      { path: 'alexa.refresh_token', value: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' },
      { path: 'model', value: 'ya29' },
    ],
  },
} as const satisfies Detector;
